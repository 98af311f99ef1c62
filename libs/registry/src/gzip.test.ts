import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { execa } from 'execa';
import { describe, expect, it, onTestFinished } from 'vitest';
import { gzipReproducible } from './gzip.js';
import { writeTar } from './tar.js';

describe('gzipReproducible', () => {
  const input = new TextEncoder().encode('layer bytes '.repeat(1000));

  it('writes a fixed header: no name, MTIME 0, OS Unix', () => {
    const out = gzipReproducible(input);
    expect([...out.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
  });

  it('gives the same bytes every time and round-trips', () => {
    const a = gzipReproducible(input);
    const b = gzipReproducible(new Uint8Array(input));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(new Uint8Array(gunzipSync(a))).toEqual(input);
  });

  it('makes a .tar.gz the system tar reads', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'slipway-gzip-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'layer.tar.gz');
    await writeFile(file, gzipReproducible(writeTar([{ type: 'file', path: 'app/a.txt', data: input }])));
    const { stdout } = await execa('tar', ['-tzf', file]);
    expect(stdout.trim()).toBe('app/a.txt');
    await execa('gzip', ['-t', file]);
  });
});
