import { ChangelogError } from './errors.js';

/** A pure file edit in the style of release-please's `Updater`: the old content (or undefined) in, the new out. */
export type Updater = (content: string | undefined) => string;

const DEFAULT_TITLE = '# Changelog';
const SECTION = /^#{2,3}\s/;
const FENCE = /^\s*(```|~~~)/;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** True when a `##`/`###` heading names this exact version (`1.2.3` but not `1.2.3-rc.1` or `11.2.3`). */
function headingNames(line: string, version: string): boolean {
  if (!SECTION.test(line)) return false;
  return new RegExp(`(?<![\\w.+-])v?${escapeRegExp(version)}(?![\\w.+-])`).test(line);
}

/** Indexes of lines outside fenced code blocks, so a quoted `## 1.0.0` in an example doesn't count. */
function proseLines(lines: readonly string[]): number[] {
  const out: number[] = [];
  let fenced = false;
  lines.forEach((line, index) => {
    if (FENCE.test(line)) fenced = !fenced;
    else if (!fenced) out.push(index);
  });
  return out;
}

/**
 * Per-service `CHANGELOG.md`: puts `notes` (a rendered section starting with a `##` heading) above the
 * newest existing section, below the title and any intro text. Creates `# Changelog` when the file is
 * missing or blank.
 *
 * Idempotent: when a `##`/`###` heading already names `version`, the content is returned unchanged —
 * a released version's section is history, and re-running a release (possibly on another day, with
 * another date in the heading) must not rewrite it.
 */
export function prependChangelog(options: { version: string; notes: string; title?: string }): Updater {
  const section = options.notes.replace(/\r\n/g, '\n').trim();
  return (content) => {
    if (content === undefined || content.trim() === '') {
      return `${options.title ?? DEFAULT_TITLE}\n\n${section}\n`;
    }
    const newline = content.includes('\r\n') ? '\r\n' : '\n';
    const lines = content.split(/\r?\n/);
    const prose = proseLines(lines);
    if (prose.some((i) => headingNames(lines[i] ?? '', options.version))) return content;

    const firstSection = prose.find((i) => SECTION.test(lines[i] ?? ''));
    const hasTitle = prose.some((i) => /^#\s/.test(lines[i] ?? '') && (firstSection === undefined || i < firstSection));
    // No sections yet: after the title block if there is one, otherwise at the very top.
    const at = firstSection ?? (hasTitle ? lines.length : 0);

    const before = lines.slice(0, at).join('\n').trimEnd();
    const after = lines.slice(at).join('\n').trim();
    const parts = [before, section, after].filter((part) => part !== '');
    return `${parts.join('\n\n')}\n`.replace(/\n/g, newline);
  };
}

export const DEFAULT_CHANGELOG_DIR = 'docs/development/CHANGELOGS';

const VERSION = /^v?(\d+\.\d+\.\d+)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/** `X.Y.Z` of a version, prerelease and build dropped: `1.2.3-staging.4` → `1.2.3`. */
function baseVersion(version: string): string {
  const match = VERSION.exec(version.trim());
  if (!match?.[1]) {
    throw new ChangelogError('E_CHANGELOG_VERSION', `"${version}" is not a semantic version (X.Y.Z)`, { version });
  }
  return match[1];
}

/**
 * The per-version changelog file (seed 002): staging prereleases `X.Y.Z-staging.N` and the final
 * `X.Y.Z` both read `docs/development/CHANGELOGS/X.Y.Z.md`.
 */
export function changelogPathFor(version: string, options: { dir?: string } = {}): string {
  const dir = (options.dir ?? DEFAULT_CHANGELOG_DIR).replace(/\/+$/, '');
  return `${dir}/${baseVersion(version)}.md`;
}

/**
 * The GitHub release body from a per-version changelog file: CRLF normalised, HTML comments (template
 * placeholders) and a leading `# …` title removed (the release has its own title), trimmed.
 * Throws `ChangelogError` (exit 2) when the file is missing or says nothing.
 */
export function readVersionChangelog(content: string | undefined, options: { version: string; path?: string }): string {
  const path = options.path ?? changelogPathFor(options.version);
  if (content === undefined) {
    throw new ChangelogError('E_CHANGELOG_MISSING', `changelog ${path} for ${options.version} does not exist`, {
      version: options.version,
      path,
    });
  }
  const body = content
    .replace(/\r\n/g, '\n')
    .replace(/<!--[\s\S]*?-->/g, '')
    .trim()
    .replace(/^#\s[^\n]*\n*/, '')
    .trim();
  if (body === '') {
    throw new ChangelogError('E_CHANGELOG_EMPTY', `changelog ${path} for ${options.version} has no notes`, {
      version: options.version,
      path,
    });
  }
  return `${body}\n`;
}

/**
 * Creates the per-version file when it is missing or blank (the bump step of seed 002) and leaves a file
 * with any content alone — people edit it as work lands. Without `notes` the seed is a placeholder that
 * `readVersionChangelog` treats as empty, so a release can't go out with an unwritten changelog.
 */
export function seedVersionChangelog(options: { version: string; notes?: string }): Updater {
  const version = baseVersion(options.version);
  return (content) => {
    if (content !== undefined && content.trim() !== '') return content;
    const notes = options.notes?.trim() || `<!-- Notes for ${version}: add an entry here as work lands. -->`;
    return `# ${version}\n\n${notes}\n`;
  };
}
