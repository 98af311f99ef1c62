import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { execa } from 'execa';

export interface TestCertificate {
  /** PEM private key. */
  key: string;
  /** PEM self-signed certificate for 127.0.0.1 and localhost; also the CA to trust. */
  cert: string;
}

/** A throwaway self-signed certificate valid for 127.0.0.1 and localhost (openssl). */
export async function createTestCertificate(): Promise<TestCertificate> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-tls-'));
  try {
    const keyPath = join(dir, 'key.pem');
    const certPath = join(dir, 'cert.pem');
    await execa('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '2',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ]);
    return { key: await readFile(keyPath, 'utf8'), cert: await readFile(certPath, 'utf8') };
  } catch (error) {
    throw new Error(`could not create a test certificate with openssl (is openssl installed?): ${(error as Error).message}`, { cause: error });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A `fetch` that trusts `ca` for https (Node's built-in fetch takes no CA option) and speaks plain
 * http as usual. It never follows redirects itself: what redirects do is the client's decision.
 */
export function tlsFetch(ca: string): typeof globalThis.fetch {
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.protocol !== 'https:') return globalThis.fetch(input, { ...init, redirect: 'manual' });
    const headers = new Headers(init?.headers);
    const body = init?.body === undefined || init.body === null ? undefined : Buffer.from(await new Response(init.body).arrayBuffer());
    return new Promise<Response>((resolve, reject) => {
      const req = httpsRequest(url, { method: init?.method ?? 'GET', headers: Object.fromEntries(headers), ca, signal: init?.signal ?? undefined }, (res) => {
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) responseHeaders.append(name, v);
        }
        const status = res.statusCode ?? 500;
        const nullBody = status === 204 || status === 304 || init?.method === 'HEAD';
        if (nullBody) res.resume();
        resolve(new Response(nullBody ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), { status, headers: responseHeaders }));
      });
      req.on('error', reject);
      req.end(body);
    });
  };
}

export interface DualFront {
  /** `127.0.0.1:<port>`: the same host and port answer TLS and plain http. */
  host: string;
  /** Every request, with whether it came over TLS and the Authorization it carried. */
  requests: { secure: boolean; method: string; path: string; authorization: string | undefined }[];
  stop(): Promise<void>;
}

/**
 * One loopback port that answers both https and plain http (told apart by the first byte: a TLS
 * handshake starts with 0x16), so `https://h:p` and `http://h:p` share a URL host, as a registry
 * on the default ports does. `handler` learns which one a request came on.
 */
export async function startDualFront(
  certificate: TestCertificate,
  handler: (req: IncomingMessage, res: ServerResponse, secure: boolean) => void,
): Promise<DualFront> {
  const requests: DualFront['requests'] = [];
  const serve = (secure: boolean) => (req: IncomingMessage, res: ServerResponse) => {
    requests.push({ secure, method: req.method ?? '', path: req.url ?? '', authorization: req.headers.authorization });
    handler(req, res, secure);
  };
  const tls = createHttpsServer({ key: certificate.key, cert: certificate.cert }, serve(true));
  const plain = createHttpServer(serve(false));
  // TLS servers read the socket's handle directly, so bytes already read can't be handed back:
  // the front pipes each connection to one of two loopback servers instead.
  for (const server of [tls, plain]) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const portOf = (server: typeof plain) => (server.address() as AddressInfo).port;
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const front = createNetServer((socket) => {
    track(socket);
    socket.once('data', (first) => {
      const upstream = connect(portOf(first[0] === 0x16 ? tls : plain), '127.0.0.1');
      track(upstream);
      upstream.write(first);
      socket.pipe(upstream).pipe(socket);
      socket.on('close', () => upstream.destroy());
      upstream.on('close', () => socket.destroy());
    });
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${(front.address() as AddressInfo).port}`,
    requests,
    async stop() {
      for (const socket of sockets) socket.destroy();
      for (const server of [tls, plain]) server.closeAllConnections();
      await Promise.all([front, tls, plain].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    },
  };
}
