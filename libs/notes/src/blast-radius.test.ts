import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { blastRadius, renderBlastRadiusTable } from './blast-radius.js';
import type { BlastCommitInput } from './blast-radius.js';

const golden = (name: string) => readFileSync(new URL(`../test/fixtures/${name}`, import.meta.url), 'utf8');
const sha = (digit: string) => digit.repeat(40);

// Roots as the caller resolves them from the Nx graph: each service's project plus the libs it depends on.
const services = [
  { name: 'api', roots: ['apps/api', 'libs/shared/', './libs/db'] },
  { name: 'vault', roots: ['apps/vault'] },
  { name: 'web', roots: ['apps/web', 'libs/shared'] },
];

const commits: BlastCommitInput[] = [
  { sha: sha('1'), subject: 'feat(api): paginate releases (#50)', files: ['apps/api/src/releases.ts'] },
  { sha: sha('2'), subject: 'ci: cache npm', files: ['.github/workflows/ci.yml'] },
  { sha: sha('3'), subject: 'feat(shared)!: rename the session cookie', files: ['libs/shared/src/cookie.ts', 'libs/shared/README.md'] },
  { sha: sha('4'), subject: 'fix(vault): close idle sockets', files: ['apps/vault/src/server.ts'] },
  { sha: sha('5'), subject: 'fix(db): index tags', files: ['libs/db/src/schema.ts'] },
  { sha: sha('6'), subject: 'feat(web): dark mode', files: ['apps/web/src/theme.css', 'apps/webhooks/README.md'] },
];

describe('blastRadius', () => {
  const result = blastRadius({ deployed: 'api/v1.2.2', target: '9f8e7d6c5b4a39281706f5e4d3c2b1a098765432', commits, services });

  it('attributes a shared lib change to both services that depend on it', () => {
    const shared = result.commits.find((c) => c.sha === sha('3'));
    expect(shared?.services).toEqual(['api', 'web']);
    expect(result.services.map((s) => [s.name, s.commits])).toEqual([
      ['api', [sha('1'), sha('3'), sha('5')]],
      ['vault', [sha('4')]],
      ['web', [sha('3'), sha('6')]],
    ]);
  });

  it('matches whole path segments: apps/webhooks is not under apps/web', () => {
    expect(result.commits.find((c) => c.sha === sha('6'))?.services).toEqual(['web']);
    expect(blastRadius({ deployed: null, target: 'x', services, commits: [{ sha: 'y', subject: 'z', files: ['apps/webhooks/a'] }] }).unattributed).toEqual(['y']);
  });

  it('lists commits that touch no service', () => {
    expect(result.unattributed).toEqual([sha('2')]);
  });

  it('renders an aligned markdown table (golden)', () => {
    expect(renderBlastRadiusTable(result)).toBe(golden('blast-radius.md'));
  });

  it('renders plain columns for a terminal, and a range that starts at nothing deployed', () => {
    const first = blastRadius({ deployed: null, target: 'abc1234', commits: commits.slice(3, 4), services });
    expect(renderBlastRadiusTable(first, { format: 'plain' })).toBe(
      [
        'Blast radius (nothing deployed)..abc1234: 1 commit, 1 of 3 services touched',
        '',
        'SERVICE  COMMITS  BREAKING  FEATURES  FIXES',
        'api            0         0         0      0',
        'vault          1         0         0      1',
        'web            0         0         0      0',
        '',
      ].join('\n'),
    );
  });

  it('a root of "." covers the whole repository', () => {
    const all = blastRadius({ deployed: 'v1.0', target: 'abc', commits, services: [{ name: 'mono', roots: ['.'] }] });
    expect(all.services[0]?.commits).toHaveLength(commits.length);
    expect(all.unattributed).toEqual([]);
  });
});
