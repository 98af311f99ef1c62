// Shared setup for the registry client's integration tests: a real Distribution registry per
// test, skopeo as the independent witness, and a client wired to record what it sent.

import { createHash } from 'node:crypto';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry, writeTestLayout, type RegistryPeer, type StartRegistryOptions, type TestImage, type TestIndex } from '@slipway/testing';
import { execa } from 'execa';
import { onTestFinished } from 'vitest';
import { createRegistryClient, staticCredentials, type RegistryClient, type RegistryClientOptions, type RequestEvent } from '../src/index.js';

export async function registryPeer(options: StartRegistryOptions = {}): Promise<RegistryPeer> {
  const peer = await startRegistry(options);
  onTestFinished(() => peer.stop());
  return peer;
}

export interface RecordingClient {
  client: RegistryClient;
  events: RequestEvent[];
  sleeps: number[];
}

/** A client for the peer (plain http, the peer's credentials unless overridden), sleeping instantly. */
export function clientFor(peer: RegistryPeer, options: Partial<RegistryClientOptions> = {}): RecordingClient {
  const events: RequestEvent[] = [];
  const sleeps: number[] = [];
  const client = createRegistryClient({
    host: peer.host,
    insecure: true,
    ...(peer.username === undefined ? {} : { credentials: staticCredentials(peer.host, { username: peer.username, password: peer.password as string }) }),
    sleep: async (ms) => void sleeps.push(ms),
    random: () => 0.5,
    ...options,
    onRequest: (event) => {
      events.push(event);
      options.onRequest?.(event);
    },
  });
  return { client, events, sleeps };
}

function skopeoCreds(peer: RegistryPeer, flag: string): string[] {
  return peer.username === undefined ? [] : [`${flag}=${peer.username}:${peer.password}`];
}

/** Seed the registry with skopeo from an OCI layout, independent of the client under test. */
export async function seedWithSkopeo(peer: RegistryPeer, content: TestImage | TestIndex, target: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-seed-'));
  try {
    await writeTestLayout(dir, content, 'seed');
    await execa('skopeo', ['copy', '--all', '--dest-tls-verify=false', ...skopeoCreds(peer, '--dest-creds'), `oci:${dir}:seed`, `docker://${peer.host}/${target}`]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The manifest bytes skopeo reads for `ref` (`repo:tag` or `repo@digest`). */
export async function skopeoRaw(peer: RegistryPeer, ref: string): Promise<string> {
  const { stdout } = await execa('skopeo', ['inspect', '--raw', '--tls-verify=false', ...skopeoCreds(peer, '--creds'), `docker://${peer.host}/${ref}`]);
  return stdout;
}

/** The digest of the manifest bytes skopeo reads for `ref`. */
export async function skopeoDigest(peer: RegistryPeer, ref: string): Promise<string> {
  return `sha256:${createHash('sha256').update(await skopeoRaw(peer, ref)).digest('hex')}`;
}

/** Pull every platform with skopeo into a fresh OCI layout: proves every blob is really there. */
export async function skopeoPullAll(peer: RegistryPeer, ref: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-pull-'));
  try {
    await execa('skopeo', ['copy', '--all', '--src-tls-verify=false', ...skopeoCreds(peer, '--src-creds'), `docker://${peer.host}/${ref}`, `oci:${dir}:pulled`]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');

/**
 * Serves `handler` on 127.0.0.1 (a port of its own) until the test ends, then closes it and every
 * connection still open: a stand-in registry, token realm or proxy. Returns `host:port`.
 */
export async function serveForTest(handler: RequestListener, onClose?: () => void): Promise<{ server: Server; host: string; port: number }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => {
    onClose?.();
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const { port } = server.address() as AddressInfo;
  return { server, host: `127.0.0.1:${port}`, port };
}
