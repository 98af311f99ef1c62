import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { runCli } from '../test/run-cli.js';
import { escapeJsonControls, neutralizeTerminal } from './safe-text.js';

const OSC52 = '\u001b]52;c;cm0gLXJmIH4=\u0007';
const CLEAR = '\u001b[2J\u001b[H';
/** Any control but newline: what must not reach a terminal. */
// eslint-disable-next-line no-control-regex -- matching terminal controls is the point
const CONTROLS = new RegExp('[\\u0000-\\u0009\\u000b-\\u001f\\u007f-\\u009f]');

describe('neutralizeTerminal', () => {
  it.each([
    ['clipboard write (OSC 52)', `feat: x ${OSC52}`, 'feat: x \\x1b]52;c;cm0gLXJmIH4=\\x07'],
    ['clear screen', `a${CLEAR}b`, 'a\\x1b[2J\\x1b[Hb'],
    ['carriage return hiding a line', 'ok\rEVIL', 'ok\\x0dEVIL'],
    ['one-byte CSI (C1)', 'a\u009b31mb', 'a\\x9b31mb'],
    ['backspace and bell', 'a\bb\u0007', 'a\\x08b\\x07'],
    ['our own colours stay', '\u001b[33mwarning:\u001b[39m fine\n\tnext', '\u001b[33mwarning:\u001b[39m fine\n\tnext'],
  ])('%s', (_what, input, expected) => {
    expect(neutralizeTerminal(input)).toBe(expected);
  });
});

describe('escapeJsonControls', () => {
  it('escapes DEL and C1, keeping the document exact', () => {
    const text = `a\u009b[2J\u007f${OSC52}`;
    const json = escapeJsonControls(JSON.stringify({ text }));
    // eslint-disable-next-line no-control-regex -- matching terminal controls is the point
    expect(json).not.toMatch(new RegExp('[\\u0000-\\u001f\\u007f-\\u009f]'));
    expect((JSON.parse(json) as { text: string }).text).toBe(text);
  });
});

describe('the CLI output boundary', () => {
  it('`slipway --json` with no command prints one JSON error document and exits 2', async () => {
    const bare = await runCli(['--json']);
    expect(bare.exitCode).toBe(2);
    expect(JSON.parse(bare.stdout)).toEqual({ error: { code: 'E_USAGE', message: expect.stringContaining('no command') } });
    const group = await runCli(['image', '--json']);
    expect(group.exitCode).toBe(2);
    expect(JSON.parse(group.stdout)).toMatchObject({ error: { code: 'E_USAGE' } });
    expect((await runCli([])).exitCode).toBe(2);
  });

  it('removes URL userinfo from whatever is printed, human or --json', async () => {
    for (const json of [false, true]) {
      // commander's own "unknown option" message echoes the argument as given.
      const result = await runCli(['tag', 'inspect', 'x', '--from=https://bot:boundary-secret-Zx9Qw@h.example/x', ...(json ? ['--json'] : [])]);
      expect(result.exitCode).toBe(2);
      expect(`${result.stdout}${result.stderr}`).toContain('https://***@h.example/x');
      expect(`${result.stdout}${result.stderr}`).not.toContain('boundary-secret-Zx9Qw');
    }
  });

  it('neutralizes escapes from input and from a peer in human output; --json keeps them exact', async () => {
    const tag = `api/v1.0.0${OSC52}${CLEAR}`;
    const human = await runCli(['tag', 'inspect', tag, '--cwd', '/nonexistent-slipway-dir']);
    expect(human.stderr).not.toContain('\u001b');
    const json = await runCli(['tag', 'inspect', tag, '--cwd', '/nonexistent-slipway-dir', '--json']);
    expect(json.stdout).not.toMatch(CONTROLS);

    // A registry whose error message carries terminal escapes.
    const message = `denied ${OSC52}${CLEAR}\u009b2J`;
    const server = createServer((req, res) => {
      req.resume();
      res.writeHead(403, { 'Content-Type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'DENIED', message }] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const ref = `${host}/acme/api`;
    const dir = await mkdtemp(join(tmpdir(), 'slipway-escapes-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'services.json'), JSON.stringify({ registry: `${host}/acme`, insecureRegistries: [host], services: { api: { root: 'api' } } }));
    const env = { PATH: process.env['PATH'], NO_COLOR: '1' };
    const plain = await runCli(['image', 'tags', ref], { env, cwd: dir });
    expect(plain.exitCode, plain.stderr).toBe(1);
    expect(plain.stderr).toContain('denied');
    expect(plain.stderr).not.toMatch(CONTROLS);
    const exact = await runCli(['image', 'tags', ref, '--json'], { env, cwd: dir });
    expect(exact.stdout).not.toMatch(CONTROLS);
    expect((JSON.parse(exact.stdout) as { error: { message: string } }).error.message).toContain(message);
  });
});
