import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { execa } from 'execa';
import { describe, expect, it, onTestFinished } from 'vitest';
import { gzipReproducible } from '../gzip.js';
import { parallelGzip, type ParallelGzipOptions } from './parallel-gzip.js';

/** `bytes` as an async stream of pieces of the given sizes (cycled), as a file or a pipe delivers them. */
async function* pieces(bytes: Uint8Array, sizes: number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const size = sizes[i % sizes.length] ?? 1;
    yield bytes.subarray(at, at + size);
    at += size;
  }
}

async function gzip(bytes: Uint8Array, sizes: number[], options: ParallelGzipOptions): Promise<Buffer> {
  const out: Uint8Array[] = [];
  for await (const piece of parallelGzip(pieces(bytes, sizes), options)) out.push(piece);
  return Buffer.concat(out);
}

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

// Text compresses (so blocks differ in size and a reordering would show), random bytes do not.
const text = new TextEncoder().encode(Array.from({ length: 40_000 }, (_, i) => `line ${i} of a layer ${i % 7 === 0 ? 'with a twist' : ''}\n`).join(''));
const noise = randomBytes(3 * 64 * 1024 + 123);
const input = Buffer.concat([text, noise, text.subarray(0, 5000)]);

describe('parallelGzip', () => {
  it('streams exactly the bytes gzipReproducible makes in one call, at block edges too', async () => {
    for (const length of [0, 1, 64 * 1024 - 1, 64 * 1024, 64 * 1024 + 1, 3 * 64 * 1024, input.length]) {
      const bytes = input.subarray(0, length);
      const streamed = await gzip(bytes, [4096, 333], { blockBytes: 64 * 1024, concurrency: 3 });
      expect(sha(streamed), `${length} bytes`).toBe(sha(gzipReproducible(bytes, 6, 64 * 1024)));
    }
    // And with the defaults the builders use.
    expect(sha(await gzip(input, [70_000], {}))).toBe(sha(gzipReproducible(input)));
  });

  it('gives the same bytes whatever the concurrency and however the input arrives', async () => {
    const options = { blockBytes: 64 * 1024 };
    const reference = await gzip(input, [input.length], { ...options, concurrency: 1 });
    for (const [sizes, concurrency] of [[[1000, 77, 65_536], 4], [[65_536], 2], [[997], 8], [[200_000], 3]] as const) {
      const out = await gzip(input, [...sizes], { ...options, concurrency });
      expect(sha(out), `pieces ${sizes.join(',')}, concurrency ${concurrency}`).toBe(sha(reference));
    }
    // Really several blocks: another block size gives other bytes (same content).
    const other = await gzip(input, [input.length], { blockBytes: 100_000 });
    expect(sha(other)).not.toBe(sha(reference));
    expect(new Uint8Array(gunzipSync(other))).toEqual(new Uint8Array(input));
  });

  it('is one gzip member Node and the system gzip read back to the input, header pinned', async () => {
    const out = await gzip(input, [50_000], { blockBytes: 64 * 1024 });
    expect([...out.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
    expect(sha(gunzipSync(out))).toBe(sha(input));
    expect(out.length).toBeLessThan(input.length); // the text did compress

    const dir = await mkdtemp(join(tmpdir(), 'slipway-pgzip-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'layer.gz');
    await writeFile(file, out);
    await execa('gzip', ['-t', file]); // CRC and length checked by gzip itself
    const { stdout } = await execa('gzip', ['-dc', file], { encoding: 'buffer' });
    expect(sha(stdout)).toBe(sha(input));
  });

  it('handles an empty input and one that ends exactly on a block boundary', async () => {
    const empty = await gzip(new Uint8Array(0), [1], {});
    expect(gunzipSync(empty).length).toBe(0);
    const exact = randomBytes(4 * 4096);
    const out = await gzip(exact, [4096], { blockBytes: 4096, concurrency: 2 });
    expect(sha(gunzipSync(out))).toBe(sha(exact));
  });
});
