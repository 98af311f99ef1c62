// Copy a two-platform index with slipway's registry client and with `skopeo copy --all`, within a
// repository, across repositories of one local Distribution registry (mounts), and across two
// registries (every blob streamed from one to the other), and print requests, bytes and time.
//
//   node --conditions=@slipway/source --import tsx bench/registry-copy.bench.ts [--runs 5] [--layer-mib 4]
//
// Not part of the tests. The source image is pushed with slipway's client, not skopeo, so skopeo's
// blob-info cache knows nothing about it: each tool starts as a fresh CI runner would.

import { execa } from 'execa';
import { copyImage, createRegistryClient } from '@slipway/registry';
import { makeTestImage, makeTestIndex, startRegistry, type RegistryPeer } from '@slipway/testing';

interface Sample {
  requests: number;
  uploaded: number;
  downloaded: number;
  ms: number;
}

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? fallback : Number(process.argv[at + 1]);
}

const runs = option('runs', 5);
const layerBytes = Math.round(option('layer-mib', 4) * 1024 * 1024);

async function measure(peers: RegistryPeer | RegistryPeer[], run: () => Promise<unknown>): Promise<Sample> {
  const all = Array.isArray(peers) ? peers : [peers];
  for (const peer of all) peer.clearRequests();
  const start = performance.now();
  await run();
  const ms = performance.now() - start;
  const requests = all.flatMap((peer) => peer.requests);
  return {
    requests: requests.length,
    uploaded: requests.reduce((sum, r) => sum + r.requestBytes, 0),
    downloaded: requests.reduce((sum, r) => sum + r.responseBytes, 0),
    ms,
  };
}

function median(samples: Sample[], key: keyof Sample): number {
  const sorted = samples.map((s) => s[key]).sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

function row(label: string, samples: Sample[]): string {
  const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  return [
    label.padEnd(34),
    String(median(samples, 'requests')).padStart(8),
    kib(median(samples, 'uploaded')).padStart(14),
    kib(median(samples, 'downloaded')).padStart(14),
    `${median(samples, 'ms').toFixed(0)} ms`.padStart(9),
  ].join('  ');
}

async function main(): Promise<void> {
  const peer = await startRegistry();
  let crossPreserved = true;
  try {
    const client = createRegistryClient({ host: peer.host, insecure: true });
    const index = makeTestIndex([makeTestImage({ architecture: 'amd64', padBytes: layerBytes }), makeTestImage({ architecture: 'arm64', padBytes: layerBytes })]);
    for (const image of index.images) {
      for (const blob of [image.config, ...image.layers]) await client.pushBlob('staging/api', blob);
      await client.putManifest('staging/api', image.digest, image);
    }
    await client.putManifest('staging/api', '1.0.0-staging.1', index);

    const results: Record<string, Sample[]> = { slipwayAcross: [], skopeoAcross: [], slipwayWithin: [], skopeoWithin: [], slipwayHosts: [], skopeoHosts: [] };
    for (let i = 0; i < runs; i++) {
      // Each tool copies into a registry started for this run: skopeo's blob-info cache (for root,
      // /var/lib/containers/cache) remembers where earlier runs put these blobs and would mount
      // them from there; a new host:port has no such memory, as on a fresh CI runner.
      for (const [key, copy] of [
        ['slipwayHosts', (target: RegistryPeer) => copyImage({ from: { registry: client, repository: 'staging/api', reference: '1.0.0-staging.1' }, to: { registry: createRegistryClient({ host: target.host, insecure: true }), repository: 'prod/api', tags: ['1.0.0'] } })],
        ['skopeoHosts', (target: RegistryPeer) => execa('skopeo', ['copy', '--all', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${peer.host}/staging/api:1.0.0-staging.1`, `docker://${target.host}/prod/api:1.0.0`])],
      ] as const) {
        const target = await startRegistry();
        try {
          results[key]?.push(await measure([peer, target], () => copy(target)));
          if ((await createRegistryClient({ host: target.host, insecure: true }).resolve('prod/api', '1.0.0'))?.digest !== index.digest) crossPreserved = false;
        } finally {
          await target.stop();
        }
      }
      results['slipwayAcross']?.push(
        await measure(peer, () =>
          copyImage({ from: { registry: client, repository: 'staging/api', reference: '1.0.0-staging.1' }, to: { repository: `prod-slipway-${i}/api`, tags: ['1.0.0'] } }),
        ),
      );
      results['skopeoAcross']?.push(
        await measure(peer, () =>
          execa('skopeo', ['copy', '--all', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${peer.host}/staging/api:1.0.0-staging.1`, `docker://${peer.host}/prod-skopeo-${i}/api:1.0.0`]),
        ),
      );
      results['slipwayWithin']?.push(
        await measure(peer, () => copyImage({ from: { registry: client, repository: 'staging/api', reference: '1.0.0-staging.1' }, to: { repository: 'staging/api', tags: [`1.0.${i}`] } })),
      );
      results['skopeoWithin']?.push(
        await measure(peer, () =>
          execa('skopeo', ['copy', '--all', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${peer.host}/staging/api:1.0.0-staging.1`, `docker://${peer.host}/staging/api:2.0.${i}`]),
        ),
      );
    }
    const digestOf = async (ref: string) => (await client.resolve(ref.split(':')[0] as string, ref.split(':')[1] as string))?.digest;
    const preserved = crossPreserved && (await digestOf('prod-skopeo-0/api:1.0.0')) === index.digest && (await digestOf('prod-slipway-0/api:1.0.0')) === index.digest;

    const layerMib = (layerBytes / 1024 / 1024).toFixed(1);
    process.stdout.write(
      [
        `two-platform index (2 x ${layerMib} MiB layers), local Distribution registry ${peer.host}, median of ${runs} runs`,
        '(across registries: into a new registry each run, counted on both, so each layer is once down and once up)',
        '',
        ['copy'.padEnd(34), 'requests'.padStart(8), 'bytes up'.padStart(14), 'bytes down'.padStart(14), 'time'.padStart(9)].join('  '),
        row('slipway, across repositories', results['slipwayAcross'] ?? []),
        row('skopeo copy --all, across repos', results['skopeoAcross'] ?? []),
        row('slipway, within a repository', results['slipwayWithin'] ?? []),
        row('skopeo copy --all, within repo', results['skopeoWithin'] ?? []),
        row('slipway, across registries', results['slipwayHosts'] ?? []),
        row('skopeo copy --all, across regs', results['skopeoHosts'] ?? []),
        '',
        `index digest preserved by both: ${preserved ? 'yes' : 'NO'}`,
        '',
      ].join('\n'),
    );
  } finally {
    await peer.stop();
  }
}

await main();
