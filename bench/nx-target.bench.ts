// What Slipway's inferred Nx targets cost on top of Nx itself: `nx run release:<svc> --dry-run`
// and `nx run <svc>:release-check` beside Nx's own floor, an `nx:noop` target in the same
// workspace, interleaved in one run. Nx runs as CI runs it: no daemon, no Nx Cloud, no task cache
// (Slipway's targets are never cached: a release and a check both ask origin whether the next tag
// exists, which no Nx input can capture). The goal of issue 19: at most 1.3× the floor.
//
// Beside them, to tell Nx's share from Slipway's: an `nx:run-commands` target running `node -e 0`
// (what running any command through Nx costs), and the two Slipway commands started directly,
// without Nx, the same way the targets start them (`node node_modules/@slipway/release/bin/slipway.js`).
//
//   node --conditions=@slipway/source --import tsx bench/nx-target.bench.ts [--runs 7] [--services 10] [--keep] [--baseline <dist dir>]
//
// --baseline adds another build's bundle (`node tools/bundle-cli.mjs --out <dir>` in a checkout of
// the other commit) to the same rounds: its `release --dry-run` and `check` started directly, so a
// change's effect on Slipway's own time is measured under the same load.
//
// The workspace is bench/plan-repo.ts's synthetic Nx repository with this repository's
// node_modules linked in and the plugin from tools/nx-plugin registered. Not part of the tests.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { NX_JSON, generatePlanRepo, serviceName, writeServicesJson } from './plan-repo.js';

const workspace = fileURLToPath(new URL('..', import.meta.url));
const option = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? fallback : Number(process.argv[at + 1]);
};
const runs = option('runs', 7);
const baselineAt = process.argv.indexOf('--baseline');
const baseline = baselineAt < 0 ? undefined : process.argv[baselineAt + 1];
const services = option('services', 10);

const root = await mkdtemp(join(tmpdir(), 'slipway-nx-target-'));
try {
  const repo = await generatePlanRepo({ dir: join(root, 'repo'), services, tagsPerService: 3, tail: 20, libs: 2, dormant: false });
  await symlink(join(workspace, 'node_modules'), join(repo.dir, 'node_modules'));
  // release fetches origin/main and the tags: a bare origin beside the repository, as on a laptop.
  await execa('git', ['clone', '-q', '--bare', repo.dir, join(root, 'origin.git')]);
  await execa('git', ['-C', repo.dir, 'remote', 'add', 'origin', join(root, 'origin.git')]);
  await execa('git', ['-C', repo.dir, 'fetch', '-q', 'origin']);
  await writeServicesJson(repo, 'nx');
  await writeFile(join(repo.dir, 'nx.json'), JSON.stringify({ ...NX_JSON, plugins: [join(workspace, 'tools/nx-plugin/src/index.js')] }, null, 2));
  await mkdir(join(repo.dir, 'tools/release'), { recursive: true });
  await writeFile(
    join(repo.dir, 'tools/release/project.json'),
    JSON.stringify({ name: 'release', targets: { noop: { executor: 'nx:noop' }, 'node-e0': { executor: 'nx:run-commands', options: { command: 'node -e 0' }, cache: false } } }, null, 2),
  );
  const service = serviceName(0);
  const env = { PATH: process.env['PATH'] ?? '', HOME: root, NO_COLOR: '1', NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', NX_SKIP_NX_CACHE: 'true', CI: 'true' };
  const nx = join(workspace, 'node_modules/nx/dist/bin/nx.js');

  const bin = join(repo.dir, 'node_modules/@slipway/release/bin/slipway.js');
  // Every target must start the CLI with node, never npx (issue 19): read it from the graph.
  const shown = JSON.parse((await execa(process.execPath, [nx, 'show', 'project', service, '--json'], { cwd: repo.dir, env, extendEnv: false })).stdout) as {
    targets: Record<string, { options?: { command?: string } }>;
  };
  const checkCommand = shown.targets['release-check']?.options?.command ?? '';
  // (Here node_modules is a link to this repository's, so the path is the real one of apps/release/bin.)
  if (!/^node \S+\/bin\/slipway\.js check /.test(checkCommand)) throw new Error(`release-check runs "${checkCommand}", not the installed bin with node`);

  // [name, script, args, extra env, the floor it is measured against]
  const FLOOR = 'nx run release:noop (floor)';
  const FLOOR_IN_PROCESS = 'nx run release:noop, NX_ISOLATE_PLUGINS=false (floor)';
  const inProcess = { NX_ISOLATE_PLUGINS: 'false' };
  const cases: Array<[string, string, string[], Record<string, string>, string]> = [
    [FLOOR, nx, ['run', 'release:noop', '--outputStyle=static'], {}, FLOOR],
    ['nx run release:node-e0 (nx:run-commands of `node -e 0`)', nx, ['run', 'release:node-e0', '--outputStyle=static'], {}, FLOOR],
    [`nx run release:${service} -- --dry-run`, nx, ['run', `release:${service}`, '--outputStyle=static', '--', '--dry-run'], {}, FLOOR],
    [`nx run ${service}:release-check`, nx, ['run', `${service}:release-check`, '--outputStyle=static'], {}, FLOOR],
    // Nx starts one worker process per plugin on every graph computation; in-process plugins skip that.
    [FLOOR_IN_PROCESS, nx, ['run', 'release:noop', '--outputStyle=static'], inProcess, FLOOR_IN_PROCESS],
    [`nx run release:${service} -- --dry-run, NX_ISOLATE_PLUGINS=false`, nx, ['run', `release:${service}`, '--outputStyle=static', '--', '--dry-run'], inProcess, FLOOR_IN_PROCESS],
    [`nx run ${service}:release-check, NX_ISOLATE_PLUGINS=false`, nx, ['run', `${service}:release-check`, '--outputStyle=static'], inProcess, FLOOR_IN_PROCESS],
    [`slipway release ${service} --dry-run (no Nx)`, bin, ['release', service, '--dry-run'], {}, FLOOR],
    [`slipway check ${service} (no Nx)`, bin, ['check', service], {}, FLOOR],
    ...(baseline === undefined
      ? []
      : ([
          [`baseline: slipway release ${service} --dry-run (no Nx)`, join(baseline, 'slipway.mjs'), ['release', service, '--dry-run'], {}, FLOOR],
          [`baseline: slipway check ${service} (no Nx)`, join(baseline, 'slipway.mjs'), ['check', service], {}, FLOOR],
        ] as Array<[string, string, string[], Record<string, string>, string]>)),
  ];
  const ms = new Map<string, number[]>(cases.map(([name]) => [name, []]));
  const load: number[] = [];
  for (let i = 0; i < runs + 1; i++) {
    load.push(loadavg()[0] ?? NaN);
    for (const [name, script, args, extra] of cases) {
      const start = performance.now();
      const done = await execa(process.execPath, [script, ...args], { cwd: repo.dir, env: { ...env, ...extra }, extendEnv: false, reject: false });
      const took = performance.now() - start;
      if (done.exitCode !== 0) throw new Error(`${name} failed (exit ${done.exitCode}):\n${done.stdout}\n${done.stderr}`);
      if (i > 0) ms.get(name)?.push(took); // the first round computes Nx's graph and warms caches
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  process.stdout.write(
    `node ${process.version}, ${services} services, ${runs} interleaved runs, median wall time, NX_DAEMON=false; 1-minute load average ${Math.min(...load).toFixed(1)}–${Math.max(...load).toFixed(1)}\n\n| what | ms | × floor |\n|---|---|---|\n`,
  );
  for (const [name, , , , floorName] of cases) {
    const m = median(ms.get(name) ?? []);
    const floor = median(ms.get(floorName) ?? []);
    process.stdout.write(`| ${name} | ${m.toFixed(0)} | ${(m / floor).toFixed(2)} |\n`);
  }
} finally {
  if (process.argv.includes('--keep')) process.stdout.write(`\nkept ${root}\n`);
  else await rm(root, { recursive: true, force: true });
}
