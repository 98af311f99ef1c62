import { describe, expect, it } from 'vitest';
import type { TextStream } from './context.js';
import { createOutput } from './output.js';
import { transferProgress } from './progress.js';
import { safeStreams } from './safe-text.js';

const MiB = 1024 * 1024;
const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;

/** What a terminal (or a CI log) receives, through the CLI's safe-text boundary as every real run does. */
function terminal(isTTY: boolean): { stream: TextStream; written: string[] } {
  const written: string[] = [];
  const raw = { write: (text: string) => void written.push(text), isTTY };
  const safe = safeStreams({ stdout: raw, stderr: raw }, { json: false, env: {} });
  return { stream: safe.stderr, written };
}

/** The lines a terminal would show at the end: each \r\x1b[2K returns to the start of the line and clears it. */
function screen(written: readonly string[]): string[] {
  const lines: string[] = [''];
  for (const text of written) {
    // eslint-disable-next-line no-control-regex -- matching terminal controls is the point
    for (const part of text.split(/(\r\u001b\[2K|\n)/)) {
      if (part === '\r\u001b[2K') lines[lines.length - 1] = '';
      else if (part === '\n') lines.push('');
      else lines[lines.length - 1] += part;
    }
  }
  return lines.filter((line, i) => line !== '' || i < lines.length - 1);
}

describe('transfer progress', () => {
  it('on a terminal redraws one line in place, at most every 250 ms, with bytes of the total and the rate', () => {
    let clock = 0;
    const { stream, written } = terminal(true);
    const progress = transferProgress({ stream, json: false, label: 'copying ghcr.io/acme/api:1.2.0', now: () => clock });

    // The first second: nothing, a quick step never flickers.
    progress.update({ digest: A, size: 40 * MiB, bytes: 0 });
    progress.update({ digest: B, size: 20 * MiB, bytes: 0 });
    clock = 500;
    progress.update({ digest: A, size: 40 * MiB, bytes: 5 * MiB });
    expect(written).toEqual([]);

    // Then a redraw; updates within 250 ms of it draw nothing.
    clock = 2500;
    progress.update({ digest: A, size: 40 * MiB, bytes: 15 * MiB });
    clock = 2600;
    progress.update({ digest: B, size: 20 * MiB, bytes: 5 * MiB });
    clock = 2700;
    progress.update({ digest: B, size: 20 * MiB, bytes: 6 * MiB });
    expect(written).toEqual(['\r\u001b[2Kcopying ghcr.io/acme/api:1.2.0  15.0 MiB / 60.0 MiB  7.5 MiB/s']);

    // 2 s after the first byte at 500 ms... 2.75 s: 25 MiB.
    clock = 3250;
    progress.update({ digest: B, size: 20 * MiB, bytes: 10 * MiB });
    expect(written).toHaveLength(2);
    expect(written[1]).toBe('\r\u001b[2Kcopying ghcr.io/acme/api:1.2.0  25.0 MiB / 60.0 MiB  9.1 MiB/s');

    // A blob that starts over (a reset download) counts from 0 again.
    clock = 3600;
    progress.update({ digest: A, size: 40 * MiB, bytes: 0 });
    expect(written[2]).toBe('\r\u001b[2Kcopying ghcr.io/acme/api:1.2.0  10.0 MiB / 60.0 MiB  3.2 MiB/s');

    clock = 6000;
    progress.done(({ bytes, ms }) => `copied ghcr.io/acme/api:1.2.0 (${bytes} bytes in ${ms} ms)`);
    // The live line is cleared, and the one summary stays.
    expect(written.slice(-2)).toEqual(['\r\u001b[2K', `copied ghcr.io/acme/api:1.2.0 (${10 * MiB} bytes in 6000 ms)\n`]);
    expect(screen(written)).toEqual([`copied ghcr.io/acme/api:1.2.0 (${10 * MiB} bytes in 6000 ms)`]);
    // Nothing after the step ended.
    progress.update({ digest: A, size: 40 * MiB, bytes: 40 * MiB });
    progress.stop();
    expect(screen(written)).toHaveLength(1);
  });

  it('in CI logs (stderr not a TTY) and under --json writes only the one line per step', () => {
    for (const [isTTY, json] of [
      [false, false],
      [true, true],
    ] as const) {
      let clock = 0;
      const { stream, written } = terminal(isTTY);
      const progress = transferProgress({ stream, json, label: 'pushing api', now: () => clock });
      for (let i = 0; i <= 40; i++) {
        clock = i * 100;
        progress.update({ digest: A, size: 40 * MiB, bytes: i * MiB });
      }
      progress.done(({ bytes, ms }) => `pushed api@${A} (${bytes / MiB} MiB in ${ms / 1000} s)`);
      expect(written).toEqual([`pushed api@${A} (40 MiB in 4 s)\n`]);
    }
  });

  it('a failed step clears the live line and writes nothing else', () => {
    let clock = 0;
    const { stream, written } = terminal(true);
    const progress = transferProgress({ stream, json: false, label: 'pushing api', now: () => clock });
    clock = 2000;
    progress.update({ digest: A, size: MiB, bytes: 1024 });
    progress.stop();
    expect(screen(written)).toEqual([]);
  });

  it('neutralizes controls in what it shows: only its own return-and-clear acts on the terminal', () => {
    let clock = 0;
    const { stream, written } = terminal(true);
    // An image reference or tag read from a peer could carry escapes: they show, they do not act.
    const progress = transferProgress({ stream, json: false, label: 'copying evil\r\u001b]52;c;aGk=\u0007:tag\n', now: () => clock });
    clock = 5000;
    progress.update({ digest: A, size: MiB, bytes: MiB });
    expect(written).toHaveLength(1);
    expect(written[0]?.startsWith('\r\u001b[2K')).toBe(true);
    const shown = (written[0] as string).slice('\r\u001b[2K'.length);
    // eslint-disable-next-line no-control-regex -- matching terminal controls is the point
    expect(shown).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(shown).toContain('copying evil\\x0d\\x1b]52;c;aGk=\\x07:tag');
  });

  it('is what Output.progress gives a command, on stderr', () => {
    const written: string[] = [];
    const raw = { write: (text: string) => void written.push(text), isTTY: false };
    const io = safeStreams({ stdout: { write: () => undefined }, stderr: raw }, { json: false, env: {} });
    const out = createOutput({ json: false, stdout: io.stdout, stderr: io.stderr, env: {} });
    const progress = out.progress('copying x');
    progress.update({ digest: A, size: 10, bytes: 10 });
    progress.done(({ bytes }) => `copied x (${bytes} B)`);
    expect(written).toEqual(['copied x (10 B)\n']);
  });
});
