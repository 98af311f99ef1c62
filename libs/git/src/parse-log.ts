import type { CommitInfo } from './types.js';

const RS = '\x1e';
const US = '\x1f';

/**
 * `%x1e` starts a record, `%x1f` separates fields and closes the message; `-z` NUL-separates the
 * file names that follow. The message is read raw (`%B`): `%s` joins the whole first paragraph into
 * one line, which glues `fix(a): x⏎fix(b): y` into one subject and hides a footer written without
 * a blank line before it.
 */
export const LOG_FORMAT = `${['%x1e%H', '%P', '%an', '%ae', '%aI', '%ct', '%B'].join('%x1f')}%x1f`;

export function parseLog(stdout: string): CommitInfo[] {
  const commits: CommitInfo[] = [];
  for (const record of stdout.split(RS)) {
    if (record === '') continue;
    const end = record.lastIndexOf(US);
    const [sha = '', parents = '', name = '', email = '', date = '', committed = '', ...messageParts] = record.slice(0, end).split(US);
    const message = messageParts.join(US).replace(/\s+$/, '');
    const newline = message.indexOf('\n');
    const files = record
      .slice(end + 1)
      .split('\0')
      .map((f) => f.replace(/^\n/, ''))
      .filter((f) => f !== '');
    commits.push({
      sha,
      parents: parents === '' ? [] : parents.split(' '),
      subject: newline < 0 ? message : message.slice(0, newline),
      body: newline < 0 ? '' : message.slice(newline + 1).replace(/^\s*\n/, ''),
      message,
      author: { name, email },
      date,
      commitTime: Number(committed),
      files,
    });
  }
  return commits;
}
