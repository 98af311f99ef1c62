import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { changelogPathFor, prependChangelog, readVersionChangelog, seedVersionChangelog } from './changelog.js';
import { ChangelogError } from './errors.js';
import { renderNotes } from './render-notes.js';

const golden = (name: string) => readFileSync(new URL(`../test/fixtures/${name}`, import.meta.url), 'utf8');

const notes130 = renderNotes({
  service: 'api',
  version: '1.3.0',
  tag: 'api/v1.3.0',
  previousTag: 'api/v1.2.2',
  commits: [{ sha: '3333333333333333333333333333333333333333', subject: 'feat: add --json to status (#39)' }],
  repository: 'acme/platform',
  date: '2026-11-21',
});

describe('prependChangelog (per-service CHANGELOG.md)', () => {
  const update = prependChangelog({ version: '1.3.0', notes: notes130 });

  it('puts the new section above the newest one, below the title and intro (golden)', () => {
    expect(update(golden('CHANGELOG.before.md'))).toBe(golden('CHANGELOG.after.md'));
  });

  it('is idempotent: a version already present leaves the file byte-for-byte unchanged', () => {
    const once = update(golden('CHANGELOG.before.md'));
    expect(update(once)).toBe(once);
    // Even when re-run on another day the released section is not rewritten.
    const otherDay = prependChangelog({ version: '1.3.0', notes: notes130.replace('2026-11-21', '2026-11-22') });
    expect(otherDay(once)).toBe(once);
  });

  it('does not mistake a neighbouring version for this one', () => {
    const content = '# Changelog\n\n## 1.3.0-rc.1\n\n- rc\n\n## 11.3.0\n\n- other\n';
    expect(update(content)).toBe(`# Changelog\n\n${notes130.trim()}\n\n## 1.3.0-rc.1\n\n- rc\n\n## 11.3.0\n\n- other\n`);
    expect(prependChangelog({ version: '1.3.0', notes: '## x' })('## [v1.3.0](https://x) (2026)\n')).toBe('## [v1.3.0](https://x) (2026)\n');
  });

  it.each([
    ['missing file', undefined, `# Changelog\n\n${notes130}`],
    ['blank file', '\n\n', `# Changelog\n\n${notes130}`],
    ['title only', '# History\n', `# History\n\n${notes130}`],
    ['no title, no sections', 'Some text.\n', `${notes130}\nSome text.\n`],
  ])('%s', (_name, content, expected) => {
    expect(update(content)).toBe(expected);
  });

  it('keeps CRLF line endings', () => {
    const result = prependChangelog({ version: '2.0.0', notes: '## 2.0.0\n\n- b' })('# Changelog\r\n\r\n## 1.0.0\r\n\r\n- a\r\n');
    expect(result).toBe('# Changelog\r\n\r\n## 2.0.0\r\n\r\n- b\r\n\r\n## 1.0.0\r\n\r\n- a\r\n');
  });
});

describe('per-version changelog files (docs/development/CHANGELOGS/X.Y.Z.md)', () => {
  it.each([
    ['1.2.3', 'docs/development/CHANGELOGS/1.2.3.md'],
    ['0.1.2-staging.4', 'docs/development/CHANGELOGS/0.1.2.md'],
    ['v2.0.0-rc.1+sha.abc', 'docs/development/CHANGELOGS/2.0.0.md'],
  ])('changelogPathFor(%s) → %s', (version, path) => {
    expect(changelogPathFor(version)).toBe(path);
  });

  it('takes another folder', () => {
    expect(changelogPathFor('1.0.0', { dir: 'CHANGES/' })).toBe('CHANGES/1.0.0.md');
  });

  it.each(['latest', '1.2', '1.2.3.4', ''])('refuses %j as a version (exit 2)', (version) => {
    expect(() => changelogPathFor(version)).toThrow(expect.objectContaining({ name: 'ChangelogError', code: 'E_CHANGELOG_VERSION', exitCode: 2 }));
  });

  it('seeds a missing file with a placeholder, then leaves written files alone (golden)', () => {
    const seed = seedVersionChangelog({ version: '0.1.2-staging.1' });
    const seeded = seed(undefined);
    expect(seeded).toBe('# 0.1.2\n\n<!-- Notes for 0.1.2: add an entry here as work lands. -->\n');
    const written = '# 0.1.2\n\n- Faster sidecar start.\n';
    expect(seed(written)).toBe(written);
    expect(seedVersionChangelog({ version: '0.1.2', notes: '- Seeded from commits.' })('')).toBe('# 0.1.2\n\n- Seeded from commits.\n');
  });

  it('reads the release body: title and template comments dropped', () => {
    const file = '# 0.1.2\r\n\r\n<!-- Notes for 0.1.2 -->\r\n## Highlights\r\n\r\n- Faster sidecar start.\r\n';
    expect(readVersionChangelog(file, { version: '0.1.2-staging.3' })).toBe('## Highlights\n\n- Faster sidecar start.\n');
  });

  it('refuses a missing file and an unwritten placeholder, naming the path (exit 2)', () => {
    const seeded = seedVersionChangelog({ version: '0.1.2' })(undefined);
    let error: unknown;
    try {
      readVersionChangelog(seeded, { version: '0.1.2-staging.3' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ChangelogError);
    expect(error).toMatchObject({ code: 'E_CHANGELOG_EMPTY', exitCode: 2, path: 'docs/development/CHANGELOGS/0.1.2.md', version: '0.1.2-staging.3' });
    expect(() => readVersionChangelog(undefined, { version: '0.1.2', path: 'CHANGES/0.1.2.md' })).toThrow(
      /changelog CHANGES\/0.1.2.md for 0.1.2 does not exist/,
    );
  });
});
