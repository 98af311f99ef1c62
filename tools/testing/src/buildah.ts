import { access, constants, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface BuildahSandbox {
  /** The environment to run buildah (or slipway driving it) with: its own storage, chroot isolation. */
  env: Record<string, string | undefined>;
  /** The storage root (`graphroot`), removed with the sandbox. */
  root: string;
  cleanup(): Promise<void>;
}

/**
 * A private buildah storage for one test: a `storage.conf` (vfs driver, graphroot and runroot in
 * a temporary folder) named by `CONTAINERS_STORAGE_CONF`, and `BUILDAH_ISOLATION=chroot`, which
 * is what works as root inside a container without a daemon. Nothing leaks between tests:
 * `cleanup` removes the folder. Fails with a clear message when buildah is not installed
 * (`.ci/run` installs it from Debian).
 */
export async function buildahSandbox(): Promise<BuildahSandbox> {
  const path = process.env['PATH'] ?? '/usr/bin:/bin';
  const found = await firstExecutable(path.split(delimiter).map((dir) => join(dir, 'buildah')));
  if (found === undefined) throw new Error('buildah is not installed: the docker builder tests need it (apt-get install buildah; .ci/run does it)');
  const dir = await mkdtemp(join(tmpdir(), 'slipway-buildah-'));
  const root = join(dir, 'root');
  const conf = join(dir, 'storage.conf');
  await writeFile(conf, `[storage]\ndriver = "vfs"\ngraphroot = "${root}"\nrunroot = "${join(dir, 'run')}"\n`);
  return {
    env: { PATH: path, HOME: dir, CONTAINERS_STORAGE_CONF: conf, BUILDAH_ISOLATION: 'chroot' },
    root,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

async function firstExecutable(paths: readonly string[]): Promise<string | undefined> {
  for (const path of paths) {
    if (await access(path, constants.X_OK).then(() => true, () => false)) return path;
  }
  return undefined;
}
