import type { Env, TextStream } from './context.js';
import { redact } from '@slipway/redact';

/** Where a secret might come from the environment; their values are scrubbed literally. */
const SECRET_ENV = ['GITHUB_TOKEN', 'GH_TOKEN', 'GHCR_TOKEN', 'NPM_TOKEN', 'NODE_AUTH_TOKEN'];
const URL_ENV = ['GITHUB_API_URL'];

/** The literal secrets of `env`: token variables, and the userinfo of URL variables. */
export function environmentSecrets(env: Env): string[] {
  const secrets = SECRET_ENV.flatMap((name) => (env[name] ? [env[name]] : []));
  for (const name of URL_ENV) {
    const value = env[name];
    if (!value) continue;
    try {
      const url = new URL(value);
      for (const part of [url.username, url.password]) if (part !== '') secrets.push(part, safeDecode(part));
    } catch {
      // not a URL: nothing to take apart
    }
  }
  return secrets;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

// The SGR codes our own Colors emit (output.ts); every other escape or control is someone else's.
// eslint-disable-next-line no-control-regex -- matching terminal controls is the point
const OWN_SGR = new RegExp('^\\u001b\\[(?:1|2|22|31|32|33|39)m');
// C0 controls but tab and newline, DEL and C1 (0x9b is a one-byte CSI on some terminals).
// eslint-disable-next-line no-control-regex -- matching terminal controls is the point
const CONTROL = new RegExp('[\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f]', 'g');

/**
 * Text for a terminal: escapes and controls that came from commits, tags or peers (a commit
 * subject with `ESC]52;…` that writes the clipboard, `ESC[2J`, a carriage return that hides a
 * line) are shown as visible `\xNN` instead of acting; colours slipway added itself stay.
 */
export function neutralizeTerminal(text: string): string {
  return text.replace(CONTROL, (char, offset: number) => {
    if (char === '\u001b' && OWN_SGR.test(text.slice(offset, offset + 6))) return char;
    return `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

// JSON.stringify escapes C0 but leaves DEL and C1 raw; they can only occur inside strings.
const JSON_RAW_CONTROL = /[\u007f-\u009f]/g;

/** JSON text with DEL and C1 escaped too (`\u009b`): the same document, exact, and inert on a terminal. */
export function escapeJsonControls(json: string): string {
  return json.replace(JSON_RAW_CONTROL, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export interface SafeStreams {
  stdout: TextStream;
  stderr: TextStream;
}

/**
 * The one output boundary of the CLI: everything written to stdout and stderr — results, progress,
 * warnings, errors, help — has URL userinfo, Authorization values, GitHub-token-shaped strings and
 * the environment's secrets removed; human text is neutralized for the terminal, and stdout under
 * --json stays exact JSON.
 */
export function safeStreams(io: SafeStreams, options: { json: boolean; env: Env }): SafeStreams {
  const secrets = environmentSecrets(options.env);
  const clean = (text: string) => redact(text, secrets);
  return {
    stdout: guard(io.stdout, (text) => (options.json ? escapeJsonControls(clean(text)) : neutralizeTerminal(clean(text)))),
    stderr: guard(io.stderr, (text) => neutralizeTerminal(clean(text))),
  };
}

/** Back to the start of the line, and clear it: the only control a redraw adds. */
const REDRAW = '\r\u001b[2K';

/**
 * `stream` with every string written passed through `transform` first; everything else as it was.
 * `redraw(line)` writes `line`, transformed the same way, over the current line.
 */
function guard(stream: TextStream, transform: (text: string) => string): TextStream {
  return new Proxy(stream, {
    get(target, property) {
      if (property === 'redraw') {
        return (line: string) => (target.write as (text: string) => unknown).call(target, `${REDRAW}${transform(line.replace(/\n/g, ' '))}`);
      }
      if (property === 'write') {
        return (chunk: unknown, ...rest: unknown[]) =>
          (target.write as (...args: unknown[]) => boolean).call(target, typeof chunk === 'string' ? transform(chunk) : chunk, ...rest);
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
