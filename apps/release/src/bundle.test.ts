import { appendFile, copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseEntry } from '../bin/entry.js';
import { gitWorkspace } from '../test/git-workspace.js';

const app = fileURLToPath(new URL('..', import.meta.url));
const workspaceRoot = resolve(app, '../..');
const script = join(workspaceRoot, 'tools/bundle-cli.mjs');
const bin = join(app, 'bin/slipway.js');

interface Manifest {
  entry: string;
  bundle: { size: number; mtimeMs: number };
  inputs: Array<{ path: string; size: number; mtimeMs: number; sha256?: string }>;
}

// The bundle goes inside the workspace (apps/release/tmp/ is git-ignored) so its inputs file points
// at the real sources and lockfiles, exactly as the real dist/slipway.mjs does. Its
// entry is a file of this test's own, importing main.ts, so the test can edit an input without
// touching the sources other people are working on.
let out: string;
let entryFile: string;
let outUrl: URL;

async function bundle(): Promise<Manifest> {
  const { stderr, exitCode } = await execa(process.execPath, [script, '--out', out, '--entry', entryFile]);
  expect(exitCode).toBe(0);
  expect(stderr).toBe('');
  return JSON.parse(await readFile(join(out, 'slipway.inputs.json'), 'utf8')) as Manifest;
}

// extendEnv is off below: a parent's FORCE_COLOR (Nx sets it) next to NO_COLOR makes Node print a warning.
const env = { PATH: process.env['PATH'], NO_COLOR: '1' };
const viaBundle = (args: string[], cwd = out) => execa(process.execPath, [join(out, 'slipway.mjs'), ...args], { cwd, extendEnv: false, env, reject: false });
const viaSource = (args: string[], cwd = out) => execa(process.execPath, [bin, ...args], { cwd, extendEnv: false, env: { ...env, SLIPWAY_NO_BUNDLE: '1' }, reject: false });

beforeAll(async () => {
  await mkdir(join(app, 'tmp'), { recursive: true });
  out = await mkdtemp(join(app, 'tmp', 'bundle-'));
  outUrl = pathToFileURL(`${out}/`);
  entryFile = join(out, 'entry.ts');
  await writeFile(entryFile, "import '../../src/main.js';\n");
  await bundle();
});

afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

describe('the bundled CLI', () => {
  it('prints the same help and version as the sources (package.json found from the bundle)', async () => {
    for (const args of [['--help'], ['--version'], ['plan', '--help']]) {
      const [bundled, source] = await Promise.all([viaBundle(args), viaSource(args)]);
      expect(bundled.exitCode, args.join(' ')).toBe(source.exitCode);
      expect(bundled.stdout, args.join(' ')).toBe(source.stdout);
      expect(bundled.stdout.length).toBeGreaterThan(0);
    }
  });

  it('runs `tag inspect` in a workspace exactly like the sources, success and bad input', async () => {
    const ws = await mkdtemp(join(tmpdir(), 'slipway-bundle-ws-'));
    try {
      await writeFile(join(ws, 'services.json'), JSON.stringify({ services: { api: {}, web: {} } }));
      for (const args of [['tag', 'inspect', 'api/v1.2.3', '--json'], ['tag', 'inspect', 'web/v2.0.0-rc.1'], ['tag', 'inspect', 'nope/v1.0.0', '--json']]) {
        const [bundled, source] = await Promise.all([viaBundle(args, ws), viaSource(args, ws)]);
        expect({ code: bundled.exitCode, out: bundled.stdout, err: bundled.stderr }, args.join(' ')).toEqual({ code: source.exitCode, out: source.stdout, err: source.stderr });
      }
      const ok = await viaBundle(['tag', 'inspect', 'api/v1.2.3', '--json'], ws);
      expect(ok.exitCode).toBe(0);
      expect(JSON.parse(ok.stdout)).toMatchObject({ service: 'api', version: '1.2.3' });
      expect((await viaBundle(['tag', 'inspect', 'nope/v1.0.0'], ws)).exitCode).toBe(2);
    } finally {
      await rm(ws, { recursive: true, force: true });
    }
  });

  it('carries its dependencies: `plan` runs the same from a folder with no node_modules above it', async () => {
    const alone = await mkdtemp(join(tmpdir(), 'slipway-bundle-alone-'));
    try {
      // The same two levels below the package.json that --version reads as in apps/release/tmp/.
      const copy = join(alone, 'tmp/bundle/slipway.mjs');
      await mkdir(join(alone, 'tmp/bundle'), { recursive: true });
      // The bundle and the chunks it imports when a command runs, as the package ships them.
      for (const file of await readdir(out)) if (/^slipway(-chunk-.*)?\.mjs$/.test(file)) await copyFile(join(out, file), join(alone, 'tmp/bundle', file));
      await copyFile(join(app, 'package.json'), join(alone, 'package.json'));
      const ws = await gitWorkspace({ services: { api: { root: 'apps/api' }, web: { root: 'apps/web' } } });
      await ws.release('api/v1.0.0');
      await ws.release('web/v1.0.0');
      await ws.land('feat(api): a route (#3)', { 'apps/api/a.js': '1' });
      const args = ['plan', '--json'];
      const bundled = await execa(process.execPath, [copy, ...args], { cwd: ws.repo.dir, extendEnv: false, env: ws.env, reject: false });
      const source = await viaSource(args, ws.repo.dir);
      expect(bundled.stderr).toBe(source.stderr);
      expect(bundled.exitCode).toBe(0);
      expect(JSON.parse(bundled.stdout)).toEqual(JSON.parse(source.stdout));
      expect(JSON.parse(bundled.stdout)).toMatchObject({ services: [{ service: 'api', nextVersion: '1.1.0' }, { service: 'web', affected: false }] });
    } finally {
      await rm(alone, { recursive: true, force: true });
    }
  });

  it('records every source it was built from, the package files that steer resolution, and the lockfile', async () => {
    const manifest = JSON.parse(await readFile(join(out, 'slipway.inputs.json'), 'utf8')) as Manifest;
    const files = manifest.inputs.map((i) => resolve(out, i.path));
    for (const f of ['src/main.ts', 'src/cli.ts', 'src/commands/plan.ts', 'package.json']) expect(files).toContain(join(app, f));
    for (const f of ['libs/tag/src/index.ts', 'libs/config/package.json', 'package-lock.json', 'tools/bundle-cli.mjs']) expect(files).toContain(join(workspaceRoot, f));
    expect(files).toContain(entryFile);
    for (const input of manifest.inputs) {
      const s = await stat(resolve(out, input.path));
      expect({ size: s.size, mtimeMs: s.mtimeMs }, input.path).toEqual({ size: input.size, mtimeMs: input.mtimeMs });
    }
  });
});

describe('choosing the entry', () => {
  it('is the bundle while every input is unchanged; a new mtime, a new size, a deleted input or another bundle means the sources', async () => {
    await bundle();
    expect(chooseEntry(outUrl)).toEqual({ kind: 'bundle', url: new URL('slipway.mjs', outUrl) });

    const { mtime } = await stat(entryFile);
    await utimes(entryFile, mtime, new Date(mtime.getTime() - 60_000));
    expect(chooseEntry(outUrl)).toEqual({ kind: 'source', reason: './entry.ts changed' });

    await bundle();
    expect(chooseEntry(outUrl).kind).toBe('bundle');
    await appendFile(entryFile, '// edited\n');
    expect(chooseEntry(outUrl)).toEqual({ kind: 'source', reason: './entry.ts changed' });

    await bundle();
    await rm(entryFile);
    expect(chooseEntry(outUrl)).toEqual({ kind: 'source', reason: './entry.ts missing' });
    await writeFile(entryFile, "import '../../src/main.js';\n");

    await bundle();
    await appendFile(join(out, 'slipway.mjs'), '\n');
    expect(chooseEntry(outUrl)).toEqual({ kind: 'source', reason: 'bundle changed' });

    await rm(join(out, 'slipway.inputs.json'));
    expect(chooseEntry(outUrl)).toEqual({ kind: 'source', reason: 'no bundle' });
  });

  it('hashes an input modified right before the build, so an edit in the same mtime tick still shows', async () => {
    await writeFile(entryFile, "import '../../src/main.js';\n");
    const manifest = await bundle();
    const entry = manifest.inputs.find((i) => resolve(out, i.path) === entryFile);
    expect(entry?.sha256).toMatch(/^[0-9a-f]{64}$/);
    // Same size, same mtime, other bytes: only the hash can tell.
    // `touch -r` copies the timestamp to the nanosecond, which utimes() cannot.
    const reference = join(out, 'reference');
    await writeFile(reference, '');
    await execa('touch', ['-r', entryFile, reference]);
    await writeFile(entryFile, "import '../../src/main.ts';\n");
    await execa('touch', ['-r', reference, entryFile]);
    const after = await stat(entryFile);
    expect({ size: after.size, mtimeMs: after.mtimeMs }).toEqual({ size: entry?.size, mtimeMs: entry?.mtimeMs });
    expect(chooseEntry(outUrl)).toEqual({ kind: 'source', reason: './entry.ts changed' });
  });

  it('the bin reports its choice with SLIPWAY_DEBUG_ENTRY=1, and SLIPWAY_NO_BUNDLE=1 forces the sources', async () => {
    const expected = chooseEntry(new URL('dist/', pathToFileURL(`${app}/`)));
    const shown = await execa(process.execPath, [bin, '--version'], { extendEnv: false, env: { ...env, SLIPWAY_DEBUG_ENTRY: '1' } });
    expect(shown.stderr).toBe(expected.kind === 'bundle' ? `slipway entry: bundle ${expected.url.pathname}` : `slipway entry: source (${expected.reason})`);
    const forced = await execa(process.execPath, [bin, '--version'], { extendEnv: false, env: { ...env, SLIPWAY_DEBUG_ENTRY: '1', SLIPWAY_NO_BUNDLE: '1' } });
    expect(forced.stderr).toBe('slipway entry: source (SLIPWAY_NO_BUNDLE=1)');
    expect(forced.stdout).toBe(shown.stdout);
  });
});
