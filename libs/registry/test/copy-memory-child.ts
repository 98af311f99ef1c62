// Run as its own process by copy-memory.test.ts: one cross-registry copy through the client's
// default wire, then one JSON line on stdout with the peak RSS and whether undici was loaded.
import { readFileSync } from 'node:fs';
import { copyImage, createRegistryClient } from '../src/index.js';

const [sourceHost, targetHost] = [process.env['SOURCE_HOST'] as string, process.env['TARGET_HOST'] as string];
const result = await copyImage({
  from: { registry: createRegistryClient({ host: sourceHost, insecure: true }), repository: 'staging/api', reference: '1' },
  to: { registry: createRegistryClient({ host: targetHost, insecure: true }), repository: 'prod/api', tags: ['1'] },
});
// Node loads its bundled undici (fetch, Headers, web streams' fetch glue) on first use only;
// `process.moduleLoadList` (undocumented, untyped) names every internal module loaded so far.
const loaded = (process as unknown as { moduleLoadList: readonly string[] }).moduleLoadList;
const undici = loaded.some((name) => name.includes('undici'));
// The high-water mark of this process's own memory: getrusage's maxRSS would also count the pages
// of the parent it was forked from (Linux keeps the larger of the two across exec).
const peakKiB = Number(/^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN);
process.stdout.write(`${JSON.stringify({ digest: result.digest, uploadedBytes: result.blobs.uploadedBytes, undici, peakKiB })}\n`);
