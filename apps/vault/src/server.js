// The 'vault' example service: a tiny HTTP server that reports its own release identity, so a
// promoted image can be checked against its pin.
import { createServer } from 'node:http';

export function createApp({ version = process.env.APP_VERSION ?? '0.0.0-dev' } = {}) {
  return createServer((req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ service: 'vault', version, ok: true }));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  });
}

if (process.argv[1] && import.meta.url === new URL(process.argv[1], 'file:').href) {
  const port = Number(process.env.PORT ?? 8080);
  createApp().listen(port, () => console.log('vault listening on :' + port));
}
