// `slipway plan --json` on a synthetic repository with 100 services and 10,000 release tags, with
// `nx release version --dry-run` on the same repository beside it, and how often the two agree on
// the next version.
//
//   node --conditions=@slipway/source --import tsx bench/plan.bench.ts [--runs 5] [--nx-runs 1]
//        [--services 100[,300,…]] [--tags-per-service 100] [--tail 300] [--skip-nx] [--keep]
//        [--only recent|dormant|real-history]
//
// --services takes a list (`--services 10,100,300`): the recent and dormant repositories are made
// and measured once per size, in that order; real-history once, at the first size. Beside the
// bundled plan each scenario also times its git floor: the two git commands any plan needs, one
// `for-each-ref` over every tag and one `git log --name-only` over as many commits as the plan read.
//
// Two repositories are generated (bench/plan-repo.ts): "recent", where every service released in
// the last round, and "dormant", where one service last released near the root, so the single git
// log plan reads spans the whole history. slipway runs four ways: bundled into one file with
// esbuild (what an installed CLI starts like), through the bin (what `npx slipway` in this
// workspace runs: the bundle `npm ci` built, while it matches the sources), from the TypeScript
// sources through tsx (the bin after an edit), and in-process (the plan alone, no process start).
// Then with the services' roots taken from the Nx project graph instead of services.json: the
// first run after a change (Nx computes the graph) and every later one (Slipway's cached copy).
// A third repository, "real-history", has the shapes of issue 17: an abandoned 2.0 prerelease
// line on a branch never merged (which also took the versions main's next releases would), and
// feature branches merged with --no-ff, some after syncing main. There plan runs in-process and
// its answer is checked against git itself (tag --merged, git log <last>..HEAD -- <root>).
// Not part of the tests.

import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, copyFile, rm, symlink } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { GRAPH_CACHE, run } from '@slipway/release';
import { generatePlanRepo, writeServicesJson, type PlanRepo } from './plan-repo.js';

const workspace = fileURLToPath(new URL('..', import.meta.url));

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? fallback : Number(process.argv[at + 1]);
}
const flag = (name: string) => process.argv.includes(`--${name}`);

const runs = option('runs', 5);
const nxRuns = option('nx-runs', 1);
const serviceCounts = (() => {
  const at = process.argv.indexOf('--services');
  return (at < 0 ? '100' : (process.argv[at + 1] ?? '100')).split(',').map(Number);
})();
const shape = { services: serviceCounts[0] ?? 100, tagsPerService: option('tags-per-service', 100), tail: option('tail', 300), libs: 10 };

interface PlanJson {
  services: Array<{
    service: string;
    affected: boolean;
    nextVersion: string | null;
    lastTag: string | null;
    nextTag: string | null;
    ignoredTags: string[];
    commits: Array<{ sha: string }>;
  }>;
  history: { commits: number; gitLogPasses: number; projectGraph: string | null };
}

interface Row {
  scenario: string;
  what: string;
  ms: number[];
  note: string;
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const NX_ENV = { NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', NX_SKIP_NX_CACHE: 'true', SLIPWAY_DEBUG_ENTRY: '1' };

async function timed<T>(times: number, once: () => Promise<T>): Promise<{ ms: number[]; last: T }> {
  const ms: number[] = [];
  let last: T | undefined;
  for (let i = 0; i < times; i++) {
    const start = performance.now();
    last = await once();
    ms.push(performance.now() - start);
  }
  return { ms, last: last as T };
}

/** One file with every @slipway/* source and dependency inlined, like a published CLI. */
async function bundle(dir: string): Promise<string | undefined> {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    return undefined;
  }
  const out = join(dir, 'dist', 'slipway.mjs');
  await esbuild.build({
    entryPoints: [join(workspace, 'apps/release/src/main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@slipway/source'],
    outfile: out,
    // CommonJS dependencies inside an ESM bundle need a require.
    banner: { js: "import { createRequire as __slipwayRequire } from 'node:module'; const require = __slipwayRequire(import.meta.url);" },
    logLevel: 'error',
  });
  // cli.ts reads ../package.json for --version.
  await copyFile(join(workspace, 'apps/release/package.json'), join(dir, 'package.json'));
  return out;
}

// GNU time reports the CPU a run used, its git children included: unlike wall time, that does not
// grow when other work shares the machine.
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const cpuSamples = new Map<string, number[]>();

/** What the bin last said it ran (SLIPWAY_DEBUG_ENTRY=1): `bundle` or `source`. */
let binEntry: string | undefined;

async function cliPlan(entry: string, repo: PlanRepo, label: string, env: Record<string, string> = {}): Promise<PlanJson> {
  const argv = [process.execPath, entry, 'plan', '--json'];
  const options = { cwd: repo.dir, env: { ...NX_ENV, ...env } };
  const { stdout, stderr } = GNU_TIME
    ? await execa(GNU_TIME, ['-f', 'slipway-bench-cpu %U %S', ...argv], options)
    : await execa(argv[0] as string, argv.slice(1), options);
  binEntry = /slipway entry: (\w+)/.exec(stderr)?.[1] ?? binEntry;
  const cpu = /slipway-bench-cpu ([\d.]+) ([\d.]+)/.exec(stderr);
  if (cpu) cpuSamples.set(label, [...(cpuSamples.get(label) ?? []), (Number(cpu[1]) + Number(cpu[2])) * 1000]);
  return JSON.parse(stdout) as PlanJson;
}

/** What any plan must ask git, and no more: every tag, and the changed files of the commits it reads. */
async function gitFloor(repo: PlanRepo, commits: number): Promise<void> {
  await execa('git', ['for-each-ref', '--format=%(refname)%00%(objectname)%00%(*objectname)%00%(creatordate:unix)', 'refs/tags/'], { cwd: repo.dir, stdout: 'ignore' });
  await execa('git', ['log', `-n${commits}`, '--name-only', '--format=%x1e%H%x00%P%x00%s', 'HEAD'], { cwd: repo.dir, stdout: 'ignore' });
}

async function inProcessPlan(repo: PlanRepo): Promise<{ json: PlanJson; cpuMs: number }> {
  const stdout = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (c: Buffer) => chunks.push(c));
  const cpu = process.cpuUsage();
  const code = await run(['plan', '--json'], { stdout, stderr: new PassThrough(), env: { ...process.env, ...NX_ENV }, cwd: repo.dir });
  const used = process.cpuUsage(cpu);
  if (code !== 0) throw new Error(`slipway plan exited ${code}`);
  return { json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as PlanJson, cpuMs: (used.user + used.system) / 1000 };
}

/** Next versions nx release would write, by project, from its dry-run log. */
function nxVersions(output: string): Map<string, string> {
  const versions = new Map<string, string>();
  for (const match of output.matchAll(/^(\S+) .*New version (\S+) written to manifest/gmu)) versions.set(match[1] ?? '', match[2] ?? '');
  return versions;
}

function agreement(plan: PlanJson, nx: Map<string, string>, label: string): string {
  const differ = plan.services.filter((s) => (s.nextVersion ?? null) !== (nx.get(s.service) ?? null));
  const shown = differ.slice(0, 3).map((s) => `${s.service}: slipway ${s.nextVersion ?? 'none'}, nx ${nx.get(s.service) ?? 'none'}`);
  return `same next version as slipway (${label}) for ${plan.services.length - differ.length} of ${plan.services.length}${shown.length ? ` (${shown.join('; ')})` : ''}`;
}

/**
 * The plan against git itself: every service's last release is a tag reachable from HEAD (the
 * abandoned line's are named in ignoredTags instead), its next tag exists nowhere, and its
 * commits are exactly `git log <lastTag>..HEAD -- apps/<service>`, in git's order.
 */
async function checkAgainstGit(repo: PlanRepo, plan: PlanJson): Promise<string> {
  const git = async (...args: string[]) => (await execa('git', args, { cwd: repo.dir })).stdout.split('\n').filter(Boolean);
  const reachable = new Set(await git('tag', '--merged', 'HEAD'));
  const every = new Set(await git('tag'));
  const problems: string[] = [];
  for (const s of plan.services) {
    const expected = await git('log', '--format=%H', s.lastTag === null ? 'HEAD' : `${s.lastTag}..HEAD`, '--', `apps/${s.service}`);
    const got = s.commits.map((c) => c.sha);
    if (got.join() !== expected.join()) problems.push(`${s.service}: ${got.length} commits, git log ${expected.length}`);
    if (s.lastTag !== null && !reachable.has(s.lastTag)) problems.push(`${s.service}: last tag ${s.lastTag} is not on HEAD's history`);
    if (s.nextTag !== null && every.has(s.nextTag)) problems.push(`${s.service}: next tag ${s.nextTag} exists`);
    if (s.ignoredTags.some((t) => reachable.has(t))) problems.push(`${s.service}: ignores a reachable tag`);
  }
  const ignored = plan.services.flatMap((s) => s.ignoredTags).sort();
  if (ignored.join() !== [...repo.abandonedTags].sort().join()) problems.push(`ignored ${ignored.length} tags, the abandoned branch holds ${repo.abandonedTags.length}`);
  if (problems.length > 0) throw new Error(`plan disagrees with git:\n  ${problems.slice(0, 10).join('\n  ')}`);
  const first = plan.services[0];
  return `matches git log for ${plan.services.length} of ${plan.services.length} services; ${first?.service ?? ''} last ${first?.lastTag ?? '-'}, next ${first?.nextTag ?? '-'}, ${ignored.length} abandoned tags ignored`;
}

async function realHistory(root: string, rows: Row[]): Promise<void> {
  const name = 'real-history';
  const dir = join(root, name);
  const repo = await generatePlanRepo({ dir, ...shape, dormant: false, realHistory: true });
  await writeServicesJson(repo, 'root');
  const merges = (await execa('git', ['rev-list', '--merges', '--count', 'HEAD'], { cwd: dir })).stdout;
  process.stderr.write(`${name}: ${repo.commits} commits (${merges} merges on HEAD), ${repo.tags} tags, ${repo.abandonedTags.length} on an abandoned branch\n`);
  await inProcessPlan(repo);
  const cpu: number[] = [];
  const timedPlan = await timed(runs, async () => {
    const { json, cpuMs } = await inProcessPlan(repo);
    cpu.push(cpuMs);
    return json;
  });
  const verdict = await checkAgainstGit(repo, timedPlan.last);
  rows.push({
    scenario: name,
    what: 'slipway plan --json (in-process), checked against git',
    ms: timedPlan.ms,
    note: `CPU ${median(cpu).toFixed(0)} ms; ${timedPlan.last.history.gitLogPasses} git log passes; ${verdict}`,
  });
}

async function scenario(name: string, dormant: boolean, root: string, bundled: string | undefined, rows: Row[]): Promise<void> {
  const dir = join(root, name);
  const started = performance.now();
  const repo = await generatePlanRepo({ dir, ...shape, dormant });
  await symlink(join(workspace, 'node_modules'), join(dir, 'node_modules'));
  const tagCount = (await execa('git', ['for-each-ref', '--format=x', 'refs/tags/'], { cwd: dir })).stdout.split('\n').filter(Boolean).length;
  process.stderr.write(`${name}: ${repo.commits} commits, ${tagCount} tags, ${shape.services} services, generated in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);

  const row = (what: string, ms: number[], note: string) => {
    const cpu = cpuSamples.get(`${name}:${what}`);
    rows.push({ scenario: name, what, ms, note: cpu ? `CPU ${median(cpu).toFixed(0)} ms; ${note}` : note });
  };

  await writeServicesJson(repo, 'root');
  let plan: PlanJson | undefined;
  if (bundled) {
    const what = 'slipway plan --json (bundled CLI)';
    const floorWhat = 'git floor: for-each-ref refs/tags + log --name-only over the same commits';
    const warm = await cliPlan(bundled, repo, 'warm-up'); // the page cache, not the plan
    // Interleaved with the plan: the same load falls on both.
    const planMs: number[] = [];
    const floorMs: number[] = [];
    let last = warm;
    for (let i = 0; i < runs; i++) {
      let start = performance.now();
      last = await cliPlan(bundled, repo, `${name}:${what}`);
      planMs.push(performance.now() - start);
      start = performance.now();
      await gitFloor(repo, last.history.commits);
      floorMs.push(performance.now() - start);
    }
    plan = last;
    const affected = last.services.filter((s) => s.affected).length;
    row(what, planMs, `${(median(planMs) / median(floorMs)).toFixed(1)}× the git floor; ${last.history.gitLogPasses} git log pass over ${last.history.commits} commits; ${affected} affected`);
    row(floorWhat, floorMs, `${tagCount} tags, ${last.history.commits} commits`);
  } else {
    row('slipway plan --json (bundled CLI)', [], 'skipped: esbuild not importable');
  }
  const bin = join(workspace, 'apps/release/bin/slipway.js');
  const viaBin = 'slipway plan --json (the bin, as npx slipway starts)';
  const installed = await timed(runs, () => cliPlan(bin, repo, `${name}:${viaBin}`));
  plan ??= installed.last;
  row(viaBin, installed.ms, `ran ${binEntry ?? 'an unknown entry'} (the bundle npm ci built while it matches the sources, else tsx)`);
  const fromSource = 'slipway plan --json (from source, tsx)';
  const source = await timed(runs, () => cliPlan(bin, repo, `${name}:${fromSource}`, { SLIPWAY_NO_BUNDLE: '1' }));
  row(fromSource, source.ms, 'SLIPWAY_NO_BUNDLE=1: transpiles the sources at start, as after an edit');

  if (bundled) {
    await writeServicesJson(repo, 'root', { unreleased: true });
    const what = 'slipway plan --json (bundled, + a never-released service)';
    const { ms, last } = await timed(runs, () => cliPlan(bundled, repo, `${name}:${what}`));
    const fresh = last.services.find((s) => s.service === 'svc-new');
    row(what, ms, `${last.history.gitLogPasses} git log passes (shared + its folder) over ${last.history.commits} commits; svc-new affected: ${String(fresh?.affected)}`);
    await writeServicesJson(repo, 'root');
  }

  await inProcessPlan(repo); // module loading is not the plan
  const cpu: number[] = [];
  const inProcess = await timed(runs, async () => cpu.push((await inProcessPlan(repo)).cpuMs));
  row('slipway plan --json (in-process)', inProcess.ms, `CPU ${median(cpu).toFixed(0)} ms in node, git not counted`);

  await writeServicesJson(repo, 'nx');
  let viaGraph: PlanJson | undefined;
  if (bundled) {
    // First run after a change: Nx computes the graph, Slipway keeps it under the work tree's key.
    const cold = 'slipway plan --json (bundled, roots from nx graph: first run)';
    const timedCold = await timed(runs, async () => {
      await rm(join(dir, GRAPH_CACHE), { force: true });
      return cliPlan(bundled, repo, `${name}:${cold}`);
    });
    row(cold, timedCold.ms, `graph from ${timedCold.last.history.projectGraph ?? 'none'}; ${timedCold.last.services.filter((s) => s.affected).length} affected`);
    // Every later run on the same work tree: the cached graph.
    const warm = 'slipway plan --json (bundled, roots from nx graph: cached)';
    const timedWarm = await timed(runs, () => cliPlan(bundled, repo, `${name}:${warm}`));
    viaGraph = timedWarm.last;
    row(warm, timedWarm.ms, `graph from ${viaGraph.history.projectGraph ?? 'none'}; ${viaGraph.services.filter((s) => s.affected).length} affected`);
  }

  if (flag('skip-nx')) return;
  let output = '';
  const nx = await timed(nxRuns, async () => {
    const result = await execa('npx', ['--no-install', 'nx', 'release', 'version', '--dry-run'], { cwd: dir, env: NX_ENV, all: true, reject: false, stdin: 'ignore' });
    output = result.all ?? '';
    if (result.exitCode !== 0) throw new Error(`nx release version --dry-run exited ${String(result.exitCode)}:\n${output.slice(-2000)}`);
  });
  const dirty = (await execa('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: dir })).stdout.trim();
  const versions = nxVersions(output);
  const notes = [agreement(plan, versions, 'roots'), ...(viaGraph ? [agreement(viaGraph, versions, 'nx graph')] : [])];
  const planMedian = median(rows.find((r) => r.scenario === name && r.what === 'slipway plan --json (bundled CLI)')?.ms ?? []);
  const faster = Number.isFinite(planMedian) ? `${(median(nx.ms) / planMedian).toFixed(1)}× slipway's bundled plan; ` : '';
  rows.push({ scenario: name, what: 'nx release version --dry-run', ms: nx.ms, note: `${faster}${notes.join('; ')}${dirty ? '; WROTE FILES despite --dry-run' : ''}` });
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'slipway-plan-bench-'));
  try {
    await mkdir(join(root, 'bundle'));
    const bundled = await bundle(join(root, 'bundle'));
    const rows: Row[] = [];
    const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
    for (const [i, services] of serviceCounts.entries()) {
      shape.services = services;
      const suffix = serviceCounts.length > 1 ? `-${services}` : '';
      if (only === undefined || only === 'recent') await scenario(`recent${suffix}`, false, root, bundled, rows);
      if (only === undefined || only === 'dormant') await scenario(`dormant${suffix}`, true, root, bundled, rows);
      if (i === 0 && (only === undefined || only === 'real-history')) await realHistory(root, rows);
    }

    const head = ['scenario', 'what', 'median', 'min', 'runs', 'notes'];
    const cells = rows.map((r) => [
      r.scenario,
      r.what,
      r.ms.length ? `${(median(r.ms) / 1000).toFixed(2)} s` : '-',
      r.ms.length ? `${(Math.min(...r.ms) / 1000).toFixed(2)} s` : '-',
      String(r.ms.length),
      r.note,
    ]);
    const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
    const line = (c: string[]) => c.map((x, i) => (i === 2 || i === 3 ? x.padStart(widths[i] ?? 0) : x.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
    process.stdout.write(`\nslipway plan vs nx release version: ${serviceCounts.join(', ')} services × ${shape.tagsPerService} tags, ${shape.tail} unreleased commits\n`);
    process.stdout.write(`load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')} on this machine (wall times grow with it)\n\n`);
    process.stdout.write(`${[line(head), ...cells.map(line)].join('\n')}\n`);
  } finally {
    if (flag('keep')) process.stderr.write(`kept ${root}\n`);
    else await rm(root, { recursive: true, force: true });
  }
}

await main();
