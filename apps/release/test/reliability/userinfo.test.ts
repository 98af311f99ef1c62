import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/command-defs.js';
import { layer, releaseWorkspace } from '../fixtures.js';
import { runCli } from '../run-cli.js';

// Userinfo in every URL a user can give — pins.repo, GITHUB_API_URL, image references — is never
// printed: not in human output, --json, error messages, progress lines or the release manifest.
// Every command of the CLI runs, with and without --json; all of it is searched.

const PINS_TOKEN = 'ghp_PinsRepoDeployBotToken0123456789ab';
const PINS_PASSWORD = 'pins-basic-password-Hy5Tr9';
const API_PASSWORD = 'ghes-api-password-Ui8Op3';
const IMAGE_PASSWORD = 'image-ref-password-Gh2Jk7';
const SECRETS = [PINS_TOKEN, PINS_PASSWORD, API_PASSWORD, IMAGE_PASSWORD];

describe('userinfo in URLs is never printed', () => {
  it('every command, with and without --json, on pins.repo / GITHUB_API_URL / image references carrying credentials', async () => {
    const ws = await releaseWorkspace();
    const pinsUrl = (userinfo: string) => `http://${userinfo}@127.0.0.1:9/acme/infra.git`;
    await ws.repo.commit('chore: pins in another repository', {
      'services.json': JSON.stringify({
        repository: 'acme/platform',
        registry: `${ws.registry.host}/acme`,
        insecureRegistries: [ws.registry.host],
        environments: { staging: {}, production: { after: 'staging' } },
        pins: { repo: pinsUrl(`deploybot:${PINS_TOKEN}`), path: 'deploy/{environment}/{service}.yaml', format: 'pin' },
        services: { api: { root: 'apps/api', build: layer('apps/api') } },
      }),
    });
    await ws.repo.push('main');
    await ws.tagRelease('api/v1.0.0');
    const env = { ...ws.env, GITHUB_API_URL: ws.github.url.replace('://', `://ghes-user:${API_PASSWORD}@`) };
    const manifest = join(ws.repo.root, 'manifest.json');
    const secretRef = (ref: string) => `https://robot:${IMAGE_PASSWORD}@${ws.registry.host}/acme/${ref}`;
    const digest = `sha256:${'a'.repeat(64)}`;

    const runs: { argv: string[]; cwd?: string }[] = [
      { argv: ['tag', 'inspect', 'api/v1.0.0'] },
      { argv: ['plan'] },
      { argv: ['check'] },
      { argv: ['publish', 'api/v1.0.0', '--manifest', manifest] },
      { argv: ['verify', 'api/v1.0.0'] },
      { argv: ['release', 'api', '--bump', 'patch', '--dry-run'] },
      { argv: ['promote', 'api', '--to', 'staging', '--digest', digest] },
      { argv: ['promote', 'api', '--to', 'staging', '--manifest', manifest, '--dry-run'] },
      { argv: ['rollback', 'api', '--env', 'staging'] },
      { argv: ['status'] },
      { argv: ['history', 'api'] },
      { argv: ['reserve', 'api'] },
      { argv: ['ci', '--event', 'push', '--ref', 'refs/tags/api/v1.0.0', '--sha', 'b'.repeat(40), '--dry-run'] },
      { argv: ['affected', '--base', 'HEAD~1'] },
      { argv: ['image', 'resolve', secretRef('api:v1.0.0')] },
      { argv: ['image', 'tags', secretRef('api')] },
      { argv: ['image', 'copy', secretRef('api:v1.0.0'), secretRef('api:copy')] },
      { argv: ['image', 'resolve', `robot:${IMAGE_PASSWORD}@${ws.registry.host}/acme/api:v1.0.0`] },
      // Another spelling of the pins URL: basic auth with a password.
      { argv: ['status', '--cwd', ws.repo.dir] },
    ];
    // Every command of the contract is exercised here.
    const ran = new Set(runs.map((r) => r.argv.slice(0, r.argv[0] === 'tag' || r.argv[0] === 'image' ? 2 : 1).join(' ')));
    expect(COMMANDS.map((c) => c.name).filter((name) => !ran.has(name))).toEqual([]);

    const outputs: { what: string; text: string }[] = [];
    for (const { argv } of runs) {
      for (const json of [false, true]) {
        const result = await runCli(json ? [...argv, '--json'] : argv, { cwd: ws.repo.dir, env });
        outputs.push({ what: `${argv.join(' ')}${json ? ' --json' : ''}`, text: `${result.stdout}\n${result.stderr}` });
      }
    }
    await ws.repo.commit('chore: pins with a password', {
      'services.json': (await readFile(join(ws.repo.dir, 'services.json'), 'utf8')).replace(`deploybot:${PINS_TOKEN}`, `deploybot:${PINS_PASSWORD}`),
    });
    for (const argv of [['promote', 'api', '--to', 'staging', '--digest', digest], ['history', 'api']]) {
      for (const json of [false, true]) {
        const result = await runCli(json ? [...argv, '--json'] : argv, { cwd: ws.repo.dir, env });
        outputs.push({ what: `${argv.join(' ')}${json ? ' --json' : ''} (password)`, text: `${result.stdout}\n${result.stderr}` });
      }
    }
    outputs.push({ what: 'release manifest', text: await readFile(manifest, 'utf8') });

    for (const { what, text } of outputs) {
      for (const secret of SECRETS) expect(text.includes(secret) || text.includes(encodeURIComponent(secret)), `${what} shows a secret:\n${text}`).toBe(false);
    }
    // The runs did reach the places that name those URLs: the pins repository was shown (redacted).
    expect(outputs.some((o) => o.what.startsWith('promote') && o.text.includes('http://***@127.0.0.1:9/acme/infra.git'))).toBe(true);
  });
});
