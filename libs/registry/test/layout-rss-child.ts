// Run as its own process by oci-layout-bounds.test.ts: each scenario against a hostile OCI layout
// folder (huge sparse files, files linked to /dev/zero, sizes that lie), then one JSON line on
// stdout with what each ended in and the peak RSS.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildLayerImage, openOciLayout } from '../src/index.js';

const layout = openOciLayout(process.env['LAYOUT_DIR'] as string);
const dir = await mkdtemp(join(tmpdir(), 'slipway-layout-rss-'));
await writeFile(join(dir, 'server.js'), 'x\n');
const build = (repository: string) => buildLayerImage({ from: { registry: layout, repository, reference: 'v1' }, dir, entrypoint: ['node'] });

const scenarios: Record<string, () => Promise<unknown>> = {
  'index.json of 1.5 GiB': () => layout.resolve('huge-index', 'v1'),
  'index.json linked to /dev/zero': () => layout.listTags('zero-index'),
  'manifest of 1.5 GiB': () => layout.getManifest('huge-manifest', 'v1'),
  'manifest linked to /dev/zero': () => layout.getManifest('zero-manifest', 'v1'),
  'manifest declared at 1.5 GiB': () => layout.getManifest('declared-manifest', 'v1'),
  'manifest one byte off its descriptor': () => layout.resolve('off-manifest', 'v1'),
  'base config of 1.5 GiB declared at 1000 bytes': () => build('huge-config'),
  'base config linked to /dev/zero': () => build('zero-config'),
  'base config shorter than its descriptor': () => build('short-config'),
};

const results: Record<string, { error: string; exitCode: unknown; message: string }> = {};
for (const [name, run] of Object.entries(scenarios)) {
  try {
    await run();
    results[name] = { error: 'succeeded', exitCode: 0, message: '' };
  } catch (error) {
    const e = error as { name?: string; code?: string; exitCode?: unknown; message?: string };
    results[name] = { error: `${e.name ?? 'Error'} ${e.code ?? ''}`.trim(), exitCode: e.exitCode, message: e.message ?? '' };
  }
}
process.stdout.write(`${JSON.stringify({ results, maxRssKiB: process.resourceUsage().maxRSS })}\n`);
