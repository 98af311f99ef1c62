// Run as its own process by peak-rss.test.ts: each scenario against a hostile registry that
// streams huge bodies, then one JSON line on stdout with what each ended in and the peak RSS.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildLayerImage, createRegistryClient } from '../src/index.js';

const host = process.env['HOSTILE_HOST'] as string;
// A client per scenario: one that learned a token realm would send every later request through it.
const fresh = () => createRegistryClient({ host, insecure: true, retry: { attempts: 1 } });
const dir = await mkdtemp(join(tmpdir(), 'slipway-rss-'));
await writeFile(join(dir, 'server.js'), 'x\n');
const digest = `sha256:${'1'.repeat(64)}`;

const scenarios: Record<string, () => Promise<unknown>> = {
  'base config larger than its descriptor says': () =>
    buildLayerImage({ from: { registry: fresh(), repository: 'acme/base', reference: 'lies' }, dir, entrypoint: ['node'] }),
  'base config declared at 1.5 GiB': () => buildLayerImage({ from: { registry: fresh(), repository: 'acme/base', reference: 'huge' }, dir, entrypoint: ['node'] }),
  'blob larger than its descriptor': () => fresh().getBlob('acme/base', digest, { size: 1000 }),
  'blob of unknown size': () => fresh().getBlob('acme/base', digest),
  'error body of 1 GiB': () => fresh().getManifest('acme/error', 'v1'),
  'token answer of 1 GiB': () => fresh().getManifest('acme/token', 'v1'),
  'redirect body of 1 GiB': () => fresh().getManifest('acme/redirect', 'v1'),
  'tag list of 1 GiB': () => fresh().listTags('acme/tags'),
};

const results: Record<string, string> = {};
for (const [name, run] of Object.entries(scenarios)) {
  try {
    await run();
    results[name] = 'succeeded';
  } catch (error) {
    const e = error as { name?: string; code?: string };
    results[name] = `${e.name ?? 'Error'} ${e.code ?? ''}`.trim();
  }
}
process.stdout.write(`${JSON.stringify({ results, maxRssKiB: process.resourceUsage().maxRSS })}\n`);
