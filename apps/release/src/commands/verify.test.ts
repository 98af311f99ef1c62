import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { releaseWorkspace } from '../../test/fixtures.js';
import { runCli } from '../../test/run-cli.js';

it('verify passes after publish and names what is missing otherwise (exit 1)', async () => {
  const ws = await releaseWorkspace();
  await ws.tagRelease('api/v1.0.0');
  const manifestPath = join(ws.repo.root, 'm.json');

  const before = await runCli(['verify', 'api/v1.0.0', '--json'], { cwd: ws.repo.dir, env: ws.env });
  expect(before.exitCode).toBe(1);
  const missing = JSON.parse(before.stdout).checks.filter((c: { ok: boolean }) => !c.ok).map((c: { check: string }) => c.check);
  expect(missing).toEqual([`${ws.registry.host}/acme/api:v1.0.0`, 'GitHub release api/v1.0.0']);

  expect((await runCli(['publish', 'api/v1.0.0', '--manifest', manifestPath], { cwd: ws.repo.dir, env: ws.env })).exitCode).toBe(0);
  const after = await runCli(['verify', 'api/v1.0.0', '--manifest', manifestPath, '--json'], { cwd: ws.repo.dir, env: ws.env });
  expect(after.exitCode, after.stdout).toBe(0);
  expect(JSON.parse(after.stdout).ok).toBe(true);
  expect((await runCli(['verify', 'api/v1.0.0'], { cwd: ws.repo.dir, env: ws.env })).exitCode).toBe(0);

  // A manifest whose digest the registry does not serve under its tags fails verification.
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
  await writeFile(manifestPath, JSON.stringify({ ...manifest, digest: `sha256:${'0'.repeat(64)}` }));
  const tampered = await runCli(['verify', 'api/v1.0.0', '--manifest', manifestPath], { cwd: ws.repo.dir, env: ws.env });
  expect(tampered.exitCode).toBe(1);
  expect(tampered.stdout).toContain(`resolves to ${manifest.digest}, not sha256:000`);

  await writeFile(manifestPath, '{"schema":1}');
  const bad = await runCli(['verify', 'api/v1.0.0', '--manifest', manifestPath], { cwd: ws.repo.dir, env: ws.env });
  expect(bad.exitCode).toBe(2);
  expect(bad.stderr).toMatch(/not a release manifest: service: /);
});
