import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chainCredentials, githubTokenCredentials, type CredentialSource, type RegistryCredentials } from './credentials.js';
import { CredentialsError } from './errors.js';

export interface DockerConfigOptions {
  /** The environment to read `DOCKER_CONFIG`, `HOME` and `PATH` (for credential helpers) from. */
  env: Record<string, string | undefined>;
  /** The folder holding `config.json`; default `$DOCKER_CONFIG`, else `$HOME/.docker`. */
  configDir?: string;
}

interface DockerConfigFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

// Docker Hub's credentials are stored under its v1 index URL, whatever name the image used.
const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/**
 * Credentials the way `docker login` stored them: `auths` entries (base64 `auth` or
 * username/password), `credHelpers[host]`, then `credsStore`, running
 * `docker-credential-<name> get` with the server on stdin. The file is read once.
 */
export function dockerConfigCredentials(options: DockerConfigOptions): CredentialSource {
  const { env } = options;
  const dir = options.configDir ?? env['DOCKER_CONFIG'] ?? (env['HOME'] ? join(env['HOME'], '.docker') : undefined);
  let loaded: Promise<{ config: DockerConfigFile; path: string } | undefined> | undefined;
  const load = () => (loaded ??= dir === undefined ? Promise.resolve(undefined) : readConfig(join(dir, 'config.json')));

  return async (host) => {
    const found = await load();
    if (found === undefined) return undefined;
    const { config, path } = found;
    const isHub = DOCKER_HUB_ALIASES.has(host);
    const serverKey = isHub ? DOCKER_HUB_KEY : host;

    const helper = config.credHelpers?.[host] ?? (isHub ? config.credHelpers?.[DOCKER_HUB_KEY] : undefined) ?? undefined;
    if (helper !== undefined) return runHelper(helper, serverKey, env);

    for (const [key, entry] of Object.entries(config.auths ?? {})) {
      if (normalizeKey(key) !== host && !(isHub && DOCKER_HUB_ALIASES.has(normalizeKey(key)))) continue;
      const credentials = fromAuthEntry(entry, key, path);
      if (credentials !== undefined) return credentials;
    }
    if (config.credsStore) return runHelper(config.credsStore, serverKey, env);
    return undefined;
  };
}

/** Docker config first (what `docker login` set up), then `GHCR_TOKEN`/`GITHUB_TOKEN` for ghcr.io. */
export function defaultCredentials(options: DockerConfigOptions): CredentialSource {
  return chainCredentials(dockerConfigCredentials(options), githubTokenCredentials(options.env));
}

async function readConfig(path: string): Promise<{ config: DockerConfigFile; path: string } | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CredentialsError(`cannot read docker config ${path}: ${(error as Error).message}`, { path });
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
    return { config: parsed as DockerConfigFile, path };
  } catch (error) {
    // Never echo the file: it holds secrets.
    throw new CredentialsError(`docker config ${path} is not valid JSON (${(error as Error).name})`, { path, badInput: true });
  }
}

/** `https://ghcr.io/v1/` → `ghcr.io`: docker stores keys with and without scheme and path. */
function normalizeKey(key: string): string {
  return key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
}

function fromAuthEntry(
  entry: { auth?: string; username?: string; password?: string },
  key: string,
  path: string,
): RegistryCredentials | undefined {
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new CredentialsError(`docker config ${path}: auths[${JSON.stringify(key)}].auth is not base64 of user:password`, { path, badInput: true });
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  // identitytoken (an OAuth2 refresh token) is not supported; treat as anonymous.
  return undefined;
}

async function runHelper(name: string, server: string, env: Record<string, string | undefined>): Promise<RegistryCredentials | undefined> {
  const program = `docker-credential-${name}`;
  if (!/^[\w.-]+$/.test(name)) throw new CredentialsError(`invalid credential helper name ${JSON.stringify(name)}`, { badInput: true });
  // Loaded here: most runs have no credential helper, and execa is ~9 MiB of a process's RSS.
  const { execa } = await import('execa');
  const result = await execa(program, ['get'], { input: server, env, extendEnv: false, reject: false, timeout: 30_000, stripFinalNewline: true });
  if ((result as { code?: string }).code === 'ENOENT' || (result.failed && result.exitCode === undefined)) {
    throw new CredentialsError(`credential helper ${program} could not be run (is it on PATH?)`);
  }
  if (result.exitCode !== 0) {
    // Helpers say so on stdout when they simply have nothing for this server.
    if (/credentials not found/i.test(`${result.stdout}${result.stderr}`)) return undefined;
    const reason = String(result.stderr).split('\n')[0]?.slice(0, 200) ?? '';
    throw new CredentialsError(`credential helper ${program} failed for ${server} (exit ${result.exitCode})${reason ? `: ${reason}` : ''}`);
  }
  let parsed: { Username?: unknown; Secret?: unknown };
  try {
    parsed = JSON.parse(String(result.stdout)) as { Username?: unknown; Secret?: unknown };
  } catch {
    throw new CredentialsError(`credential helper ${program} printed something that is not JSON`);
  }
  if (typeof parsed.Username !== 'string' || typeof parsed.Secret !== 'string' || parsed.Secret === '') return undefined;
  // `<token>` marks an identity (refresh) token for the OAuth2 flow, which we don't speak.
  if (parsed.Username === '<token>') return undefined;
  return { username: parsed.Username, password: parsed.Secret };
}
