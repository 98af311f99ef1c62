import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parseJsonObject } from './json-object.js';
import { createRegistryClient } from './registry-client.js';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('parseJsonObject', () => {
  it.each(['null', '[]', '"x"', '42', 'true', '{', ''])('is undefined for %j', (text) => {
    expect(parseJsonObject(bytes(text))).toBeUndefined();
  });
  it('returns the object', () => {
    expect(parseJsonObject(bytes('{"tags":["a"]}'))).toEqual({ tags: ['a'] });
  });
});

describe('a registry answering JSON that is not an object', () => {
  it.each(['null', '[]', '7'])('tag list %s is a typed protocol error, not a crash', async (body) => {
    const server = createServer((req, res) => {
      if (req.url === '/v2/') return void res.writeHead(200).end('{}');
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
    onTestFinished(() => new Promise<void>((done) => server.close(() => done())));
    const client = createRegistryClient({ host: `127.0.0.1:${(server.address() as AddressInfo).port}`, insecure: true, sleep: async () => undefined });
    await expect(client.listTags('api')).rejects.toMatchObject({ code: 'E_REGISTRY_PROTOCOL', exitCode: 1 });
  });
});
