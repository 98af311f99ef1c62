import { access } from 'node:fs/promises';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startVerdaccio, TEST_NPM_USER } from './verdaccio.js';

describe('startVerdaccio', () => {
  it('serves on 127.0.0.1 with a token for a user, no uplinks, and records requests', async () => {
    const npm = await startVerdaccio();
    onTestFinished(() => npm.stop());
    expect(npm.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);

    const whoami = await fetch(`${npm.url}-/whoami`, { headers: { authorization: `Bearer ${npm.token}` } });
    expect(whoami.status).toBe(200);
    expect(await whoami.json()).toEqual({ username: TEST_NPM_USER });

    // No uplinks: a package that exists on the public registry is simply absent here.
    npm.clearRequests();
    const lodash = await fetch(`${npm.url}lodash`);
    expect(lodash.status).toBe(404);
    await lodash.arrayBuffer();
    await expect.poll(() => npm.requests).toEqual([{ method: 'GET', url: '/lodash', status: 404 }]);
  });

  it('refuses anonymous publishes', async () => {
    const npm = await startVerdaccio();
    onTestFinished(() => npm.stop());
    const response = await fetch(`${npm.url}anonymous-pkg`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'anonymous-pkg', versions: {}, 'dist-tags': {}, _attachments: {} }),
    });
    expect(response.status).toBe(401);
  });

  it('stop() ends the server and removes its storage', async () => {
    const npm = await startVerdaccio();
    await npm.stop();
    await expect(fetch(`${npm.url}-/ping`)).rejects.toThrow();
    await expect(access(npm.storageDir)).rejects.toThrow();
  });
});
