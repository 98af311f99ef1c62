import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runCli } from '../test/run-cli.js';
import { COMMANDS } from './command-defs.js';
import { handlers } from './commands/index.js';
import { handlerLoaders } from './commands/lazy.js';

const bin = fileURLToPath(new URL('../bin/slipway.js', import.meta.url));

describe('slipway CLI shell', () => {
  it('--help lists every command of CONTRACT §3', async () => {
    const { exitCode, stdout } = await runCli(['--help']);
    expect(exitCode).toBe(0);
    for (const top of new Set(COMMANDS.map((c) => c.name.split(' ')[0]))) expect(stdout).toMatch(new RegExp(`^  ${top}\\b`, 'm'));
    expect(stdout).toContain('image resolve|copy|tags');
    expect(stdout).toContain('Exit codes: 0 done');
    expect(stdout).toContain('Environment: GITHUB_TOKEN (or GH_TOKEN)');
  });

  it('--version prints the package version', async () => {
    const { exitCode, stdout } = await runCli(['--version']);
    expect(exitCode).toBe(0);
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('loads, per command, exactly the handler the programmatic API exports', async () => {
    expect(Object.keys(handlerLoaders).sort()).toEqual(Object.keys(handlers).sort());
    for (const [name, load] of Object.entries(handlerLoaders)) expect(await load?.(), name).toBe(handlers[name]);
  });

  it.each(COMMANDS.filter((c) => !handlers[c.name]).map((c) => c.name))('`%s` says it is not built yet and exits 2', async (name) => {
    const def = COMMANDS.find((c) => c.name === name);
    const args = (def?.args ?? []).map((a) => (a.startsWith('<') ? 'x' : '')).filter(Boolean);
    const { exitCode, stderr } = await runCli([...name.split(' '), ...args]);
    expect(exitCode).toBe(2);
    expect(stderr).toContain(`\`slipway ${name}\` is not built yet`);
  });

  it('an unknown flag is a usage error, exit 2', async () => {
    const { exitCode, stderr } = await runCli(['status', '--bogus']);
    expect(exitCode).toBe(2);
    expect(stderr).toBe("slipway: error: unknown option '--bogus'\n  next: fix the input named above and run again; `slipway <command> --help` lists every flag.\n");
  });

  it('an unknown command suggests the nearest one', async () => {
    const { exitCode, stderr } = await runCli(['pubish']);
    expect(exitCode).toBe(2);
    expect(stderr).toContain('(Did you mean publish?)');
  });

  it('conflicting flags are a usage error', async () => {
    const { exitCode, stderr } = await runCli(['release', 'api', '--version', '1.0.0', '--bump', 'minor']);
    expect(exitCode).toBe(2);
    expect(stderr).toMatch(/cannot be used with/);
  });

  it('errors under --json are one JSON document on stdout', async () => {
    const { exitCode, stdout } = await runCli(['publish', '--json']);
    expect(exitCode).toBe(2);
    expect(JSON.parse(stdout)).toEqual({ error: { code: 'E_USAGE', message: "missing required argument 'tag'" } });
  });

  it('the bin runs from source with no build step', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [bin, '--help']);
    expect(stdout).toContain('Usage: slipway');
  });
});
