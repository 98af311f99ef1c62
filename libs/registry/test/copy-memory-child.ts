// Run as its own process by copy-memory.test.ts: one cross-registry copy through the client's
// default wire, then one JSON line on stdout with the peak RSS and how often fetch was called.
import { readFileSync } from 'node:fs';

// fetch (Node's bundled undici: its first request alone costs ~40 MiB of RSS) must not be what the
// default wire speaks. Counted, not inferred from the modules loaded: on Node 24 node:http itself
// loads undici's module.
let fetchCalls = 0;
const realFetch = globalThis.fetch;
globalThis.fetch = (...args: Parameters<typeof fetch>) => {
  fetchCalls++;
  return realFetch(...args);
};
// Imported after the count is in place, so a module that keeps a reference to fetch keeps ours.
const { copyImage, createRegistryClient } = await import('../src/index.js');

const [sourceHost, targetHost] = [process.env['SOURCE_HOST'] as string, process.env['TARGET_HOST'] as string];
const result = await copyImage({
  from: { registry: createRegistryClient({ host: sourceHost, insecure: true }), repository: 'staging/api', reference: '1' },
  to: { registry: createRegistryClient({ host: targetHost, insecure: true }), repository: 'prod/api', tags: ['1'] },
});
// The high-water mark of this process's own memory: getrusage's maxRSS would also count the pages
// of the parent it was forked from (Linux keeps the larger of the two across exec).
const peakKiB = Number(/^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN);
process.stdout.write(`${JSON.stringify({ digest: result.digest, uploadedBytes: result.blobs.uploadedBytes, fetchCalls, peakKiB })}\n`);
