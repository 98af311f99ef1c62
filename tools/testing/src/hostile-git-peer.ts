import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A peer on loopback that git can be pointed at (`http://127.0.0.1:<port>/…`, `ssh://…`) and that
 * never lets a command finish:
 * - `silent` accepts each connection and never sends a byte;
 * - `trickle` answers an HTTP request with complete headers at once, then one body byte every
 *   `intervalMs`, forever (never idle long enough for an idle timeout).
 * It counts connections and knows which are still open: once a client gives up, every one of its
 * processes (git, git-remote-http) must have let go of its socket.
 */
export interface HostileGitPeer {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  readonly url: string;
  readonly port: number;
  /** Connections accepted so far. */
  connections(): number;
  /** Connections still open. */
  open(): number;
  /** Resolves once no connection is open, or rejects after `ms`. */
  drained(ms: number): Promise<void>;
  close(): Promise<void>;
}

export interface HostileGitPeerOptions {
  mode: 'silent' | 'trickle';
  /** `trickle`: pause between body bytes (default 1000 ms). */
  intervalMs?: number;
}

export async function startHostileGitPeer(options: HostileGitPeerOptions): Promise<HostileGitPeer> {
  const sockets = new Set<Socket>();
  const timers = new Set<ReturnType<typeof setInterval>>();
  let accepted = 0;
  const server: Server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    if (options.mode === 'silent') {
      // Read (and drop) what arrives, so the client closing its end is seen.
      socket.resume();
      return;
    }
    let answered = false;
    socket.on('data', () => {
      // The request is read and ignored; the answer starts once it has begun to arrive.
      if (answered) return;
      answered = true;
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/x-git-upload-pack-advertisement\r\nCache-Control: no-cache\r\n\r\n');
      const timer = setInterval(() => (socket.destroyed ? clearInterval(timer) : socket.write('0')), options.intervalMs ?? 1000);
      timers.add(timer);
      socket.on('close', () => clearInterval(timer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    connections: () => accepted,
    open: () => sockets.size,
    async drained(ms) {
      const until = Date.now() + ms;
      while (sockets.size > 0) {
        if (Date.now() > until) throw new Error(`${sockets.size} connection(s) to the hostile peer still open after ${ms} ms`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async close() {
      for (const timer of timers) clearInterval(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
