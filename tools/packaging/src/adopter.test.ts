// Slipway as an adopter gets it: every public package packed from a fresh copy of this work tree
// after `npm ci` (each prepack builds its package) and published to
// a real verdaccio, then a fresh Nx 23 workspace with two applications and a bare git origin
// installs @slipway/release and @slipway/nx-plugin from there — everything else resolves from the
// registries, nothing is linked from this repository — and runs the README's "Adopt it" steps,
// then imports every library from TypeScript (ESM) and from CommonJS.
//
// The README's steps are read from the README itself, so the two cannot drift.
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startVerdaccio, type VerdaccioPeer } from '@slipway/testing';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicPackages } from './workspace-packages.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
const packages = publicPackages(repoRoot);
const version = packages[0]?.manifest.version ?? '';

/** The shell commands of the README's "Adopt it" section, in order (lines of its ```sh blocks). */
export function adoptionSteps(text: string): string[] {
  const section = /^## Adopt it[^\n]*\n([\s\S]*?)(?=^## )/m.exec(text)?.[1];
  if (!section) throw new Error('README.md has no "## Adopt it" section');
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap(([, block]) =>
    (block ?? '')
      .split('\n')
      .map((line) => line.replace(/\s+#.*$/, '').trim())
      .filter((line) => line !== '' && !line.startsWith('#')),
  );
}

/** The README's "libraries, for your own tooling" TypeScript example, as written. */
function librariesExample(text: string): string {
  const section = /^## The libraries, for your own tooling\n([\s\S]*?)(?=^## )/m.exec(text)?.[1];
  const code = section && /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  if (!code) throw new Error('README.md has no TypeScript example under "## The libraries, for your own tooling"');
  return code;
}

let verdaccio: VerdaccioPeer;
let scratch: string;
let ws: string;
let env: Record<string, string>;

interface Ran {
  exitCode: number;
  stdout: string;
  /** stdout and stderr interleaved, as a person would have seen them. */
  all: string;
}

async function run(file: string, args: readonly string[], options: { cwd?: string } = {}): Promise<Ran> {
  const done = await execa(file, args, { cwd: options.cwd ?? ws, env, extendEnv: false, reject: false, stdin: 'ignore', all: true });
  return { exitCode: done.exitCode ?? -1, stdout: String(done.stdout), all: String(done.all) };
}
const sh = (command: string, cwd = ws) => run('bash', ['-c', command], { cwd });
const twin = () => join(scratch, 'acme-nx-add');
const git = (...args: string[]) => run('git', args);

/**
 * This repository's files as a fresh clone of the work tree would have them (tracked and
 * untracked, not ignored: no dist/, no node_modules/), after `npm ci`. Packing there builds every
 * package from nothing, as a release from a clean checkout does, and never races the builds and
 * typechecks that other tasks run in this work tree.
 */
async function freshCheckout(): Promise<string> {
  const dir = join(scratch, 'slipway');
  const listed = await execa('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: repoRoot });
  for (const file of listed.stdout.split('\0').filter(Boolean)) {
    if (!existsSync(join(repoRoot, file))) continue; // deleted in the work tree, not yet committed
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await copyFile(join(repoRoot, file), join(dir, file));
  }
  const installed = await execa('npm', ['ci', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: dir, env: npmEnv(), extendEnv: false, reject: false });
  expect(installed.exitCode, installed.stderr).toBe(0);
  return dir;
}

/**
 * npm with no user config of ours and no npm_* variables inherited from an npm running this test
 * (pass it with `extendEnv: false`); `home` and npm's `cache` when they are not the user's own.
 */
const npmEnv = (options: { home?: string; cache?: string } = {}): Record<string, string> => ({
  PATH: process.env['PATH'] ?? '',
  HOME: options.home ?? process.env['HOME'] ?? '',
  NO_COLOR: '1',
  npm_config_userconfig: join(scratch, 'empty-npmrc'),
  ...(options.cache === undefined ? {} : { npm_config_cache: options.cache }),
});

async function packAndPublish(): Promise<Record<string, string[]>> {
  const checkout = await freshCheckout();
  const tarballs = join(scratch, 'tarballs');
  await mkdir(tarballs);
  // `npm pack -w` after a fresh `npm ci`, one npm for every package: each one's prepack builds it.
  const pack = await execa('npm', ['pack', ...packages.flatMap((p) => ['-w', p.manifest.name]), '--pack-destination', tarballs, '--json'], {
    cwd: checkout,
    env: npmEnv(),
    extendEnv: false,
    reject: false,
  });
  expect(pack.exitCode, pack.stderr).toBe(0);
  const contents: Record<string, string[]> = {};
  for (const entry of JSON.parse(pack.stdout) as Array<{ name: string; filename: string; files: Array<{ path: string }> }>) {
    contents[entry.name] = entry.files.map((f) => f.path).sort();
    const published = await execa('npm', ['publish', join(tarballs, entry.filename), '--registry', verdaccio.url, `--//${verdaccio.host}/:_authToken=${verdaccio.token}`], {
      cwd: scratch,
      env: npmEnv({ home: scratch }),
      extendEnv: false,
      reject: false,
    });
    expect(published.exitCode, published.stderr).toBe(0);
  }
  return contents;
}

const files = {
  'package.json': {
    name: '@acme/source',
    version: '0.0.0',
    private: true,
    workspaces: ['apps/*', 'libs/*'],
    devDependencies: { nx: '23.2.1' },
  },
  'nx.json': { $schema: './node_modules/nx/schemas/nx-schema.json', defaultBase: 'main' },
  '.gitignore': 'node_modules\n.nx\n.slipway\nout\n',
  // api says its version; web leaves its first version to whoever releases it.
  'apps/api/package.json': { name: '@acme/api', version: '0.3.0', private: true, dependencies: { '@acme/shared': '*' } },
  'apps/api/src/main.js': "import { greet } from '@acme/shared';\nconsole.log(greet('api'));\n",
  'apps/web/package.json': { name: '@acme/web', private: true },
  'apps/web/src/main.js': "console.log('web');\n",
  'libs/shared/package.json': { name: '@acme/shared', version: '0.0.0', private: true, type: 'module', exports: './src/index.js' },
  'libs/shared/src/index.js': 'export const greet = (who) => `hello ${who}`;\n',
};

describe('an Nx workspace adopts Slipway from npm', { timeout: 600_000 }, () => {
  let contents: Record<string, string[]>;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'slipway-adopter-'));
    await writeFile(join(scratch, 'empty-npmrc'), '');
    verdaccio = await startVerdaccio();
    contents = await packAndPublish();

    ws = join(scratch, 'acme');
    const origin = join(scratch, 'origin.git');
    for (const [path, content] of Object.entries(files)) {
      await mkdir(join(ws, path, '..'), { recursive: true });
      await writeFile(join(ws, path), typeof content === 'string' ? content : `${JSON.stringify(content, null, 2)}\n`);
    }
    // Only @slipway comes from the test registry, standing in for npmjs.org where the packages
    // will live; npm's own cache serves the rest when it can.
    await writeFile(join(ws, '.npmrc'), `@slipway:registry=${verdaccio.url}\nfund=false\naudit=false\nprefer-offline=true\n`);
    const cache = (await execa('npm', ['config', 'get', 'cache'], { cwd: scratch })).stdout.trim();
    env = {
      ...npmEnv({ home: scratch, cache }),
      NX_DAEMON: 'false',
      NX_NO_CLOUD: 'true',
      NX_TUI: 'false',
      NX_SKIP_NX_CACHE: 'true',
      GIT_AUTHOR_NAME: 'Ada',
      GIT_AUTHOR_EMAIL: 'ada@acme.test',
      GIT_COMMITTER_NAME: 'Ada',
      GIT_COMMITTER_EMAIL: 'ada@acme.test',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: join(scratch, 'empty-gitconfig'),
    };
    await writeFile(join(scratch, 'empty-gitconfig'), '');
    for (const step of [
      ['git', 'init', '-q', '--bare', '-b', 'main', origin],
      ['git', 'init', '-q', '-b', 'main'],
      ['git', 'remote', 'add', 'origin', origin],
      ['npm', 'install'],
      ['git', 'add', '-A'],
      ['git', 'commit', '-qm', 'chore: new Nx workspace'],
      ['git', 'push', '-q', 'origin', 'main'],
    ] as const) {
      const [file, ...args] = step;
      const done = await run(file, args);
      expect(done.exitCode, `${step.join(' ')}\n${done.all}`).toBe(0);
    }
    // A twin of the fresh workspace, for `nx add` (the one-command way in).
    const copied = await execa('cp', ['-a', ws, twin()]);
    expect(copied.exitCode).toBe(0);
  }, 600_000);

  afterAll(async () => {
    await verdaccio?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('tarballs hold built JavaScript, types, README and LICENSE — no sources, tests, maps or build state', () => {
    expect(Object.keys(contents).sort()).toEqual(packages.map((p) => p.manifest.name).sort());
    for (const [name, list] of Object.entries(contents)) {
      expect(list, name).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts']));
      expect(list.filter((f) => /(^|\/)src\/|\.ts$(?<!\.d\.ts)|\.map$|tsbuildinfo|\.test\.|tsconfig|inputs\.json/.test(f)), name).toEqual([]);
    }
    expect(contents['@slipway/release']).toEqual(expect.arrayContaining(['bin/slipway.js', 'dist/slipway.mjs']));
    expect(contents['@slipway/config']).toContain('services.schema.json');
    expect(contents['@slipway/nx-plugin']).toEqual(expect.arrayContaining(['generators.json', 'dist/generators/init/init.js', 'dist/generators/init/schema.json', 'dist/workflows/pr.yml', 'dist/workflows/release.yml', 'dist/workflows/promote.yml']));
  });

  it("runs the README's adoption steps as written", async () => {
    const steps = adoptionSteps(readme);
    expect(steps[0]).toMatch(/^npm install .*@slipway\/release @slipway\/nx-plugin$/);
    for (const step of steps) {
      if (step.startsWith('git ')) continue; // committing is the user's business; done below
      const done = await sh(step);
      expect(done.exitCode, `${step}\n${done.all}`).toBe(0);
      if (step.startsWith('npx nx g @slipway/nx-plugin:init')) {
        // What init wrote is what the next steps run on: commit it, as the README says.
        for (const args of [['add', '-A'], ['commit', '-qm', 'chore: adopt slipway'], ['push', '-q', 'origin', 'main']]) {
          const g = await git(...args);
          expect(g.exitCode, g.all).toBe(0);
        }
      }
    }
    const installed = JSON.parse(await readFile(join(ws, 'node_modules/@slipway/release/package.json'), 'utf8')) as { version: string };
    expect(installed.version).toBe(version);
    // Only the two names were asked for; the other packages came with them from the registry.
    const pkg = JSON.parse(await readFile(join(ws, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    expect(Object.keys(pkg.devDependencies).filter((d) => d.startsWith('@slipway/')).sort()).toEqual(['@slipway/nx-plugin', '@slipway/release']);
    expect((await readdir(join(ws, 'node_modules/@slipway'))).sort()).toEqual(packages.map((p) => p.manifest.name.slice('@slipway/'.length)).sort());
  });

  it('init registered the plugin, found both applications and made the release project', async () => {
    const nxJson = JSON.parse(await readFile(join(ws, 'nx.json'), 'utf8')) as { plugins: unknown[] };
    expect(nxJson.plugins).toContain('@slipway/nx-plugin');
    expect(JSON.parse(await readFile(join(ws, 'services.json'), 'utf8'))).toEqual({
      $schema: './node_modules/@slipway/config/services.schema.json',
      services: { api: { project: '@acme/api' }, web: { project: '@acme/web' } },
    });
    const shown = await sh('npx nx show project release --json');
    expect(shown.exitCode, shown.all).toBe(0);
    const project = JSON.parse(shown.stdout) as { root: string; targets: Record<string, { options: { command: string } }> };
    expect(project.root).toBe('tools/release');
    expect(project.targets['api']?.options.command).toBe('node node_modules/@slipway/release/bin/slipway.js release api');

    // Again: nothing changes.
    const again = await sh('npx nx g @slipway/nx-plugin:init');
    expect(again.exitCode, again.all).toBe(0);
    expect(again.all).toContain('services.json exists: left as it is');
    expect((await git('status', '--porcelain')).stdout).toBe('');
  });

  it("a first release through Nx takes the project's package.json version, or names the exact command", async () => {
    const api = await sh('npx nx run release:api -- --dry-run');
    expect(api.exitCode, api.all).toBe(0);
    expect(api.all).toContain('Would tag api/v0.3.0');

    const web = await sh('npx nx run release:web -- --dry-run');
    expect(web.exitCode).not.toBe(0);
    expect(web.all).toContain('npx nx run release:web -- --version 0.1.0');
    const chosen = await sh('npx nx run release:web -- --dry-run --version 0.1.0');
    expect(chosen.exitCode, chosen.all).toBe(0);
    expect(chosen.all).toContain('Would tag web/v0.1.0');
    expect((await git('tag')).stdout).toBe('');
    expect((await git('status', '--porcelain')).stdout).toBe('');
  });

  it('nx affected -t release-check runs only the checks of the applications a change touches', async () => {
    expect((await git('checkout', '-q', '-b', 'change-web')).exitCode).toBe(0);
    await writeFile(join(ws, 'apps/web/src/main.js'), "console.log('web, changed');\n");
    expect((await git('commit', '-qam', 'feat(web): say more')).exitCode).toBe(0);
    const affected = await sh('npx nx affected -t release-check --base=main --head=HEAD --outputStyle=static');
    expect(affected.exitCode, affected.all).toBe(0);
    expect(affected.all).toContain('@acme/web:release-check');
    expect(affected.all).not.toContain('@acme/api:release-check');

    // A change to the library api depends on reaches api, and only api.
    await writeFile(join(ws, 'libs/shared/src/index.js'), 'export const greet = (who) => `hi ${who}`;\n');
    expect((await git('commit', '-qam', 'fix(shared): shorter greeting')).exitCode).toBe(0);
    const both = await sh('npx nx affected -t release-check --base=HEAD~1 --head=HEAD --outputStyle=static');
    expect(both.exitCode, both.all).toBe(0);
    expect(both.all).toContain('@acme/api:release-check');
    expect(both.all).not.toContain('@acme/web:release-check');
    expect((await git('checkout', '-q', 'main')).exitCode).toBe(0);
  });

  it('`nx add @slipway/nx-plugin` installs the plugin and runs init, which brings the CLI too', async () => {
    const dir = twin();
    const added = await sh('npx nx add @slipway/nx-plugin', dir);
    expect(added.exitCode, added.all).toBe(0);
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    expect(pkg.devDependencies).toMatchObject({ '@slipway/nx-plugin': expect.any(String), '@slipway/release': `^${version}` });
    expect(JSON.parse(await readFile(join(dir, 'nx.json'), 'utf8'))).toMatchObject({ plugins: ['@slipway/nx-plugin'] });
    expect(Object.keys((JSON.parse(await readFile(join(dir, 'services.json'), 'utf8')) as { services: object }).services)).toEqual(['api', 'web']);
    const shown = await sh('npx nx show project release --json', dir);
    expect(shown.exitCode, shown.all).toBe(0);
    expect(Object.keys((JSON.parse(shown.stdout) as { targets: object }).targets)).toEqual(expect.arrayContaining(['api', 'web']));
    const cli = await sh('node node_modules/@slipway/release/bin/slipway.js --version', dir);
    expect(cli.stdout.trim()).toBe(version);
  });

  it('every library works from TypeScript (nodenext, strict, skipLibCheck off) and from CommonJS', async () => {
    const libraries = packages.map((p) => p.manifest.name).filter((n) => n !== '@slipway/nx-plugin' && n !== '@slipway/release');
    const installed = await sh(`npm install --save-dev typescript@~5.9.0 ${libraries.join(' ')}`);
    expect(installed.exitCode, installed.all).toBe(0);
    const consumer = join(ws, 'tools/consumer');
    await mkdir(consumer, { recursive: true });
    await writeFile(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, skipLibCheck: false, outDir: 'out', types: [] }, files: ['readme-example.ts', 'every-library.ts'] }),
    );
    // package.json "type": "module" makes the .ts files ESM under nodenext.
    await writeFile(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    await writeFile(join(consumer, 'readme-example.ts'), `${librariesExample(readme)}\nexport {};\n`);
    await writeFile(
      join(consumer, 'every-library.ts'),
      [
        "import { classifyTag, type TagInfo } from '@slipway/tag';",
        "import { parseConfig } from '@slipway/config';",
        "import { renderNotes } from '@slipway/notes';",
        "import { pinUpdater } from '@slipway/pins';",
        "import { parseImageRef } from '@slipway/registry';",
        "import { createGit } from '@slipway/git';",
        "import { createGitHub } from '@slipway/github';",
        "import { redact } from '@slipway/redact';",
        "import { COMMANDS } from '@slipway/release';",
        "const info: TagInfo = classifyTag('api/v1.2.3', { scheme: 'per-service', services: { api: {} } });",
        "const config = parseConfig(JSON.stringify({ services: { api: {} } }));",
        "console.log(JSON.stringify({ kind: info.kind, services: Object.keys(config.services), image: parseImageRef('ghcr.io/acme/api:v1').repository, redacted: redact('https://u:s3cret@h/x', ['s3cret']), commands: COMMANDS.length > 0, fns: [renderNotes, pinUpdater, createGit, createGitHub].every((f) => typeof f === 'function') }));",
      ].join('\n'),
    );
    const compiled = await run('npx', ['tsc', '-p', 'tools/consumer']);
    expect(compiled.exitCode, compiled.all).toBe(0);
    const example = await run('node', ['tools/consumer/out/readme-example.js']);
    expect(example.exitCode, example.all).toBe(0);
    const esm = await run('node', ['tools/consumer/out/every-library.js']);
    expect(esm.exitCode, esm.all).toBe(0);
    expect(JSON.parse(esm.stdout)).toEqual({ kind: 'release', services: ['api'], image: 'acme/api', redacted: 'https://***@h/x', commands: true, fns: true });

    await writeFile(
      join(consumer, 'every-library.cjs'),
      [
        "const { classifyTag } = require('@slipway/tag');",
        ...libraries.map((name) => `if (Object.keys(require('${name}')).length === 0) throw new Error('${name} exports nothing to require()');`),
        "console.log(classifyTag('api/v1.2.3-rc.1', { scheme: 'per-service', services: { api: {} } }).kind);",
      ].join('\n'),
    );
    const cjs = await run('node', ['tools/consumer/every-library.cjs']);
    expect(cjs.exitCode, cjs.all).toBe(0);
    expect(cjs.stdout.trim()).toBe('prerelease');
  });
});
