import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';

/**
 * The npm CLI as slipway uses it: npm's own configuration (NPM_CONFIG_REGISTRY, the user's and
 * the package's .npmrc) decides the registry; a token from NODE_AUTH_TOKEN or NPM_TOKEN is handed
 * to npm in a temporary userconfig — never on a command line, never in a message.
 */
export interface NpmClient {
  /** The registry every command of this client talks to, with a trailing slash. */
  readonly registry: string;
  pack(destination: string): Promise<PackedTarball>;
  /** Published versions and dist-tags; `undefined` when the registry has no such package. */
  packument(name: string): Promise<{ versions: string[]; distTags: Record<string, string> } | undefined>;
  /** One published version's dist, gitHead and the package's dist-tags; `undefined` when that version does not exist. */
  version(name: string, version: string): Promise<PublishedVersion | undefined>;
  /** Downloads a published version's tarball as the registry serves it. */
  download(name: string, version: string, destination: string): Promise<PackedTarball>;
  publish(tarball: string, distTag: string): Promise<void>;
}

export interface PublishedVersion {
  shasum: string;
  tarball: string;
  gitHead: string | undefined;
  distTags: Record<string, string>;
}

export interface PackedTarball {
  path: string;
  bytes: Buffer;
  sha1: string;
  sha256: string;
}

/** npm failed (operational, exit 1); `npmCode` is npm's own (`E401`, `ECONNREFUSED`, …) when it gave one. */
export class NpmError extends Error {
  override readonly name = 'NpmError';
  readonly exitCode = 1 as const;
  constructor(
    readonly code: 'E_NPM_AUTH' | 'E_NPM_NETWORK' | 'E_NPM',
    message: string,
    readonly npmCode: string | undefined,
  ) {
    super(message);
  }
}

const NPM_OUTPUT_BYTES = 32 * 1024 * 1024;
const NPM_TIMEOUT_MS = 10 * 60_000;

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EAI_AGAIN', 'EAI_FAIL', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);
const AUTH_CODES = new Set(['E401', 'E403', 'ENEEDAUTH', 'EOTP']);

export interface NpmClientOptions {
  env: NodeJS.ProcessEnv;
  /** Where npm runs: the exported package folder (its own .npmrc, if committed, applies). */
  cwd: string;
  /** A private temp folder of the caller's, for the userconfig holding the token. */
  scratch: string;
  packageName: string;
  /** `publishConfig.registry` of the package, which wins over npm's configured registry. */
  publishRegistry?: string | undefined;
}

export async function createNpmClient(options: NpmClientOptions): Promise<NpmClient> {
  const { env, cwd, packageName } = options;
  const token = env['NODE_AUTH_TOKEN'] || env['NPM_TOKEN'] || undefined;
  const redact = (text: string) => (token ? text.split(token).join('***') : text);
  const scope = packageName.startsWith('@') ? packageName.slice(0, packageName.indexOf('/')) : undefined;

  const run = async (args: string[], runCwd = cwd) => {
    // Bounded like every peer: what npm prints (JSON from the registry) and how long it may take.
    const result = await execa('npm', [...args, '--update-notifier=false'], {
      cwd: runCwd,
      env,
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
      maxBuffer: NPM_OUTPUT_BYTES,
      timeout: NPM_TIMEOUT_MS,
    });
    return {
      ok: result.exitCode === 0 && !result.failed,
      stdout: String(result.stdout ?? ''),
      stderr: String(result.stderr ?? ''),
      spawnError: result.exitCode === undefined ? result.message : undefined,
    };
  };
  let registry = 'the configured npm registry';
  // One npm start for every setting we need: `npm config get a b` answers `a=…` lines.
  const keys = ['registry', 'userconfig', ...(scope ? [`${scope}:registry`] : [])];
  const got = await run(['config', 'get', ...keys]);
  if (!got.ok) throw failure(`npm config get ${keys.join(' ')}`, got, undefined);
  const config = new Map(
    got.stdout
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1).trim()] as const)
      .filter(([key, value]) => key !== '' && value !== '' && value !== 'undefined' && value !== 'null'),
  );

  registry = options.publishRegistry ?? (scope ? config.get(`${scope}:registry`) : undefined) ?? config.get('registry') ?? 'https://registry.npmjs.org/';
  if (!registry.endsWith('/')) registry += '/';
  // Every command names the registry explicitly, so view and publish can never disagree about it.
  const registryArgs = [`--registry=${registry}`, ...(scope ? [`--${scope}:registry=${registry}`] : [])];

  if (token) {
    // Keep the user's own settings (proxy, cafile, other registries): copy their userconfig, then
    // add the token for this registry, keyed the way npm looks it up (`//host[:port]/path/`).
    const userconfig = config.get('userconfig');
    const previous = userconfig ? await readFile(userconfig, 'utf8').catch(() => '') : '';
    const file = join(await mkdtemp(join(options.scratch, 'npmrc-')), 'npmrc');
    await writeFile(file, `${previous}\n${nerfDart(registry)}:_authToken=${token}\n`, { mode: 0o600 });
    await chmod(file, 0o600);
    registryArgs.push(`--userconfig=${file}`);
  }

  function failure(command: string, got: { stdout: string; stderr: string; spawnError?: string | undefined }, name: string | undefined): NpmError {
    const { code, summary } = npmErrorOf(got);
    const what = `\`${command}\` against ${registry}`;
    if (got.spawnError) return new NpmError('E_NPM', redact(`could not run npm (${got.spawnError}); is npm on PATH?`), undefined);
    if (code && AUTH_CODES.has(code)) {
      const hint = token
        ? `the token in ${env['NODE_AUTH_TOKEN'] ? 'NODE_AUTH_TOKEN' : 'NPM_TOKEN'} was refused: it needs publish rights to ${name ?? 'the package'} on ${registry}`
        : `set NODE_AUTH_TOKEN (or NPM_TOKEN) to an npm token that may publish ${name ?? 'the package'} on ${registry}, or log in with \`npm login --registry ${registry}\``;
      return new NpmError('E_NPM_AUTH', redact(`${what} failed (${code}: ${summary}): ${hint}`), code);
    }
    if (code && (NETWORK_CODES.has(code) || /^ERR_SOCKET|^UND_ERR/.test(code))) {
      return new NpmError('E_NPM_NETWORK', redact(`${what} could not reach the registry (${code}: ${summary}); retry, or check NPM_CONFIG_REGISTRY / .npmrc`), code);
    }
    return new NpmError('E_NPM', redact(`${what} failed${code ? ` (${code})` : ''}: ${summary}`), code);
  }

  const view = async (spec: string, fields: string[]) => {
    const got = await run(['view', spec, ...fields, '--json', '--prefer-online', ...registryArgs]);
    if (got.ok) return got.stdout.trim() === '' ? undefined : (JSON.parse(got.stdout) as Record<string, unknown>);
    if (npmErrorOf(got).code === 'E404') return undefined;
    throw failure(`npm view ${spec}`, got, packageName);
  };

  const tarballIn = async (dir: string, filename: string | undefined): Promise<PackedTarball> => {
    const name = filename ?? (await readdir(dir)).find((f) => f.endsWith('.tgz'));
    if (!name) throw new NpmError('E_NPM', `npm pack wrote no tarball into ${dir}`, undefined);
    const path = join(dir, name);
    const bytes = await readFile(path);
    return { path, bytes, sha1: createHash('sha1').update(bytes).digest('hex'), sha256: createHash('sha256').update(bytes).digest('hex') };
  };

  const packInto = async (spec: string[], destination: string, command: string) => {
    await mkdir(destination, { recursive: true });
    // Never into the package folder: npm would pack a previous tarball into the next one.
    const got = await run(['pack', ...spec, '--json', '--ignore-scripts', `--pack-destination=${destination}`, ...registryArgs]);
    if (!got.ok) throw failure(command, got, packageName);
    let filename: string | undefined;
    try {
      filename = (JSON.parse(got.stdout) as { filename?: string }[])[0]?.filename;
    } catch {
      // older npm without --json for pack: take the one tarball in the folder
    }
    return tarballIn(destination, filename);
  };

  return {
    registry,
    pack: (destination) => packInto([], destination, 'npm pack'),
    async packument(name) {
      // `name` is always there: npm unwraps the answer when only one of the fields asked for exists.
      const got = await view(name, ['name', 'versions', 'dist-tags']);
      if (!got) return undefined;
      const versions = got['versions'];
      return {
        versions: Array.isArray(versions) ? versions.map(String) : typeof versions === 'string' ? [versions] : [],
        distTags: (got['dist-tags'] ?? {}) as Record<string, string>,
      };
    },
    async version(name, version) {
      const got = await view(`${name}@${version}`, ['name', 'dist', 'gitHead', 'dist-tags']);
      const dist = got?.['dist'] as { shasum?: string; tarball?: string } | undefined;
      if (!got || !dist?.shasum) return undefined;
      const gitHead = got['gitHead'];
      return {
        shasum: dist.shasum,
        tarball: dist.tarball ?? '',
        gitHead: typeof gitHead === 'string' ? gitHead : undefined,
        distTags: (got['dist-tags'] ?? {}) as Record<string, string>,
      };
    },
    download: (name, version, destination) => packInto([`${name}@${version}`], destination, `npm pack ${name}@${version}`),
    async publish(tarball, distTag) {
      const got = await run(['publish', tarball, `--tag=${distTag}`, '--json', '--ignore-scripts', ...registryArgs]);
      if (!got.ok) throw failure(`npm publish --tag ${distTag}`, got, packageName);
    },
  };
}

/** npm's error code and summary from `--json` output (stdout), else from its `npm error` lines. */
function npmErrorOf(got: { stdout: string; stderr: string }): { code: string | undefined; summary: string } {
  for (const text of [got.stdout, got.stderr]) {
    const start = text.indexOf('{');
    if (start < 0) continue;
    try {
      const error = (JSON.parse(text.slice(start)) as { error?: { code?: string; summary?: string } }).error;
      if (error) return { code: error.code, summary: (error.summary ?? '').trim() || 'no detail' };
    } catch {
      // not (only) JSON
    }
  }
  const code = /npm (?:error|ERR!) code (\S+)/.exec(got.stderr)?.[1];
  const lines = got.stderr
    .split('\n')
    .filter((l) => /^npm (?:error|ERR!)/.test(l) && !/ code |complete log/.test(l))
    .map((l) => l.replace(/^npm (?:error|ERR!)\s*/, ''));
  return { code, summary: lines.join(' ').trim() || got.stderr.trim().split('\n').at(-1) || 'no output' };
}

/** The key npm uses for a registry's credentials: the URL without protocol, query or hash. */
export function nerfDart(registry: string): string {
  const url = new URL(registry);
  const path = url.pathname.endsWith('/') ? url.pathname : `${url.pathname.replace(/[^/]*$/, '')}`;
  return `//${url.host}${path}`;
}
