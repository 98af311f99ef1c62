import type { CommitInfo } from './types.js';

const RS = '\x1e';
const US = '\x1f';

/** `%x1e` starts a record, `%x1f` separates fields and closes the body; `-z` NUL-separates the file names that follow. */
export const LOG_FORMAT = `${['%x1e%H', '%P', '%an', '%ae', '%aI', '%s', '%b'].join('%x1f')}%x1f`;

export function parseLog(stdout: string): CommitInfo[] {
  const commits: CommitInfo[] = [];
  for (const record of stdout.split(RS)) {
    if (record === '') continue;
    const end = record.lastIndexOf(US);
    const [sha = '', parents = '', name = '', email = '', date = '', subject = '', ...bodyParts] = record.slice(0, end).split(US);
    const files = record
      .slice(end + 1)
      .split('\0')
      .map((f) => f.replace(/^\n/, ''))
      .filter((f) => f !== '');
    commits.push({
      sha,
      parents: parents === '' ? [] : parents.split(' '),
      subject,
      body: bodyParts.join(US).replace(/\n+$/, ''),
      author: { name, email },
      date,
      files,
    });
  }
  return commits;
}
