import type { Env, TextStream } from './context.js';
import { transferProgress, type TransferProgress } from './progress.js';

export interface Output {
  /** Whether --json was given: stdout then holds one JSON document and nothing else. */
  readonly json: boolean;
  /** The result: JSON on --json, else the human text. */
  result(data: unknown, human: string): void;
  /** Progress and notes for a person; always stderr, so stdout stays machine-readable. */
  info(message: string): void;
  warn(message: string): void;
  /**
   * A transfer's progress on stderr: a live line on a terminal, else (CI logs, --json) only the
   * one line its `done` writes.
   */
  progress(label: string): TransferProgress;
  readonly color: Colors;
}

export interface Colors {
  bold(text: string): string;
  dim(text: string): string;
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
}

const plain: Colors = { bold: (t) => t, dim: (t) => t, green: (t) => t, red: (t) => t, yellow: (t) => t };
const sgr = (open: number, close: number) => (t: string) => `\u001b[${open}m${t}\u001b[${close}m`;
const ansi: Colors = { bold: sgr(1, 22), dim: sgr(2, 22), green: sgr(32, 39), red: sgr(31, 39), yellow: sgr(33, 39) };

/** Colour only on a terminal, and never with NO_COLOR set (https://no-color.org). */
export function colorsFor(stream: TextStream, env: Env): Colors {
  const tty = stream.isTTY === true;
  const disabled = env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '';
  return tty && !disabled && env['TERM'] !== 'dumb' ? ansi : plain;
}

export function createOutput(options: { json: boolean; stdout: TextStream; stderr: TextStream; env: Env }): Output {
  const { json, stdout, stderr } = options;
  const color = colorsFor(stderr, options.env);
  return {
    json,
    color,
    result(data, human) {
      if (json) stdout.write(`${JSON.stringify(data, null, 2)}\n`);
      else if (human) stdout.write(human.endsWith('\n') ? human : `${human}\n`);
    },
    info(message) {
      stderr.write(`${message}\n`);
    },
    warn(message) {
      stderr.write(`${color.yellow('warning:')} ${message}\n`);
    },
    progress(label) {
      return transferProgress({ stream: stderr, json, label });
    },
  };
}

/** An aligned plain-text table: a header row, then one row per item. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
