import { afterAll, expect, it } from 'vitest';
import { createApp } from './server.js';

const server = createApp({ version: '1.2.3' });
afterAll(() => new Promise((done) => server.close(done)));

it('answers /healthz with its service name and version', async () => {
  await new Promise((ready) => server.listen(0, '127.0.0.1', ready));
  const { port } = server.address();
  const res = await fetch(`http://127.0.0.1:${port}/healthz`);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ service: 'api', version: '1.2.3', ok: true });
  expect((await fetch(`http://127.0.0.1:${port}/nope`)).status).toBe(404);
});
