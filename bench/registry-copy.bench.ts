// Copy a two-platform index with slipway and with `skopeo copy --all`, side by side in the same
// run, on local Distribution registries:
//
// - across registries (issue 19 goal 2: every blob streamed from one registry to another): the
//   `slipway image copy` CLI (bundled fresh from the sources, as npm installs it) and skopeo, each a
//   process of its own under GNU time, interleaved (the order alternates every run), each into a
//   registry started for that run: wall time and its ratio to skopeo's in the same round, CPU
//   (user + sys), peak RSS, requests (counted at both registries' front doors) and bytes;
// - within a repository and across repositories of one registry (mounts): slipway's registry
//   client in-process and skopeo, requests and time.
//
//   node --conditions=@slipway/source --import tsx bench/registry-copy.bench.ts [--runs 5] [--layer-mib 300] [--local-runs 3] [--baseline <dist dir>]
//
// --baseline adds another build of the CLI (a directory holding its slipway.mjs, as
// `node tools/bundle-cli.mjs --out <dir>` makes it, e.g. from main) to the same rounds: before and
// after a change, measured side by side.
//
// Not part of the tests. Needs docker-registry, skopeo and GNU time (/usr/bin/time). The source
// image is pushed with slipway's client, not skopeo, so skopeo's blob-info cache knows nothing
// about it, and every cross-registry target is new, so neither tool can mount or skip a blob.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { copyImage, createRegistryClient } from '@slipway/registry';
import { makeTestImage, makeTestIndex, startRegistry, type RegistryPeer } from '@slipway/testing';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? fallback : Number(process.argv[at + 1]);
}

const runs = option('runs', 5);
const localRuns = option('local-runs', 3);
const layerBytes = Math.round(option('layer-mib', 300) * 1024 * 1024);
const baselineAt = process.argv.indexOf('--baseline');
const baseline = baselineAt < 0 ? undefined : process.argv[baselineAt + 1];
const workspace = fileURLToPath(new URL('..', import.meta.url));
const MiB = 1024 * 1024;

interface Sample {
  wallMs: number;
  cpuMs: number;
  rssKiB: number;
  requests: number;
  up: number;
  down: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** Requests both front doors saw, with the bytes sent to them and read from them. */
function counted(peers: RegistryPeer[]): Pick<Sample, 'requests' | 'up' | 'down'> {
  const requests = peers.flatMap((peer) => peer.requests);
  return { requests: requests.length, up: requests.reduce((sum, r) => sum + r.requestBytes, 0), down: requests.reduce((sum, r) => sum + r.responseBytes, 0) };
}

/** `command` under GNU time: wall, user + sys CPU and peak RSS of the process (and its children). */
async function timed(command: string, args: string[], options: { cwd: string }): Promise<Pick<Sample, 'wallMs' | 'cpuMs' | 'rssKiB'>> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-bench-time-'));
  try {
    const out = join(dir, 'time');
    const start = performance.now();
    const done = await execa('/usr/bin/time', ['-o', out, '-f', '%U %S %M', command, ...args], { cwd: options.cwd, reject: false });
    const wallMs = performance.now() - start;
    if (done.exitCode !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${done.exitCode}):\n${done.stderr}`);
    const [user, sys, rss] = (await readFile(out, 'utf8')).trim().split('\n').at(-1)?.split(' ').map(Number) ?? [];
    return { wallMs, cpuMs: ((user ?? NaN) + (sys ?? NaN)) * 1000, rssKiB: rss ?? NaN };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), 'slipway-bench-copy-'));
  const peer = await startRegistry();
  try {
    // The CLI as it ships: one bundle made from the current sources.
    await execa(process.execPath, [join(workspace, 'tools/bundle-cli.mjs'), '--strict', '--out', join(scratch, 'dist')], { cwd: workspace });
    const cli = join(scratch, 'dist', 'slipway.mjs');

    const client = createRegistryClient({ host: peer.host, insecure: true });
    const index = makeTestIndex([makeTestImage({ architecture: 'amd64', padBytes: layerBytes }), makeTestImage({ architecture: 'arm64', padBytes: layerBytes })]);
    for (const image of index.images) {
      for (const blob of [image.config, ...image.layers]) await client.pushBlob('staging/api', blob);
      await client.putManifest('staging/api', image.digest, image);
    }
    await client.putManifest('staging/api', '1.0.0-staging.1', index);
    const source = `${peer.host}/staging/api:1.0.0-staging.1`;
    let preserved = true;

    // Across registries: two processes, interleaved, each into a registry of its own.
    type Tool = 'slipway' | 'skopeo' | 'baseline';
    const hosts: Record<Tool, Sample[]> = { slipway: [], skopeo: [], baseline: [] };
    const ratios: number[] = [];
    const baselineRatios: number[] = [];
    const slipwayCopy = (bundle: string) => async (target: RegistryPeer) => {
      await writeFile(join(scratch, 'services.json'), JSON.stringify({ insecureRegistries: [peer.host, target.host], services: { api: {} } }));
      return timed(process.execPath, [bundle, 'image', 'copy', source, `${target.host}/prod/api:1.0.0`, '--cwd', scratch], { cwd: scratch });
    };
    const tools: Record<Tool, (target: RegistryPeer) => Promise<Pick<Sample, 'wallMs' | 'cpuMs' | 'rssKiB'>>> = {
      slipway: slipwayCopy(cli),
      baseline: slipwayCopy(join(baseline ?? '', 'slipway.mjs')),
      skopeo: (target: RegistryPeer) =>
        timed('skopeo', ['copy', '--all', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${source}`, `docker://${target.host}/prod/api:1.0.0`], { cwd: scratch }),
    };
    for (let i = 0; i < runs; i++) {
      const tried: Tool[] = baseline === undefined ? ['slipway', 'skopeo'] : ['slipway', 'skopeo', 'baseline'];
      const order = i % 2 === 0 ? tried : [...tried].reverse();
      const round: Partial<Record<Tool, Sample>> = {};
      for (const tool of order) {
        const target = await startRegistry();
        try {
          peer.clearRequests();
          const time = await tools[tool](target);
          round[tool] = { ...time, ...counted([peer, target]) };
          hosts[tool].push(round[tool]);
          if ((await createRegistryClient({ host: target.host, insecure: true }).resolve('prod/api', '1.0.0'))?.digest !== index.digest) preserved = false;
        } finally {
          await target.stop();
        }
      }
      ratios.push((round.slipway?.wallMs ?? NaN) / (round.skopeo?.wallMs ?? NaN));
      if (round.baseline) baselineRatios.push(round.baseline.wallMs / (round.skopeo?.wallMs ?? NaN));
      process.stderr.write(
        `round ${i + 1}/${runs}: ${tried.map((tool) => `${tool} ${round[tool]?.wallMs.toFixed(0)} ms`).join(', ')}, load ${(await readFile('/proc/loadavg', 'utf8')).split(' ')[0]}\n`,
      );
    }

    // Within a repository and across repositories of one registry: requests and time.
    const local: Record<string, { requests: number[]; ms: number[] }> = {};
    const measureLocal = async (key: string, run: () => Promise<unknown>) => {
      peer.clearRequests();
      const start = performance.now();
      await run();
      const ms = performance.now() - start;
      const entry = (local[key] ??= { requests: [], ms: [] });
      entry.requests.push(peer.requests.length);
      entry.ms.push(ms);
    };
    const skopeoCopy = (to: string) => execa('skopeo', ['copy', '--all', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${source}`, `docker://${peer.host}/${to}`]);
    const from = { registry: client, repository: 'staging/api', reference: '1.0.0-staging.1' };
    for (let i = 0; i < localRuns; i++) {
      await measureLocal('slipway, across repositories (mounts)', () => copyImage({ from, to: { repository: `prod-slipway-${i}/api`, tags: ['1.0.0'] } }));
      await measureLocal('skopeo copy --all, across repositories', () => skopeoCopy(`prod-skopeo-${i}/api:1.0.0`));
      await measureLocal('slipway, within a repository', () => copyImage({ from, to: { repository: 'staging/api', tags: [`1.0.${i}`] } }));
      await measureLocal('skopeo copy --all, within a repository', () => skopeoCopy(`staging/api:2.0.${i}`));
    }
    for (const repo of ['prod-slipway-0/api', 'prod-skopeo-0/api']) if ((await client.resolve(repo, '1.0.0'))?.digest !== index.digest) preserved = false;

    const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
    const { stdout: skopeoVersion } = await execa('skopeo', ['--version']);
    const lines = [
      `two-platform index (2 × ${(layerBytes / MiB).toFixed(0)} MiB layers, random bytes), local Distribution registries, node ${process.version}, ${skopeoVersion}`,
      `load average at the end: ${(await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ')}`,
      '',
      `across registries, ${runs} interleaved rounds (medians; each into a new registry; requests and bytes counted at both registries):`,
      '',
      '| tool | wall | CPU (user+sys) | peak RSS | requests | bytes up | bytes down |',
      '|---|---|---|---|---|---|---|',
      ...(baseline === undefined ? (['slipway', 'skopeo'] as const) : (['slipway', 'baseline', 'skopeo'] as const)).map((tool) => {
        const samples = hosts[tool];
        const pick = (key: keyof Sample) => median(samples.map((s) => s[key]));
        const name = tool === 'slipway' ? '`slipway image copy` (bundled CLI)' : tool === 'baseline' ? `baseline (${baseline ?? ''})` : '`skopeo copy --all`';
        return `| ${name} | ${(pick('wallMs') / 1000).toFixed(2)} s | ${(pick('cpuMs') / 1000).toFixed(2)} s | ${(pick('rssKiB') / 1024).toFixed(0)} MiB | ${pick('requests')} | ${mib(pick('up'))} | ${mib(pick('down'))} |`;
      }),
      '',
      `wall ratio slipway / skopeo, per round: ${ratios.map((r) => r.toFixed(2)).join(', ')} (median ${median(ratios).toFixed(2)})`,
      ...(baseline === undefined ? [] : [`wall ratio baseline / skopeo, per round: ${baselineRatios.map((r) => r.toFixed(2)).join(', ')} (median ${median(baselineRatios).toFixed(2)})`]),
      '',
      `within one registry, ${localRuns} runs (medians; slipway in-process):`,
      '',
      '| copy | requests | time |',
      '|---|---|---|',
      ...Object.entries(local).map(([key, entry]) => `| ${key} | ${median(entry.requests)} | ${median(entry.ms).toFixed(0)} ms |`),
      '',
      `index digest preserved everywhere: ${preserved ? 'yes' : 'NO'}`,
      '',
    ];
    process.stdout.write(lines.join('\n'));
    if (!preserved) process.exitCode = 1;
  } finally {
    await peer.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
