// What the peers that run as child processes (docker-registry, verdaccio) share: a port to
// configure them with, waiting until they answer, and stopping them.

import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A loopback port free right now; it can be taken before the child binds it, so callers retry. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface ServingCheck {
  /** Named in errors, e.g. `docker-registry`. */
  name: string;
  /** Polled until it answers with one of `ready`. */
  url: string;
  ready: readonly number[];
  timeoutMs: number;
  pollMs: number;
}

/** Polls `check.url` until it answers ready; throws with the child's output when it exits first or time runs out. */
export async function waitUntilServing(child: ChildProcess, check: ServingCheck, output: () => string): Promise<void> {
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `exited with ${signal ?? code}`));
  child.once('error', (error) => (exited = error.message));
  const deadline = Date.now() + check.timeoutMs;
  while (Date.now() < deadline) {
    if (exited !== undefined) throw new Error(`${check.name} ${exited} before serving:\n${output()}`);
    try {
      const response = await fetch(check.url);
      await response.arrayBuffer();
      if (check.ready.includes(response.status)) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, check.pollMs));
  }
  throw new Error(`${check.name} did not answer on ${check.url} within ${check.timeoutMs / 1000}s:\n${output()}`);
}

/** SIGTERM, then SIGKILL after 3 s; resolves once the child has exited. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
