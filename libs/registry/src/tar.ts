// A small, reproducible tar writer for image layers. The bytes depend only on the entries given:
// entries are sorted by path (UTF-8 byte order), every header carries the same mtime, uid/gid 0
// and empty uname/gname, so the same folder gives the same layer on any machine.
// Format: POSIX ustar, with a pax extended header only when a name does not fit ustar
// (longer than ustar's name/prefix split allows, or not ASCII).

import { concatBytes } from '@slipway/redact';

export type TarEntry =
  | { type: 'dir'; path: string; mode?: number }
  | { type: 'file'; path: string; mode?: number; data: Uint8Array }
  | { type: 'symlink'; path: string; target: string };

export interface TarOptions {
  /** Seconds since the epoch written as every entry's mtime. Default 0. */
  mtime?: number;
}

export class TarError extends Error {
  override readonly name = 'TarError';
  readonly code = 'E_TAR_ENTRY';
  readonly exitCode = 2 as const;
  readonly path: string;

  constructor(message: string, path: string) {
    super(message);
    this.path = path;
  }
}

const BLOCK = 512;
const encoder = new TextEncoder();

/** A tar entry whose file contents are streamed in later: only the size is known up front. */
export type TarStreamEntry =
  | { type: 'dir'; path: string; mode?: number }
  | { type: 'file'; path: string; mode?: number; size: number }
  | { type: 'symlink'; path: string; target: string };

/** Write a tar archive (with its two-block end marker) from `entries`, in sorted order. */
export function writeTar(entries: readonly TarEntry[], options: TarOptions = {}): Uint8Array {
  const mtime = checkMtime(options.mtime);
  const chunks: Uint8Array[] = [];
  for (const entry of sortTarEntries(entries)) {
    const data = entry.type === 'file' ? entry.data : new Uint8Array(0);
    chunks.push(tarHeader(entry.type === 'file' ? { ...entry, size: data.length } : entry, mtime));
    if (data.length > 0) chunks.push(data, tarPadding(data.length));
  }
  chunks.push(tarEnd());
  return concatBytes(chunks);
}

/**
 * `entries` with normalized paths, in the archive's order (UTF-8 byte order of the path);
 * TarError on an empty, escaping or repeated path. Streaming writers sort first, then read each
 * file's bytes in this order.
 */
export function sortTarEntries<T extends { path: string }>(entries: readonly T[]): T[] {
  const normalized = entries.map((entry) => {
    const path = normalizeEntryPath(entry.path);
    return { entry: { ...entry, path }, key: encoder.encode(path) };
  });
  normalized.sort((a, b) => compareBytes(a.key, b.key));
  for (let i = 1; i < normalized.length; i++) {
    const current = normalized[i];
    if (current && current.entry.path === normalized[i - 1]?.entry.path) throw new TarError(`duplicate tar entry ${current.entry.path}`, current.entry.path);
  }
  return normalized.map((n) => n.entry);
}

/** The header blocks of one entry whose path is already normalized (a pax header first when ustar cannot hold it). */
export function tarHeader(entry: TarStreamEntry, mtime = 0): Uint8Array {
  const path = entry.path;
  const name = entry.type === 'dir' ? `${path}/` : path;
  const size = entry.type === 'file' ? entry.size : 0;
  const linkname = entry.type === 'symlink' ? entry.target : '';
  const mode = entry.type === 'symlink' ? 0o777 : (entry.mode ?? (entry.type === 'dir' ? 0o755 : 0o644)) & 0o7777;
  const typeflag = entry.type === 'dir' ? '5' : entry.type === 'symlink' ? '2' : '0';

  const chunks: Uint8Array[] = [];
  const split = splitUstarName(name);
  const pax: Record<string, string> = {};
  if (!split) pax['path'] = name;
  if (linkname && !fitsUstar(linkname, 100)) pax['linkpath'] = linkname;
  if (Object.keys(pax).length > 0) {
    const body = encodePax(pax);
    chunks.push(header({ name: paxHeaderName(name), prefix: '', mode: 0o644, size: body.length, mtime, typeflag: 'x', linkname: '' }));
    chunks.push(body, tarPadding(body.length));
  }
  chunks.push(
    header({
      name: split ? split.name : asciiFallback(name, 100),
      prefix: split ? split.prefix : '',
      mode,
      size,
      mtime,
      typeflag,
      linkname: fitsUstar(linkname, 100) ? linkname : asciiFallback(linkname, 100),
    }),
  );
  return concatBytes(chunks);
}

/** The zeros that round `length` bytes of data up to a whole block. */
export function tarPadding(length: number): Uint8Array {
  const rest = length % BLOCK;
  return new Uint8Array(rest === 0 ? 0 : BLOCK - rest);
}

/** The two zero blocks that end an archive. */
export function tarEnd(): Uint8Array {
  return new Uint8Array(BLOCK * 2);
}

/** Seconds since the epoch for every header; TarError unless a whole number ≥ 0. */
export function checkMtime(mtime: number | undefined): number {
  const value = mtime ?? 0;
  if (!Number.isInteger(value) || value < 0) throw new TarError(`mtime must be a non-negative integer, got ${value}`, '');
  return value;
}

function normalizeEntryPath(raw: string): string {
  const parts = raw.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.length === 0) throw new TarError(`empty tar entry path ${JSON.stringify(raw)}`, raw);
  if (parts.includes('..')) throw new TarError(`tar entry path ${raw} escapes the archive root`, raw);
  if (raw.includes('\0')) throw new TarError(`tar entry path ${JSON.stringify(raw)} contains NUL`, raw);
  return parts.join('/');
}

function fitsUstar(value: string, max: number): boolean {
  // Non-ASCII names go to pax so readers decode them as UTF-8, not in the locale's charset.
  return /^[\x20-\x7e]*$/.test(value) && value.length <= max;
}

function splitUstarName(name: string): { name: string; prefix: string } | undefined {
  if (fitsUstar(name, 100)) return { name, prefix: '' };
  if (!fitsUstar(name, 256)) return undefined;
  // Split at a '/' so that prefix ≤ 155 and name ≤ 100; directories keep their trailing '/'.
  const body = name.endsWith('/') ? name.slice(0, -1) : name;
  for (let i = body.indexOf('/'); i !== -1; i = body.indexOf('/', i + 1)) {
    const prefix = body.slice(0, i);
    const rest = name.slice(i + 1);
    if (prefix.length <= 155 && rest.length <= 100 && rest.length > 0) return { name: rest, prefix };
  }
  return undefined;
}

function paxHeaderName(name: string): string {
  const base = name.replace(/\/$/, '').split('/').pop() ?? 'entry';
  return asciiFallback(`PaxHeaders/${base}`, 100);
}

function asciiFallback(value: string, max: number): string {
  return value.replace(/[^\x20-\x7e]/g, '_').slice(0, max);
}

function encodePax(records: Record<string, string>): Uint8Array {
  let text = '';
  for (const key of Object.keys(records).sort()) {
    const payload = ` ${key}=${records[key]}\n`;
    const payloadLength = encoder.encode(payload).length;
    // The length prefix counts its own digits, so grow it until it is self-consistent.
    let length = payloadLength + String(payloadLength).length;
    while (length !== payloadLength + String(length).length) length = payloadLength + String(length).length;
    text += `${length}${payload}`;
  }
  return encoder.encode(text);
}

interface HeaderFields {
  name: string;
  prefix: string;
  mode: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: string;
}

function header(fields: HeaderFields): Uint8Array {
  const block = new Uint8Array(BLOCK);
  writeString(block, 0, 100, fields.name);
  writeOctal(block, 100, 8, fields.mode);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeOctal(block, 124, 12, fields.size);
  writeOctal(block, 136, 12, fields.mtime);
  block.fill(0x20, 148, 156); // checksum is computed over the header with this field as spaces
  writeString(block, 156, 1, fields.typeflag);
  writeString(block, 157, 100, fields.linkname);
  writeString(block, 257, 6, 'ustar\0');
  writeString(block, 263, 2, '00');
  // uname (265) and gname (297) stay empty: owner names differ between machines.
  writeOctal(block, 329, 8, 0);
  writeOctal(block, 337, 8, 0);
  writeString(block, 345, 155, fields.prefix);
  let sum = 0;
  for (const byte of block) sum += byte;
  writeString(block, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return block;
}

function writeString(block: Uint8Array, offset: number, length: number, value: string): void {
  const bytes = encoder.encode(value);
  block.set(bytes.subarray(0, length), offset);
}

function writeOctal(block: Uint8Array, offset: number, length: number, value: number): void {
  const digits = value.toString(8);
  if (digits.length > length - 1) throw new TarError(`value ${value} does not fit a ${length}-byte tar field`, '');
  writeString(block, offset, length, `${digits.padStart(length - 1, '0')}\0`);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}
