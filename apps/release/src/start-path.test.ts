import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitWorkspace } from '../test/git-workspace.js';

// Small commands start without the heavy modules they never use (issue 19, goal 4): the CLI ships
// as a split bundle (tools/bundle-cli.mjs), and a command's start reads only the chunks its handler
// imports statically. This test builds that bundle with esbuild's metafile (which sources went
// into which chunk), runs the bundled CLI under a module hook that records every module Node
// loads, and looks up what those chunks were made from. Not a timing: a list of sources.

const app = fileURLToPath(new URL('..', import.meta.url));
const workspaceRoot = resolve(app, '../..');

interface Metafile {
  outputs: Record<string, { entryPoint?: string; inputs: Record<string, { bytesInOutput: number }>; imports: Array<{ path: string; kind: string; external?: boolean }> }>;
}

/** What must stay off a small command's start: Octokit, the registry client and execa (a child process library; `tag inspect` runs none). */
const HEAVY: Array<[string, RegExp]> = [
  ['Octokit', /node_modules\/@octokit\//],
  ['the GitHub adapter', /^libs\/github\/src\//],
  ['the registry client', /^libs\/registry\/src\/(registry-client|registry-transport|oci-layout|copy-image)\.ts$/],
];
const EXECA: [string, RegExp] = ['execa', /node_modules\/execa\//];
/** What `tag inspect` needs none of: it reads services.json only (src/workspace-config.ts). */
const NOT_FOR_TAG_INSPECT: Array<[string, RegExp]> = [
  ['the git adapter', /^libs\/git\/src\//],
  ['the project graph', /^apps\/release\/src\/adapters\/project-graph\.ts$/],
  // services.json's schema is zod/mini (libs/config/src/schema.ts); classic zod would bring its whole API along.
  ['the classic zod API', /node_modules\/zod\/v4\/classic\//],
];

let out: string;
let meta: Metafile;
let hooks: string;
let log: string;

/** Sources with code in `chunks` (file names of the bundle's outputs). */
function sourcesOf(chunks: Iterable<string>): string[] {
  const sources = new Set<string>();
  for (const chunk of chunks) {
    const output = meta.outputs[chunk];
    if (!output) throw new Error(`${chunk} is not an output of the bundle`);
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) if (bytesInOutput > 0) sources.add(input);
  }
  return [...sources];
}

const heavyIn = (sources: string[], heavy: Array<[string, RegExp]>) => heavy.filter(([, re]) => sources.some((s) => re.test(s))).map(([name]) => name);

/** The chunks a start reads before the handler runs: the bundle and, for `command`, its handler's chunk and everything that chunk imports statically. */
function staticClosure(handlerSource: string | undefined): string[] {
  const starts = ['slipway.mjs'];
  if (handlerSource) {
    const chunk = Object.entries(meta.outputs).find(([, o]) => o.entryPoint === handlerSource)?.[0];
    if (!chunk) throw new Error(`no chunk has ${handlerSource} as its entry point`);
    starts.push(chunk);
  }
  const seen = new Set<string>();
  const todo = [...starts];
  for (let chunk = todo.pop(); chunk !== undefined; chunk = todo.pop()) {
    if (seen.has(chunk)) continue;
    seen.add(chunk);
    for (const i of meta.outputs[chunk]?.imports ?? []) if (!i.external && i.kind === 'import-statement') todo.push(i.path);
  }
  return [...seen];
}

/** Runs the bundled CLI and returns its exit code and the bundle chunks Node loaded. */
async function loadedBy(args: string[], cwd: string, env: Record<string, string | undefined>) {
  await writeFile(log, '');
  const run = await execa(process.execPath, ['--import', pathToFileURL(hooks).href, join(out, 'slipway.mjs'), ...args], {
    cwd,
    extendEnv: false,
    env: { ...env, SLIPWAY_MODULE_LOG: log },
    reject: false,
  });
  const lines = (await readFile(log, 'utf8')).split('\n').filter(Boolean);
  const chunks = lines.filter((u) => u.startsWith(pathToFileURL(`${out}/`).href)).map((u) => basename(fileURLToPath(u)));
  // Node's own modules, as process.moduleLoadList names them at exit ("NativeModule child_process").
  const builtins = lines.filter((l) => l.startsWith('NativeModule ')).map((l) => l.slice('NativeModule '.length));
  return { exitCode: run.exitCode, stderr: run.stderr, stdout: run.stdout, chunks, sources: sourcesOf(chunks), builtins };
}

beforeAll(async () => {
  // Inside apps/release/tmp (git-ignored), like bundle.test.ts: the bundle finds package.json two levels up.
  await mkdir(join(app, 'tmp'), { recursive: true });
  out = await mkdtemp(join(app, 'tmp', 'start-path-'));
  const metafile = join(out, 'meta.json');
  const built = await execa(process.execPath, [join(workspaceRoot, 'tools/bundle-cli.mjs'), '--out', out, '--metafile', metafile, '--strict']);
  expect(built.stderr).toBe('');
  meta = JSON.parse(await readFile(metafile, 'utf8')) as Metafile;
  log = join(out, 'modules.log');
  // A module hook (node:module register) that appends every URL Node loads to SLIPWAY_MODULE_LOG,
  // and at exit the Node modules the process loaded (required ones included, which no hook sees).
  const loader = join(out, 'record-loads.mjs');
  await writeFile(
    loader,
    "import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) {\n  appendFileSync(process.env.SLIPWAY_MODULE_LOG, `${url}\\n`);\n  return next(url, context);\n}\n",
  );
  hooks = join(out, 'register.mjs');
  await writeFile(
    hooks,
    `import { appendFileSync } from 'node:fs';\nimport { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(loader).href)});\n` +
      "process.on('exit', () => appendFileSync(process.env.SLIPWAY_MODULE_LOG, process.moduleLoadList.map((m) => `${m}\\n`).join('')));\n",
  );
}, 120_000);

afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

describe('the start of small commands', () => {
  it('the check sees heavy modules where they are: `reserve` loads Octokit, `image tags` the registry client', async () => {
    // Without these, a hook that records nothing or a metafile read wrongly would pass every case below.
    const ws = await mkdtemp(join(tmpdir(), 'slipway-start-path-'));
    try {
      await writeFile(join(ws, 'services.json'), JSON.stringify({ repository: 'acme/shop', services: { api: { root: 'apps/api' } } }));
      const env = { PATH: process.env['PATH'], HOME: ws, NO_COLOR: '1' };
      const reserve = await loadedBy(['reserve', 'api', '--json'], ws, env);
      expect(heavyIn(reserve.sources, HEAVY)).toContain('Octokit');
      const tags = await loadedBy(['image', 'tags', `oci-layout:${join(ws, 'layout')}/api`, '--json'], ws, env);
      expect(heavyIn(tags.sources, HEAVY)).toContain('the registry client');
    } finally {
      await rm(ws, { recursive: true, force: true });
    }
  });

  it('`--version`, `--help` and `tag inspect` load none of them, nor execa', async () => {
    const ws = await mkdtemp(join(tmpdir(), 'slipway-start-path-'));
    try {
      await writeFile(join(ws, 'services.json'), JSON.stringify({ repository: 'acme/shop', services: { api: {} } }));
      const env = { PATH: process.env['PATH'], HOME: ws, NO_COLOR: '1', GITHUB_TOKEN: 'not-used' };
      for (const args of [['--version'], ['--help'], ['tag', 'inspect', 'api/v1.2.3', '--json']]) {
        const run = await loadedBy(args, ws, env);
        expect(run.exitCode, `${args.join(' ')}: ${run.stderr}`).toBe(0);
        expect(run.chunks, args.join(' ')).toContain('slipway.mjs');
        expect(heavyIn(run.sources, [...HEAVY, EXECA, ...NOT_FOR_TAG_INSPECT]), args.join(' ')).toEqual([]);
        // commander's child_process (for executable subcommands, which slipway has none of) stays unloaded: tools/bundle-cli.mjs.
        expect(run.builtins, args.join(' ')).not.toContain('child_process');
        expect(run.builtins, args.join(' ')).toContain('fs');
      }
      const inspect = await loadedBy(['tag', 'inspect', 'api/v1.2.3', '--json'], ws, env);
      expect(inspect.sources).toContain('apps/release/src/commands/tag-inspect.ts');
      expect(inspect.sources).toContain('libs/config/src/schema.ts');
      expect(JSON.parse(inspect.stdout)).toMatchObject({ service: 'api', version: '1.2.3' });
    } finally {
      await rm(ws, { recursive: true, force: true });
    }
  });

  it('`plan` runs git but loads neither Octokit nor the registry client, even with a repository set', async () => {
    const ws = await gitWorkspace({ repository: 'acme/shop', services: { api: { root: 'apps/api' } } }, { 'apps/api/a.js': '1' });
    await ws.release('api/v1.0.0');
    await ws.land('feat(api): more', { 'apps/api/b.js': '2' });
    const run = await loadedBy(['plan', '--json'], ws.repo.dir, { ...ws.env, GITHUB_TOKEN: 'not-used' });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ services: [{ service: 'api', nextVersion: '1.1.0' }] });
    expect(run.sources).toContain('apps/release/src/commands/plan.ts');
    expect(heavyIn(run.sources, HEAVY)).toEqual([]);
    // The check sees what a command does load: plan runs git.
    expect(heavyIn(run.sources, NOT_FOR_TAG_INSPECT)).toContain('the git adapter');
    expect(run.builtins).toContain('child_process');
  });

  it('`check` and `release --dry-run` (what the Nx targets run) load neither the registry library nor execa for a service that does not build; a service that builds still gets its findings', async () => {
    const ws = await gitWorkspace(
      { repository: 'acme/shop', services: { api: { root: 'apps/api' }, web: { root: 'apps/web', build: { type: 'docker', context: 'apps/web' } } } },
      { 'apps/api/a.js': '1', 'apps/web/index.html': '<p>' },
    );
    await ws.release('api/v1.0.0');
    await ws.release('web/v1.0.0');
    await ws.land('feat(api): more', { 'apps/api/b.js': '2' });
    const env = { ...ws.env, GITHUB_TOKEN: 'not-used' };
    const registry: [string, RegExp] = ['the registry library', /^libs\/registry\/src\//];

    const check = await loadedBy(['check', 'api', '--json'], ws.repo.dir, env);
    expect(check.exitCode, check.stderr).toBe(0);
    expect(JSON.parse(check.stdout)).toMatchObject({ ok: true, services: [{ service: 'api', nextTag: 'api/v1.1.0', findings: [] }] });
    expect(heavyIn(check.sources, [...HEAVY, registry, EXECA])).toEqual([]);

    const release = await loadedBy(['release', 'api', '--dry-run', '--json'], ws.repo.dir, env);
    expect(release.exitCode, release.stderr).toBe(0);
    expect(JSON.parse(release.stdout)).toMatchObject({ tag: 'api/v1.1.0', dryRun: true, pushed: null });
    expect(heavyIn(release.sources, [...HEAVY, registry, EXECA])).toEqual([]);

    // The docker service's build is checked with the registry library, loaded when it is needed.
    const web = await loadedBy(['check', 'web', '--json'], ws.repo.dir, env);
    expect(web.exitCode).toBe(2);
    expect(JSON.parse(web.stdout)).toMatchObject({ services: [{ service: 'web', findings: [{ code: 'E_CHECK_DOCKERFILE_MISSING' }] }] });
    expect(heavyIn(web.sources, [registry])).toEqual(['the registry library']);
  });

  it('`history` and `affected` import neither statically (their chunk graph)', () => {
    for (const handler of ['apps/release/src/commands/history.ts', 'apps/release/src/commands/affected.ts']) {
      expect(heavyIn(sourcesOf(staticClosure(handler)), HEAVY), handler).toEqual([]);
    }
    // The same walk finds Octokit behind `reserve`, so an empty answer above means something.
    expect(heavyIn(sourcesOf(staticClosure('apps/release/src/commands/reserve.ts')), HEAVY)).toContain('Octokit');
  });
});
