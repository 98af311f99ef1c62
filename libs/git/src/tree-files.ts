// A folder as it is committed, read from git's object store: `ls-tree` lists it, one
// `cat-file --batch` streams the blobs. Unlike `git archive` or a checkout, nothing on this path
// converts bytes — no core.autocrlf or eol, no export-subst, no filter drivers, no
// export-ignore — so the same commit gives the same files whoever reads it, wherever.

import { spawn } from 'node:child_process';
import { GitError } from './errors.js';
import type { GitRunner } from './run-git.js';

/** One entry below the folder's root, in the shape the layer builder's `LayerTree` port takes. */
export type TreeEntry =
  | { type: 'dir'; path: string }
  | { type: 'file'; path: string; size: number; executable: boolean }
  | { type: 'symlink'; path: string; target: string };

export type TreeFile = Extract<TreeEntry, { type: 'file' }>;

/** A folder at a commit: its entries, and its files' bytes streamed in the order asked for. */
export interface CommittedTree {
  readonly description: string;
  entries(): Promise<TreeEntry[]>;
  readFiles(files: readonly TreeFile[]): AsyncIterable<AsyncIterable<Uint8Array>>;
}

export interface TreeReaderContext {
  run: GitRunner;
  cwd: string;
  env: Record<string, string | undefined>;
}

const MODE_TREE = '040000';
const MODE_GITLINK = '160000';
const MODE_SYMLINK = '120000';
const MODE_EXECUTABLE = '100755';

/** `commit` must be a full sha; `path` is relative to the context's cwd (`.` for that folder). */
export function committedTree(context: TreeReaderContext, commit: string, path: string): CommittedTree {
  const folder = path.split('/').filter((p) => p !== '' && p !== '.').join('/');
  const spec = `${commit}:./${folder}`;
  const description = `${folder === '' ? '.' : folder} at ${commit.slice(0, 7)}`;
  // path → blob id, filled by entries(): readFiles is handed the entries it returned.
  const oids = new Map<string, string>();

  return {
    description,
    async entries() {
      let stdout: string;
      try {
        ({ stdout } = await context.run(['ls-tree', '-r', '-t', '-l', '-z', '--end-of-options', spec]));
      } catch (error) {
        if (error instanceof GitError && /not a valid object name|not a tree object/i.test(error.stderr)) {
          throw new GitError(`${description} is not a folder in that commit`, { command: error.command, status: error.status, stderr: error.stderr });
        }
        throw error;
      }
      const entries: TreeEntry[] = [];
      const links: { path: string; oid: string }[] = [];
      for (const record of stdout.split('\0')) {
        if (record === '') continue;
        const tab = record.indexOf('\t');
        const [mode, , oid, size] = record.slice(0, tab).split(/ +/);
        const entryPath = record.slice(tab + 1);
        if (mode === undefined || oid === undefined || tab < 0) throw new GitError(`unexpected ls-tree output for ${description}: ${record}`);
        // A submodule is an empty folder, as git archive writes it.
        if (mode === MODE_TREE || mode === MODE_GITLINK) entries.push({ type: 'dir', path: entryPath });
        else if (mode === MODE_SYMLINK) links.push({ path: entryPath, oid });
        else {
          oids.set(entryPath, oid);
          entries.push({ type: 'file', path: entryPath, size: Number(size), executable: mode === MODE_EXECUTABLE });
        }
      }
      let i = 0;
      for await (const content of catBlobs(context, links.map((l) => l.oid))) {
        const chunks: Uint8Array[] = [];
        for await (const chunk of content) chunks.push(chunk);
        const link = links[i++];
        if (link) entries.push({ type: 'symlink', path: link.path, target: Buffer.concat(chunks).toString('utf8') });
      }
      return entries;
    },
    readFiles(files) {
      return catBlobs(
        context,
        files.map((f) => {
          const oid = oids.get(f.path);
          if (oid === undefined) throw new GitError(`${f.path} is not a file of ${description}`);
          return oid;
        }),
      );
    },
  };
}

/** The contents of `oids`, in order, from one `git cat-file --batch`; each must be read to its end before the next. */
async function* catBlobs(context: TreeReaderContext, oids: readonly string[]): AsyncGenerator<AsyncIterable<Uint8Array>> {
  if (oids.length === 0) return;
  const command = 'git cat-file --batch';
  const child = spawn('git', ['cat-file', '--batch'], {
    cwd: context.cwd,
    env: { ...process.env, ...context.env, LC_ALL: 'C', LANG: 'C', LANGUAGE: 'C', GIT_TERMINAL_PROMPT: '0' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    if (stderr.length < 8192) stderr += text;
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  exited.catch(() => undefined);
  child.stdin.on('error', () => undefined); // git exiting early surfaces below, with its stderr
  child.stdin.end(oids.map((oid) => `${oid}\n`).join(''));
  const reader = new ByteReader(child.stdout[Symbol.asyncIterator]() as AsyncIterator<Buffer>);
  let finished = false;
  try {
    for (const oid of oids) {
      const header = await reader.line();
      if (header === undefined) {
        const code = await exited.catch((cause: unknown) => {
          throw new GitError(`could not run ${command}: ${(cause as Error).message}`, { command, cause });
        });
        throw new GitError(`${command} ended before ${oid} (exit ${String(code)}): ${stderr.trim() || '(no output)'}`, { command, status: code ?? undefined, stderr });
      }
      const [name, type, size] = header.split(' ');
      if (name !== oid || type !== 'blob' || size === undefined) throw new GitError(`${command} answered "${header}" for ${oid}`, { command, stderr });
      yield reader.take(Number(size));
      await reader.skip(reader.pending + 1); // what the consumer left, and the LF after the content
    }
    finished = true;
  } finally {
    if (!finished) child.kill();
    child.stdout.destroy();
    await exited.catch(() => undefined);
  }
}

class ByteReader {
  private buffer: Buffer = Buffer.alloc(0);
  /** Bytes of the current take() not yet handed out. */
  pending = 0;

  constructor(private readonly source: AsyncIterator<Buffer>) {}

  private async fill(): Promise<boolean> {
    const next = await this.source.next();
    if (next.done) return false;
    this.buffer = this.buffer.length === 0 ? next.value : Buffer.concat([this.buffer, next.value]);
    return true;
  }

  async line(): Promise<string | undefined> {
    for (;;) {
      const end = this.buffer.indexOf(10);
      if (end >= 0) {
        const text = this.buffer.subarray(0, end).toString('utf8');
        this.buffer = this.buffer.subarray(end + 1);
        return text;
      }
      if (!(await this.fill())) return undefined;
    }
  }

  async *take(size: number): AsyncGenerator<Uint8Array> {
    this.pending = size;
    while (this.pending > 0) {
      if (this.buffer.length === 0 && !(await this.fill())) throw new GitError(`git cat-file --batch ended in the middle of a blob`);
      const piece = this.buffer.subarray(0, Math.min(this.pending, this.buffer.length));
      this.buffer = this.buffer.subarray(piece.length);
      this.pending -= piece.length;
      yield piece;
    }
  }

  async skip(count: number): Promise<void> {
    this.pending = 0;
    while (count > 0) {
      if (this.buffer.length === 0 && !(await this.fill())) throw new GitError(`git cat-file --batch ended in the middle of a blob`);
      const n = Math.min(count, this.buffer.length);
      this.buffer = this.buffer.subarray(n);
      count -= n;
    }
  }
}
