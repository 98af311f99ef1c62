import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { TarEntry } from '../tar.js';
import { BuildError } from './errors.js';

/**
 * Every entry under `dir`, placed under `prefix` inside the archive, with normalized modes:
 * 0755 for directories and for files with any execute bit, 0644 for other files. Owners, times
 * and other permission bits on disk are deliberately dropped: they differ between checkouts.
 */
export async function collectFolder(dir: string, prefix: string): Promise<TarEntry[]> {
  const info = await lstat(dir).catch((cause: unknown) => {
    throw new BuildError('layer', 'E_BUILD_INPUT', `layer folder ${dir} cannot be read`, { cause });
  });
  if (!info.isDirectory()) throw new BuildError('layer', 'E_BUILD_INPUT', `layer folder ${dir} is not a directory`);

  const base = normalizePrefix(prefix);
  const entries: TarEntry[] = [];
  const parts = base === '' ? [] : base.split('/');
  for (let i = 1; i <= parts.length; i++) entries.push({ type: 'dir', path: parts.slice(0, i).join('/'), mode: 0o755 });

  async function walk(absolute: string, relative: string): Promise<void> {
    const names = (await readdir(absolute)).sort();
    for (const name of names) {
      const path = join(absolute, name);
      const rel = relative === '' ? name : `${relative}/${name}`;
      const inArchive = base === '' ? rel : `${base}/${rel}`;
      const stats = await lstat(path);
      if (stats.isDirectory()) {
        entries.push({ type: 'dir', path: inArchive, mode: 0o755 });
        await walk(path, rel);
      } else if (stats.isFile()) {
        entries.push({ type: 'file', path: inArchive, mode: stats.mode & 0o111 ? 0o755 : 0o644, data: new Uint8Array(await readFile(path)) });
      } else if (stats.isSymbolicLink()) {
        entries.push({ type: 'symlink', path: inArchive, target: await readlink(path) });
      } else {
        throw new BuildError('layer', 'E_BUILD_INPUT', `${path} is not a file, directory or symlink; a layer cannot hold it`);
      }
    }
  }
  await walk(dir, '');
  return entries;
}

/** `app/`, `/app`, `./app` → `app`; `''`, `/`, `.` → `''` (the archive root). */
export function normalizePrefix(prefix: string): string {
  const parts = prefix.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new BuildError('layer', 'E_BUILD_INPUT', `layer prefix ${prefix} must stay inside the image root`);
  return parts.join('/');
}
