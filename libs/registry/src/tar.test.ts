import { mkdtemp, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import fc from 'fast-check';
import { describe, expect, it, onTestFinished } from 'vitest';
import { TarError, writeTar, type TarEntry } from './tar.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-tar-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function writeArchive(entries: TarEntry[], mtime?: number): Promise<string> {
  const dir = await tempDir();
  const file = join(dir, 'layer.tar');
  await writeFile(file, writeTar(entries, mtime === undefined ? {} : { mtime }));
  return file;
}

const sample: TarEntry[] = [
  { type: 'file', path: 'app/server.js', data: text('console.log("hi")\n') },
  { type: 'dir', path: 'app' },
  { type: 'file', path: 'app/bin/start', mode: 0o755, data: text('#!/bin/sh\nexec node /app/server.js\n') },
  { type: 'dir', path: 'app/bin' },
  { type: 'symlink', path: 'app/current', target: 'server.js' },
  { type: 'file', path: 'app/empty', data: new Uint8Array(0) },
];

describe('writeTar', () => {
  it('writes an archive GNU tar lists with sorted paths, fixed modes, owner 0/0 and the given mtime', async () => {
    const file = await writeArchive(sample, 1_700_000_000);
    const { stdout } = await execa('tar', ['--numeric-owner', '--full-time', '-tvf', file], { env: { TZ: 'UTC' } });
    const lines = stdout.trim().split('\n').map((line) => line.split(/\s+/));
    expect(lines.map((l) => l.slice(5).join(' '))).toEqual([
      'app/',
      'app/bin/',
      'app/bin/start',
      'app/current -> server.js',
      'app/empty',
      'app/server.js',
    ]);
    expect(lines.map((l) => l[0])).toEqual(['drwxr-xr-x', 'drwxr-xr-x', '-rwxr-xr-x', 'lrwxrwxrwx', '-rw-r--r--', '-rw-r--r--']);
    for (const l of lines) {
      expect(l[1]).toBe('0/0');
      expect(`${l[3]} ${l[4]}`).toBe('2023-11-14 22:13:20');
    }
  });

  it('extracts with the system tar to the same contents', async () => {
    const file = await writeArchive(sample);
    const out = await tempDir();
    await execa('tar', ['-xf', file, '-C', out]);
    expect(await readFile(join(out, 'app/server.js'), 'utf8')).toBe('console.log("hi")\n');
    expect((await stat(join(out, 'app/bin/start'))).mode & 0o777).toBe(0o755);
    expect(await readlink(join(out, 'app/current'))).toBe('server.js');
    expect((await stat(join(out, 'app/empty'))).size).toBe(0);
  });

  it('stores long and non-ASCII names that GNU tar restores exactly', async () => {
    const deep = `app/${'d'.repeat(90)}/${'e'.repeat(90)}/file.txt`; // > 100: ustar prefix split
    const veryLong = `app/${'x'.repeat(200)}/${'y'.repeat(200)}.txt`; // no ustar split fits: pax path
    const unicode = 'app/données/ñandú-😀.txt'; // non-ASCII: pax path
    const longTarget = `../${'t'.repeat(150)}`;
    const file = await writeArchive([
      { type: 'dir', path: 'app' },
      { type: 'file', path: deep, data: text('deep') },
      { type: 'file', path: veryLong, data: text('long') },
      { type: 'file', path: unicode, data: text('unicode') },
      { type: 'symlink', path: 'app/link', target: longTarget },
    ]);
    const out = await tempDir();
    await execa('tar', ['-xf', file, '-C', out]);
    expect(await readFile(join(out, deep), 'utf8')).toBe('deep');
    expect(await readFile(join(out, veryLong), 'utf8')).toBe('long');
    expect(await readFile(join(out, unicode), 'utf8')).toBe('unicode');
    expect(await readlink(join(out, 'app/link'))).toBe(longTarget);
  });

  it('pads data to 512-byte blocks and ends with two zero blocks', () => {
    const bytes = writeTar([{ type: 'file', path: 'a', data: new Uint8Array(513).fill(7) }]);
    expect(bytes.length).toBe(512 + 1024 + 1024);
    expect(bytes.subarray(bytes.length - 1024).every((b) => b === 0)).toBe(true);
  });

  it('gives the same bytes whatever order the entries come in', () => {
    const entry = fc.record({
      path: fc.stringMatching(/^[a-z]{1,8}(\/[a-z]{1,8}){0,3}$/),
      data: fc.uint8Array({ maxLength: 700 }),
      exec: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.uniqueArray(entry, { selector: (e) => e.path, maxLength: 12 }), fc.nat(), (raw, seed) => {
        // Paths must not be both a file and a parent of another entry; keep the leaves only.
        const leaves = raw.filter((e) => !raw.some((o) => o.path.startsWith(`${e.path}/`)));
        const entries: TarEntry[] = leaves.map((e) => ({ type: 'file', path: e.path, data: e.data, mode: e.exec ? 0o755 : 0o644 }));
        const shuffled = [...entries].sort((a, b) => ((hash(a.path) ^ seed) % 97) - ((hash(b.path) ^ seed) % 97));
        expect(writeTar(shuffled)).toEqual(writeTar(entries));
      }),
    );
  });

  it.each([
    ['a path escaping the root', [{ type: 'file', path: 'app/../../etc/passwd', data: new Uint8Array(0) }]],
    ['an empty path', [{ type: 'dir', path: './' }]],
    ['a duplicate path', [{ type: 'dir', path: 'app' }, { type: 'dir', path: 'app/' }]],
  ] as [string, TarEntry[]][])('refuses %s', (_what, entries) => {
    expect(() => writeTar(entries)).toThrow(TarError);
  });
});

function hash(s: string): number {
  let h = 0;
  for (const c of s) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h;
}
