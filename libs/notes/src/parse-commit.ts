import { CommitParser } from 'conventional-commits-parser';

/**
 * One commit as `git log` gives it. Pass the raw `message` (`%B`) when there is one: the subject is
 * its first line and the rest is parsed as conventional-commits-parser does, footers included even
 * without a blank line before them. Without it, `subject` and `body` are joined by a blank line.
 */
export interface CommitInput {
  sha: string;
  subject: string;
  body?: string | undefined;
  message?: string | undefined;
}

export type ChangeGroup = 'breaking' | 'features' | 'fixes' | 'other';

export interface ParsedCommit {
  sha: string;
  /** Lower-cased conventional type (`feat`, `fix`, `chore`…); undefined when the header isn't conventional. */
  type: string | undefined;
  scope: string | undefined;
  /** The description without `type(scope):` and without a trailing `(#123)`. */
  subject: string;
  /** The header as written (for a GitHub merge commit: the PR title line when present). */
  header: string;
  body: string | undefined;
  breaking: boolean;
  /** Texts of `BREAKING CHANGE:` / `BREAKING-CHANGE:` footers (not the `!` subject itself). */
  breakingNotes: string[];
  /** Pull request number from a trailing `(#123)` or from `Merge pull request #123 from …`. */
  pr: number | undefined;
  merge: boolean;
  revert: { header: string; sha: string | undefined } | undefined;
  group: ChangeGroup;
}

const HEADER = /^(\w+)(?:\(([^()\r\n]*)\))?: (.+)$/;
const BREAKING_HEADER = /^(\w+)(?:\(([^()\r\n]*)\))?!: (.+)$/;
const PR_SUFFIX = /\s*\(#(\d+)\)\s*$/;
const MERGE_LINE = /^Merge (?:pull request|branch|remote-tracking branch|tag) /;

// One parser per module: CommitParser.parse resets its state on every call and is synchronous.
const parser = new CommitParser({
  headerPattern: HEADER,
  breakingHeaderPattern: BREAKING_HEADER,
  headerCorrespondence: ['type', 'scope', 'subject'],
  mergePattern: /^Merge pull request #(\d+) from (\S+).*$/,
  mergeCorrespondence: ['mergePr', 'mergeSource'],
  // The spec wants `BREAKING CHANGE` upper-case and followed by `: `; the parser's default is
  // case-insensitive and colon-optional, which turns prose like "breaking change handling" into a major bump.
  notesPattern: (keywords) => new RegExp(`^[\\s|*]*(${keywords}):\\s*(.*)`),
});

const BREAKING_TITLES = new Set(['BREAKING CHANGE', 'BREAKING-CHANGE']);

export function parseCommit(input: CommitInput): ParsedCommit {
  let subjectLine: string;
  let message: string;
  if (input.message !== undefined) {
    // Leading blank lines are not part of a message git would write; the header is the first line.
    message = input.message.replace(/^\s*\n/, '').trimEnd();
    subjectLine = (message.split('\n', 1)[0] ?? '').trim();
  } else {
    subjectLine = input.subject.trim();
    const body = input.body?.trim() ? input.body.trim() : undefined;
    message = body ? `${subjectLine}\n\n${body}` : subjectLine;
  }
  if (!message) {
    return emptyCommit(input.sha);
  }

  const raw = parser.parse(message);
  const str = (key: string): string | undefined => {
    const value = raw[key];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };

  const header = raw.header ?? raw.merge ?? subjectLine;
  const type = str('type')?.toLowerCase();
  const scope = str('scope')?.trim() || undefined;
  let subject = type ? (str('subject') ?? header) : header;

  let pr: number | undefined;
  const mergePr = str('mergePr');
  if (mergePr) pr = Number(mergePr);
  const suffix = PR_SUFFIX.exec(subject);
  if (suffix) {
    pr ??= Number(suffix[1]);
    subject = subject.slice(0, suffix.index);
  }

  const breakingNotes = raw.notes
    .filter((note) => BREAKING_TITLES.has(note.title))
    .map((note) => note.text.trim())
    // The parser records a `!` header as a note whose text is the subject; that is not a footer.
    .filter((text) => text !== '' && text !== str('subject'));
  const breaking = BREAKING_HEADER.test(header) || breakingNotes.length > 0;

  const revert = raw.revert
    ? { header: raw.revert['header'] ?? '', sha: raw.revert['hash'] ?? undefined }
    : undefined;

  return {
    sha: input.sha,
    type,
    scope,
    subject: subject.trim(),
    header: header.replace(PR_SUFFIX, ''),
    body: raw.body?.trim() ? raw.body.trim() : undefined,
    breaking,
    breakingNotes,
    pr,
    merge: raw.merge !== null || MERGE_LINE.test(subjectLine),
    revert,
    group: breaking ? 'breaking' : type === 'feat' ? 'features' : type === 'fix' ? 'fixes' : 'other',
  };
}

function emptyCommit(sha: string): ParsedCommit {
  return {
    sha,
    type: undefined,
    scope: undefined,
    subject: '',
    header: '',
    body: undefined,
    breaking: false,
    breakingNotes: [],
    pr: undefined,
    merge: false,
    revert: undefined,
    group: 'other',
  };
}
