import { CHANGE_GROUPS, groupCommits } from './group-commits.js';
import { compareUrl, encodeRef, shortSha, webBase } from './links.js';
import { parseCommit } from './parse-commit.js';
import type { ChangeGroup, CommitInput, ParsedCommit } from './parse-commit.js';

export interface NotesInput {
  /** Shown in the heading (`## api 1.2.3 (…)`); omit for a single-service repository. */
  service?: string | undefined;
  version: string;
  /** The release tag these notes are for. */
  tag: string;
  /** The previous release tag; without it the footer links to the commits up to `tag`. */
  previousTag?: string | undefined;
  /** Commits in `previousTag..tag`, in `git log` order (newest first); that order is kept. */
  commits: readonly CommitInput[];
  /** GitHub `owner/name`; enables PR, commit and compare links. */
  repository?: string | undefined;
  /** Web URL of the repository when it isn't github.com/<repository> (GitHub Enterprise). */
  repositoryUrl?: string | undefined;
  /** The release date. A Date is shown as its UTC `YYYY-MM-DD`; a string verbatim. */
  date: string | Date;
}

const GROUP_TITLES: Record<ChangeGroup, string> = {
  breaking: 'Breaking changes',
  features: 'Features',
  fixes: 'Bug fixes',
  other: 'Other changes',
};

/** Markdown release notes: heading, one section per non-empty group, and a full-changelog link. */
export function renderNotes(input: NotesInput): string {
  const base = webBase(input);
  const date = typeof input.date === 'string' ? input.date : input.date.toISOString().slice(0, 10);
  const title = input.service ? `${input.service} ${input.version}` : input.version;
  const out: string[] = [`## ${title} (${date})`, ''];

  const groups = groupCommits(input.commits.map(parseCommit));
  if (input.commits.length === 0) {
    out.push(input.previousTag ? `No changes since ${input.previousTag}.` : 'No changes.', '');
  }
  for (const group of CHANGE_GROUPS) {
    const commits = groups[group];
    if (commits.length === 0) continue;
    out.push(`### ${GROUP_TITLES[group]}`, '');
    for (const commit of commits) out.push(...renderEntry(commit, group, base));
    out.push('');
  }

  if (base) {
    const link = input.previousTag
      ? compareUrl(base, input.previousTag, input.tag)
      : `${base}/commits/${encodeRef(input.tag)}`;
    out.push(`**Full Changelog**: ${link}`, '');
  }
  return out.join('\n');
}

function renderEntry(commit: ParsedCommit, group: ChangeGroup, base: string | undefined): string[] {
  // "Other" keeps the type visible (`docs: …`, `chore(deps): …`); the named groups already say it.
  const text =
    group === 'other' || !commit.type
      ? commit.header || commit.subject
      : commit.scope
        ? `**${commit.scope}:** ${commit.subject}`
        : commit.subject;
  const lines = [`- ${text} (${reference(commit, base)})`];
  if (group === 'breaking') {
    for (const note of commit.breakingNotes) {
      lines.push('', ...note.split('\n').map((line) => (line.trim() ? `  ${line}` : '')));
    }
  }
  return lines;
}

function reference(commit: ParsedCommit, base: string | undefined): string {
  if (commit.pr !== undefined) {
    return base ? `[#${commit.pr}](${base}/pull/${commit.pr})` : `#${commit.pr}`;
  }
  const sha = shortSha(commit.sha);
  return base ? `[${sha}](${base}/commit/${commit.sha})` : sha;
}
