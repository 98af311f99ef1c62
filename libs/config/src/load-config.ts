import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from './errors.js';
import { parseConfig } from './parse-config.js';
import type { ServicesFile } from './schema.js';

export const CONFIG_FILE = 'services.json';

/** The nearest folder at or above `start` that holds a services.json. */
export async function findWorkspaceRoot(start: string): Promise<string> {
  let dir = resolve(start);
  for (;;) {
    if (await isFile(join(dir, CONFIG_FILE))) return dir;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new ConfigError(
        `no ${CONFIG_FILE} found in ${resolve(start)} or any folder above it. Create one at your workspace root (see the README), or pass --cwd <dir>.`,
        { code: 'E_CONFIG_NOT_FOUND', path: resolve(start) },
      );
    }
    dir = parent;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

export interface LoadedConfig {
  /** The workspace root: the folder holding services.json. */
  root: string;
  /** Absolute path of services.json. */
  path: string;
  config: ServicesFile;
}

/**
 * Finds and validates services.json. With `cwd` given explicitly (`--cwd`), that folder must hold
 * it; otherwise the nearest folder above `start` that does.
 */
export async function loadConfig(options: { cwd?: string | undefined; start?: string } = {}): Promise<LoadedConfig> {
  const root = options.cwd !== undefined ? resolve(options.cwd) : await findWorkspaceRoot(options.start ?? process.cwd());
  const path = join(root, CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
    throw new ConfigError(
      missing ? `${path}: not found. --cwd must name the workspace root (the folder with ${CONFIG_FILE}).` : `${path}: cannot be read (${(cause as Error).message})`,
      { code: missing ? 'E_CONFIG_NOT_FOUND' : 'E_CONFIG_READ', path, cause },
    );
  }
  return { root, path, config: parseConfig(text, path) };
}
