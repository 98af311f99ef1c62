// How long the installed `slipway` takes to start, against the floor: a bare `node -e 0` in the
// same run. The CLI is laid out as npm installs it (node_modules/@slipway/release with bin/ and
// dist/ only, no sources, so the bin runs the bundle), in a fresh folder, and started the way
// npm's bin shim does: `node <bin> --version`, `--help`, `tag inspect <tag>` (reads services.json,
// answers without git or the network) and `plan --json` (reads services.json and git: one release
// tag, one commit after it). Runs are interleaved so load on the machine hits every case alike;
// the goal is at most 3× the floor (issues 14 and 19).
//
//   node --conditions=@slipway/source --import tsx bench/cli-start.bench.ts [--runs 21] [--baseline <dist dir>]
//
// --baseline adds the same commands run from another build's dist folder (say, main's, built with
// `node tools/bundle-cli.mjs --out <dir>` in a checkout of it), interleaved in the same rounds.
// Needs apps/release/dist/slipway.mjs (`npm ci` builds it; `npm run prepare` rebuilds).
// Not part of the tests.
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const workspace = fileURLToPath(new URL('..', import.meta.url));
const flag = (name: string) => {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? undefined : process.argv[at + 1];
};
const runs = Number(flag('runs') ?? 21);
const baseline = flag('baseline');

/** The package as npm installs it, bin and bundle only, under `<dir>/node_modules/@slipway/release`. */
async function install(dir: string, dist: string): Promise<string> {
  const pkg = join(dir, 'node_modules/@slipway/release');
  await mkdir(join(pkg, 'bin'), { recursive: true });
  await mkdir(join(pkg, 'dist'), { recursive: true });
  await copyFile(join(workspace, 'apps/release/package.json'), join(pkg, 'package.json'));
  await copyFile(join(workspace, 'apps/release/bin/slipway.js'), join(pkg, 'bin/slipway.js'));
  for (const file of await readdir(dist)) {
    if (/^slipway(-chunk-.*)?\.mjs$/.test(file)) await copyFile(join(dist, file), join(pkg, 'dist', file));
  }
  return join(pkg, 'bin/slipway.js');
}

const dir = await mkdtemp(join(tmpdir(), 'slipway-start-'));
try {
  const env = { PATH: process.env['PATH'] ?? '', HOME: dir, NO_COLOR: '1', GIT_CONFIG_NOSYSTEM: '1' };
  const repo = join(dir, 'repo');
  await mkdir(join(repo, 'apps/api'), { recursive: true });
  await writeFile(join(repo, 'services.json'), JSON.stringify({ services: { api: { root: 'apps/api' } } }));
  await writeFile(join(repo, 'apps/api/index.js'), '1\n');
  const git = (...args: string[]) => execa('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.com', ...args], { cwd: repo, env, extendEnv: false });
  await git('init', '-q', '-b', 'main');
  await git('add', '-A');
  await git('commit', '-q', '-m', 'feat(api): first');
  await git('tag', '-a', '-m', 'release', 'api/v1.0.0');
  await writeFile(join(repo, 'apps/api/index.js'), '2\n');
  await git('commit', '-q', '-am', 'fix(api): second');

  const builds: Array<[string, string]> = [['', await install(join(dir, 'current'), join(workspace, 'apps/release/dist'))]];
  if (baseline) builds.push([' (baseline)', await install(join(dir, 'baseline'), resolve(baseline))]);
  const cases: Array<[string, string[]]> = [['node -e 0 (floor)', ['-e', '0']]];
  for (const [label, bin] of builds) {
    cases.push(
      [`slipway --version${label}`, [bin, '--version']],
      [`slipway --help${label}`, [bin, '--help']],
      [`slipway tag inspect api/v1.2.3${label}`, [bin, 'tag', 'inspect', 'api/v1.2.3']],
      [`slipway plan --json${label}`, [bin, 'plan', '--json']],
    );
  }
  const ms = new Map<string, number[]>(cases.map(([name]) => [name, []]));
  const load: number[] = [];
  for (let i = 0; i < runs + 1; i++) {
    load.push(loadavg()[0] ?? NaN);
    for (const [name, args] of cases) {
      const start = performance.now();
      const done = await execa(process.execPath, args, { cwd: repo, env, extendEnv: false, reject: false });
      const took = performance.now() - start;
      if (done.exitCode !== 0) throw new Error(`${name} failed (exit ${done.exitCode}): ${done.stderr}`);
      if (i > 0) ms.get(name)?.push(took); // the first round warms the page cache
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  const floor = median(ms.get('node -e 0 (floor)') ?? []);
  process.stdout.write(
    `node ${process.version}, ${runs} interleaved runs, median wall time; 1-minute load average ${Math.min(...load).toFixed(1)}–${Math.max(...load).toFixed(1)} during the run\n\n| what | ms | × floor |\n|---|---|---|\n`,
  );
  for (const [name] of cases) {
    const m = median(ms.get(name) ?? []);
    process.stdout.write(`| ${name} | ${m.toFixed(0)} | ${(m / floor).toFixed(2)} |\n`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
