// Progress of a transfer (an image push or copy) for a person watching: on a terminal, one line
// redrawn in place — bytes done of the total known so far, and the rate — at most a few times a
// second, and only once the step has taken longer than a moment; in CI logs (stderr not a TTY)
// and under --json, nothing but one line when the step is done. The registry library only
// reports bytes per blob (BlobProgress); everything about terminals is here.

import type { BlobProgress } from '@slipway/registry';
import type { TextStream } from './context.js';

export interface TransferProgress {
  /** What the registry library reports as blob bytes move (copyImage's onProgress, pushImage's onBlobProgress). */
  update(progress: BlobProgress): void;
  /** The step succeeded: the live line goes, and `summary` (given the totals) is written as one line. */
  done(summary: (totals: { bytes: number; ms: number }) => string): void;
  /** The step failed: the live line goes, nothing else is written. */
  stop(): void;
}

export interface TransferProgressOptions {
  /** stderr through the safe-text boundary: its `redraw` is the only way a line is redrawn. */
  stream: TextStream;
  /** --json: never a live line. */
  json: boolean;
  /** What is under way: `copying ghcr.io/acme/api:1.2.0`. */
  label: string;
  now?: () => number;
  /** No live line before the step has run this long. Default 1 s. */
  delayMs?: number;
  /** At most one redraw per this many ms. Default 250 ms. */
  intervalMs?: number;
}

const MiB = 1024 * 1024;

/** `312.4 MiB`, `18.0 KiB`, `512 B`. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * MiB) return `${(bytes / (1024 * MiB)).toFixed(2)} GiB`;
  if (bytes >= MiB) return `${(bytes / MiB).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function transferProgress(options: TransferProgressOptions): TransferProgress {
  const { stream, json, label } = options;
  const now = options.now ?? (() => performance.now());
  const delayMs = options.delayMs ?? 1000;
  const intervalMs = options.intervalMs ?? 250;
  const live = !json && stream.isTTY === true && typeof stream.redraw === 'function';
  const started = now();
  const blobs = new Map<string, { size: number; bytes: number }>();
  let firstByteAt: number | undefined;
  let lastDraw: number | undefined;
  let drawn = false;
  let finished = false;

  const totals = () => {
    let bytes = 0;
    let size = 0;
    for (const blob of blobs.values()) {
      bytes += blob.bytes;
      size += Math.max(blob.size, blob.bytes);
    }
    return { bytes, size };
  };

  const draw = (at: number) => {
    const { bytes, size } = totals();
    const seconds = firstByteAt === undefined ? 0 : (at - firstByteAt) / 1000;
    const rate = seconds > 0 ? `${formatBytes(bytes / seconds)}/s` : '';
    stream.redraw?.(`${label}  ${formatBytes(bytes)} / ${formatBytes(size)}${rate === '' ? '' : `  ${rate}`}`);
    drawn = true;
    lastDraw = at;
  };

  const clear = () => {
    if (drawn) stream.redraw?.('');
    drawn = false;
  };

  return {
    update(progress) {
      if (finished) return;
      const at = now();
      if (progress.bytes > 0) firstByteAt ??= at;
      blobs.set(progress.digest, { size: progress.size, bytes: progress.bytes });
      if (!live || at - started < delayMs) return;
      if (lastDraw !== undefined && at - lastDraw < intervalMs) return;
      draw(at);
    },
    done(summary) {
      if (finished) return;
      finished = true;
      clear();
      stream.write(`${summary({ bytes: totals().bytes, ms: now() - started })}\n`);
    },
    stop() {
      if (finished) return;
      finished = true;
      clear();
    },
  };
}
