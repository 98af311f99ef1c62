import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { commits } from '../test/fixtures/commits-api-1.3.0.js';
import { renderNotes } from './render-notes.js';

const golden = (name: string) => readFileSync(new URL(`../test/fixtures/${name}`, import.meta.url), 'utf8');

describe('renderNotes', () => {
  it('renders a range with breaking changes, PR links and a compare link (golden)', () => {
    const notes = renderNotes({
      service: 'api',
      version: '1.3.0',
      previousTag: 'api/v1.2.2',
      tag: 'api/v1.3.0',
      commits,
      repository: 'acme/platform',
      date: new Date('2026-11-21T23:30:00Z'),
    });
    expect(notes).toBe(golden('notes-api-1.3.0.md'));
  });

  it('without a repository: plain PR numbers and short SHAs, no links', () => {
    const notes = renderNotes({ version: '1.3.0', tag: 'v1.3.0', previousTag: 'v1.2.2', commits: commits.slice(1, 5), date: '2026-11-21' });
    expect(notes).toBe(
      [
        '## 1.3.0 (2026-11-21)',
        '',
        '### Features',
        '',
        '- add --json to status (#39)',
        '',
        '### Bug fixes',
        '',
        '- **api:** retry on 503 from the registry (#40)',
        '- **vault:** raise the unseal timeout (#38)',
        '',
        '### Other changes',
        '',
        '- docs: explain promotion gates (a1b2c3d)',
        '',
      ].join('\n'),
    );
    expect(notes).not.toContain('http');
  });

  it('links the first release to the commits up to its tag and says when nothing changed', () => {
    const notes = renderNotes({ service: 'vault', version: '0.1.0', tag: 'vault/v0.1.0', commits: [], repository: 'acme/platform', date: '2026-01-02' });
    expect(notes).toBe('## vault 0.1.0 (2026-01-02)\n\nNo changes.\n\n**Full Changelog**: https://github.com/acme/platform/commits/vault/v0.1.0\n');
  });

  it('keeps slashes in compare refs and encodes what a URL path cannot carry', () => {
    const notes = renderNotes({
      version: '2.0.0',
      tag: 'web/v2.0.0+build 7',
      previousTag: 'web/v1.9.0',
      commits: [],
      repositoryUrl: 'https://git.example.com/acme/platform/',
      date: '2026-01-02',
    });
    expect(notes).toContain('No changes since web/v1.9.0.');
    expect(notes).toContain('https://git.example.com/acme/platform/compare/web/v1.9.0...web/v2.0.0%2Bbuild%207\n');
  });
});
