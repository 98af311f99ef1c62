// Where a layer's files come from: a folder on disk, or a tree in git's object store (the git
// adapter implements this port; the registry library never runs git itself). The builder lists
// every entry first, sorts them into the archive's order, then reads the files' bytes in that
// order, one after another, so no file is ever held whole in memory.

import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildError } from './errors.js';

export type LayerTreeEntry =
  | { type: 'dir'; path: string }
  | { type: 'file'; path: string; size: number; executable: boolean }
  | { type: 'symlink'; path: string; target: string };

export type LayerTreeFile = Extract<LayerTreeEntry, { type: 'file' }>;

export interface LayerTree {
  /** Named in errors: `apps/api at 1a2b3c4`, a folder's path. */
  readonly description: string;
  /** Every entry below the root (not the root itself), paths `/`-separated and relative to it, in any order. */
  entries(): Promise<LayerTreeEntry[]>;
  /**
   * The bytes of `files`, in the order given: one inner iterable per file, each read to its end
   * before the next is asked for, yielding exactly the file's `size` bytes.
   */
  readFiles(files: readonly LayerTreeFile[]): AsyncIterable<AsyncIterable<Uint8Array>>;
}

const READ_CHUNK = 1024 * 1024;

/**
 * A folder on disk as a layer tree. Owners, times and permission bits other than "executable by
 * anyone" are dropped: they differ between checkouts.
 */
export function folderTree(dir: string): LayerTree {
  return {
    description: dir,
    async entries() {
      const info = await lstat(dir).catch((cause: unknown) => {
        throw new BuildError('layer', 'E_BUILD_INPUT', `layer folder ${dir} cannot be read`, { cause });
      });
      if (!info.isDirectory()) throw new BuildError('layer', 'E_BUILD_INPUT', `layer folder ${dir} is not a directory`);
      const entries: LayerTreeEntry[] = [];
      async function walk(absolute: string, relative: string): Promise<void> {
        for (const name of (await readdir(absolute)).sort()) {
          const path = join(absolute, name);
          const rel = relative === '' ? name : `${relative}/${name}`;
          const stats = await lstat(path);
          if (stats.isDirectory()) {
            entries.push({ type: 'dir', path: rel });
            await walk(path, rel);
          } else if (stats.isFile()) {
            entries.push({ type: 'file', path: rel, size: stats.size, executable: (stats.mode & 0o111) !== 0 });
          } else if (stats.isSymbolicLink()) {
            entries.push({ type: 'symlink', path: rel, target: await readlink(path) });
          } else {
            throw new BuildError('layer', 'E_BUILD_INPUT', `${path} is not a file, directory or symlink; a layer cannot hold it`);
          }
        }
      }
      await walk(dir, '');
      return entries;
    },
    async *readFiles(files) {
      for (const file of files) yield createReadStream(join(dir, file.path), { highWaterMark: READ_CHUNK });
    },
  };
}
