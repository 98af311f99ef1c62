// A layer build from git objects on a folder of incompressible files: Slipway (read from git's
// objects → tar → gzip → sha256 → spool file → OCI layout, in a child process) beside its floor,
// `git archive <commit> <dir> | gzip -6 > /dev/null`, and umoci (`umoci insert` of the checked-out
// folder into an OCI layout) as the peer. Runs are interleaved; wall time and peak RSS (GNU time).
//
//   node --conditions=@slipway/source --import tsx bench/layer-build.bench.ts [--mib 1024] [--runs 3] [--file-mib 4]
//
// Not part of the tests. Needs git, gzip, umoci and GNU time (/usr/bin/time).

import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? fallback : Number(process.argv[at + 1]);
}

const mib = option('mib', 1024);
const runs = option('runs', 3);
const fileMib = option('file-mib', 4);
const CHILD = fileURLToPath(new URL('../apps/release/test/layer-build-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const gitEnv = { GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@b' };

interface Sample {
  ms: number;
  rssMiB: number;
}

/** Wall time and peak RSS (of the largest process, as GNU time reports it) of one command. */
async function timed(command: string, args: string[], cwd: string): Promise<Sample & { stdout: string }> {
  const start = performance.now();
  const result = await execa('/usr/bin/time', ['-f', 'MAXRSS %M', command, ...args], { cwd, env: gitEnv });
  const ms = performance.now() - start;
  const rss = /MAXRSS (\d+)/.exec(result.stderr);
  return { ms, rssMiB: rss ? Number(rss[1]) / 1024 : NaN, stdout: result.stdout };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'slipway-layer-bench-'));
  try {
    const repo = join(work, 'repo');
    await mkdir(join(repo, 'app'), { recursive: true });
    await execa('git', ['init', '-q', '-b', 'main'], { cwd: repo, env: gitEnv });
    for (let i = 0; i < mib / fileMib; i++) await writeFile(join(repo, 'app', `blob-${String(i).padStart(5, '0')}.bin`), randomBytes(fileMib * 1024 * 1024));
    await execa('git', ['add', '-A'], { cwd: repo, env: gitEnv });
    await execa('git', ['commit', '-q', '-m', 'bench'], { cwd: repo, env: gitEnv });
    const commit = (await execa('git', ['rev-parse', 'HEAD'], { cwd: repo })).stdout.trim();
    console.log(`folder: ${mib} MiB of incompressible files (${mib / fileMib} × ${fileMib} MiB), node ${process.version}, zlib ${process.versions.zlib}`);

    const samples: Record<'floor' | 'slipway' | 'umoci', Sample[]> = { floor: [], slipway: [], umoci: [] };
    let layerBytes = 0;
    const load: number[] = [];
    for (let run = 0; run < runs; run++) {
      load.push(loadavg()[0] ?? NaN);
      samples.floor.push(await timed('sh', ['-c', `git archive ${commit} app | gzip -6 > /dev/null`], repo));

      const layout = join(work, `slipway-${run}`);
      const spool = join(work, `spool-${run}`);
      await mkdir(spool);
      const slipway = await timed('node', ['--conditions=@slipway/source', '--import', 'tsx', CHILD, repo, commit, 'app', layout, spool], ROOT);
      const reported = JSON.parse(slipway.stdout.trim().split('\n').at(-1) ?? '{}') as { maxRssMiB: number; layerBytes: number };
      layerBytes = reported.layerBytes;
      samples.slipway.push({ ms: slipway.ms, rssMiB: reported.maxRssMiB });
      await rm(layout, { recursive: true, force: true });
      await rm(spool, { recursive: true, force: true });

      const umociLayout = join(work, `umoci-${run}`);
      await execa('umoci', ['init', '--layout', umociLayout]);
      await execa('umoci', ['new', '--image', `${umociLayout}:base`]);
      samples.umoci.push(await timed('umoci', ['insert', '--rootless', '--image', `${umociLayout}:base`, join(repo, 'app'), '/app'], work));
      await rm(umociLayout, { recursive: true, force: true });
    }

    load.push(loadavg()[0] ?? NaN);
    const floor = median(samples.floor.map((s) => s.ms));
    console.log(
      `layer: ${(layerBytes / 1024 / 1024).toFixed(1)} MiB compressed; median of ${runs} interleaved runs; 1-minute load average ${Math.min(...load).toFixed(1)}–${Math.max(...load).toFixed(1)} (sampled between runs)`,
    );
    console.log(`${'path'.padEnd(58)}  ${'wall'.padStart(9)}  ${'× floor'.padStart(8)}  ${'peak RSS'.padStart(10)}`);
    const rows: [string, Sample[]][] = [
      ['floor: git archive | gzip -6 > /dev/null', samples.floor],
      ['slipway: git objects → tar → gzip → sha256 → OCI layout', samples.slipway],
      ['umoci insert (checked-out folder → OCI layout)', samples.umoci],
    ];
    for (const [label, list] of rows) {
      const ms = median(list.map((s) => s.ms));
      console.log(`${label.padEnd(58)}  ${`${(ms / 1000).toFixed(2)} s`.padStart(9)}  ${`${(ms / floor).toFixed(2)}×`.padStart(8)}  ${`${median(list.map((s) => s.rssMiB)).toFixed(0)} MiB`.padStart(10)}`);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
