// How long the installed `slipway` takes to start, against the floor: a bare `node -e 0` in the
// same run. The CLI is laid out as npm installs it (node_modules/@slipway/release with bin/ and
// dist/ only, no sources, so the bin runs the bundle), in a fresh folder, and started the way
// npm's bin shim does: `node <bin> --version` and `node <bin> tag inspect <tag>` (a command that
// reads services.json and answers without git or the network). Runs are interleaved so load on
// the machine hits both sides alike; the goal is at most 3× the floor (issue 14).
//
//   node --conditions=@slipway/source --import tsx bench/cli-start.bench.ts [--runs 21]
//
// Needs apps/release/dist/slipway.mjs (`npm ci` builds it; `node tools/bundle-cli.mjs` rebuilds).
// Not part of the tests.
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const workspace = fileURLToPath(new URL('..', import.meta.url));
const at = process.argv.indexOf('--runs');
const runs = at < 0 ? 21 : Number(process.argv[at + 1]);

const dir = await mkdtemp(join(tmpdir(), 'slipway-start-'));
try {
  const pkg = join(dir, 'node_modules/@slipway/release');
  await mkdir(join(pkg, 'bin'), { recursive: true });
  await mkdir(join(pkg, 'dist'), { recursive: true });
  await copyFile(join(workspace, 'apps/release/package.json'), join(pkg, 'package.json'));
  await copyFile(join(workspace, 'apps/release/bin/slipway.js'), join(pkg, 'bin/slipway.js'));
  for (const file of await readdir(join(workspace, 'apps/release/dist'))) {
    if (/^slipway(-chunk-.*)?\.mjs$/.test(file)) await copyFile(join(workspace, 'apps/release/dist', file), join(pkg, 'dist', file));
  }
  await writeFile(join(dir, 'services.json'), JSON.stringify({ services: { api: {} } }));
  const bin = join(pkg, 'bin/slipway.js');
  const env = { PATH: process.env['PATH'] ?? '', HOME: dir, NO_COLOR: '1' };

  const cases: Array<[string, string[]]> = [
    ['node -e 0 (floor)', ['-e', '0']],
    ['slipway --version', [bin, '--version']],
    ['slipway tag inspect api/v1.2.3', [bin, 'tag', 'inspect', 'api/v1.2.3']],
  ];
  const ms = new Map<string, number[]>(cases.map(([name]) => [name, []]));
  for (let i = 0; i < runs + 1; i++) {
    for (const [name, args] of cases) {
      const start = performance.now();
      const done = await execa(process.execPath, args, { cwd: dir, env, extendEnv: false, reject: false });
      const took = performance.now() - start;
      if (done.exitCode !== 0) throw new Error(`${name} failed (exit ${done.exitCode}): ${done.stderr}`);
      if (i > 0) ms.get(name)?.push(took); // the first round warms the page cache
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  const floor = median(ms.get('node -e 0 (floor)') ?? []);
  process.stdout.write(`node ${process.version}, ${runs} interleaved runs, median wall time\n\n| what | ms | × floor |\n|---|---|---|\n`);
  for (const [name] of cases) {
    const m = median(ms.get(name) ?? []);
    process.stdout.write(`| ${name} | ${m.toFixed(0)} | ${(m / floor).toFixed(2)} |\n`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
