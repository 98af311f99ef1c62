import { createSign, randomUUID, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

/** One `type:name:actions` scope a client asked the issuer for. */
export interface TokenScope {
  type: string;
  name: string;
  actions: string[];
}

export interface TokenRequestRecord {
  /** The authenticated user; undefined for an anonymous request. */
  subject: string | undefined;
  service: string | undefined;
  scopes: TokenScope[];
  /** What the issued token allows; empty when nothing was granted. */
  granted: TokenScope[];
  status: number;
}

export interface TokenIssuerOptions {
  /** The registry's `auth.token.service`; tokens are issued with this audience. */
  service: string;
  /** Users that may log in with Basic credentials: name → password. */
  users: Record<string, string>;
  /** The JWT `iss`; must equal the registry's `auth.token.issuer`. */
  issuer?: string;
  /** Requests without credentials get a token with `pull` access. Default false. */
  anonymousPull?: boolean;
  /**
   * Which actions a request gets for one scope; default: everything asked for when
   * authenticated, `pull` for anonymous requests when `anonymousPull`, else nothing.
   */
  grant?: (request: { subject: string | undefined; scope: TokenScope }) => string[];
  ttlSeconds?: number;
}

export interface TokenIssuer {
  /** The `/token` URL to configure as the registry's `auth.token.realm`. */
  realm: string;
  service: string;
  issuer: string;
  /** PEM file holding the self-signed certificate; the registry's `auth.token.rootcertbundle`. */
  rootCertBundle: string;
  /** Every request to `/token`, in arrival order. */
  readonly requests: readonly TokenRequestRecord[];
  stop(): Promise<void>;
}

const base64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/**
 * The Docker token-auth issuer a Distribution registry verifies (`auth.token`): `/token` checks
 * Basic credentials and answers with an RS256 JWT whose header carries the signing certificate
 * in `x5c`, so the registry can chain it to `rootcertbundle`.
 */
export async function startTokenIssuer(options: TokenIssuerOptions): Promise<TokenIssuer> {
  const issuer = options.issuer ?? 'slipway-test-issuer';
  const ttl = options.ttlSeconds ?? 300;
  const dir = await mkdtemp(join(tmpdir(), 'slipway-token-issuer-'));
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  try {
    await execa('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', `/CN=${issuer}`]);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`token issuer: could not create a certificate with openssl (is openssl installed?): ${(error as Error).message}`, { cause: error });
  }
  const privateKey = await readFile(keyPath, 'utf8');
  const certDer = new X509Certificate(await readFile(certPath)).raw;

  const requests: TokenRequestRecord[] = [];
  const grant =
    options.grant ??
    (({ subject, scope }) => (subject !== undefined ? scope.actions : options.anonymousPull ? scope.actions.filter((a) => a === 'pull') : []));

  function sign(subject: string | undefined, access: TokenScope[]): string {
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [certDer.toString('base64')] };
    // Distribution 2.8 reads `aud` as one string (arrays came with v3).
    const claims = { iss: issuer, sub: subject ?? '', aud: options.service, exp: now + ttl, nbf: now - 10, iat: now, jti: randomUUID(), access };
    const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    const signature = createSign('RSA-SHA256').update(input).sign(privateKey);
    return `${input}.${base64url(signature)}`;
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://issuer');
    const reply = (status: number, body: unknown, record: Omit<TokenRequestRecord, 'status'>) => {
      requests.push({ ...record, status });
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const scopes = url.searchParams.getAll('scope').flatMap(parseScopes);
    const service = url.searchParams.get('service') ?? undefined;
    if (url.pathname !== '/token' || req.method !== 'GET') {
      reply(404, { errors: [{ code: 'NOT_FOUND', message: 'not found' }] }, { subject: undefined, service, scopes, granted: [] });
      return;
    }
    let subject: string | undefined;
    const authorization = req.headers.authorization;
    if (authorization !== undefined) {
      const [scheme, value = ''] = authorization.split(' ');
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const user = decoded.slice(0, colon);
      if (scheme?.toLowerCase() !== 'basic' || colon < 0 || options.users[user] === undefined || options.users[user] !== decoded.slice(colon + 1)) {
        reply(401, { errors: [{ code: 'UNAUTHORIZED', message: 'invalid username or password' }] }, { subject: undefined, service, scopes, granted: [] });
        return;
      }
      subject = user;
    }
    if (service !== options.service) {
      reply(400, { errors: [{ code: 'INVALID_SERVICE', message: `unknown service ${String(service)}` }] }, { subject, service, scopes, granted: [] });
      return;
    }
    const granted = scopes
      .map((scope) => ({ ...scope, actions: grant({ subject, scope }).filter((a) => scope.actions.includes(a)) }))
      .filter((scope) => scope.actions.length > 0);
    const token = sign(subject, granted);
    reply(200, { token, access_token: token, expires_in: ttl, issued_at: new Date().toISOString() }, { subject, service, scopes, granted });
  }

  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service: options.service,
    issuer,
    rootCertBundle: certPath,
    requests,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** `repository:acme/api:pull,push` → one scope; several may be space-separated in one parameter. */
function parseScopes(value: string): TokenScope[] {
  return value
    .split(' ')
    .filter(Boolean)
    .flatMap((item) => {
      const first = item.indexOf(':');
      const last = item.lastIndexOf(':');
      if (first < 0 || last === first) return [];
      return [{ type: item.slice(0, first), name: item.slice(first + 1, last), actions: item.slice(last + 1).split(',').filter(Boolean) }];
    });
}
