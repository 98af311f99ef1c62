import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** `<root>/.slipway/cache`: what Slipway keeps between runs (pins clones, the Nx project graph). */
export function cacheRoot(root: string): string {
  return join(root, '.slipway', 'cache');
}

/**
 * Creates the cache folder if needed. It ignores itself (as .pytest_cache does), so nothing in it
 * ever shows in `git status` or is read by Nx, whatever the workspace's .gitignore says.
 */
export async function ensureCacheRoot(root: string): Promise<string> {
  const dir = cacheRoot(root);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, '.gitignore'), '*\n', { flag: 'wx' }).catch(() => undefined);
  return dir;
}
