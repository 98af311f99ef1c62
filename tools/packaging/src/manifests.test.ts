import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { withVersion } from './set-version.js';
import { DEPENDENCY_FIELDS, publicPackages, workspacePackages, type PackageManifest } from './workspace-packages.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const packages = publicPackages(root);
const names = new Set(workspacePackages(root).map((p) => p.manifest.name));
const NODE_FLOOR = '20.19.0';

const PUBLIC = ['@slipway/config', '@slipway/git', '@slipway/github', '@slipway/notes', '@slipway/nx-plugin', '@slipway/pins', '@slipway/redact', '@slipway/registry', '@slipway/release', '@slipway/tag'];

it('the public packages are exactly the libraries, the CLI and the Nx plugin', () => {
  expect(packages.map((p) => p.manifest.name).sort()).toEqual(PUBLIC);
});

describe.each(packages.map((p) => [p.manifest.name, p] as const))('%s', (_name, pkg) => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a manifest read as JSON, checked field by field below
  const m = pkg.manifest as PackageManifest & Record<string, any>;

  it('says what it is, where it comes from, its licence and the Node it needs', () => {
    expect(m.description).toEqual(expect.any(String));
    expect(m.license).toBe('MIT');
    expect(m.repository).toEqual({ type: 'git', url: 'git+https://github.com/slipway-dev/slipway.git', directory: pkg.dir });
    expect(m.homepage).toContain(pkg.dir);
    expect(m.engines).toEqual({ node: '>=20.19' });
    expect(m.type).toBe('module');
    expect(m.publishConfig).toEqual({ access: 'public' });
    expect(readFileSync(join(root, pkg.dir, 'LICENSE'), 'utf8')).toBe(readFileSync(join(root, 'LICENSE'), 'utf8'));
    expect(existsSync(join(root, pkg.dir, 'README.md'))).toBe(true);
  });

  it('exports built JavaScript and types to consumers with no custom condition; @slipway/source stays for this repository', () => {
    const main = m.exports['.'];
    expect(Object.keys(main)[0]).toBe('@slipway/source');
    expect(Object.keys(main).slice(1, 2)).toEqual(['types']);
    expect(main.types).toBe('./dist/index.d.ts');
    expect(main.default).toBe('./dist/index.js');
    expect(m.files).toContain('dist');
    expect(m.files).toContain('!dist/**/*.map');
    expect(m.scripts?.prepack).toEqual(expect.any(String));
  });

  it('depends on its siblings by a real range that the sibling satisfies, and on no run-time transpiler', () => {
    for (const field of DEPENDENCY_FIELDS) {
      for (const [dep, range] of Object.entries((m[field] ?? {}) as Record<string, string>)) {
        if (!names.has(dep)) continue;
        expect(range, `${field}.${dep}`).toBe(`^${m.version}`);
      }
    }
    expect(m.dependencies?.tsx).toBeUndefined();
  });

  it(`runs on Node ${NODE_FLOOR}: nothing it depends on, however deep, asks for a newer Node`, () => {
    const tooNew: string[] = [];
    const seen = new Set<string>();
    const visit = (manifest: Record<string, Record<string, string> | undefined>, from: string) => {
      for (const dep of Object.keys({ ...manifest['dependencies'], ...manifest['peerDependencies'] })) {
        const file = findPackageJson(dep, from);
        if (file === undefined || seen.has(file)) continue;
        seen.add(file);
        const child = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, string> | undefined>;
        const engines = child['engines']?.['node'];
        if (engines && !semver.satisfies(NODE_FLOOR, engines)) tooNew.push(`${dep}@${child['version']} (engines.node ${engines})`);
        visit(child, dirname(file));
      }
    };
    visit(m, join(root, pkg.dir));
    if (Object.keys(m.dependencies ?? {}).length > 0) expect(seen.size).toBeGreaterThan(0);
    expect(tooNew).toEqual([]);
  });
});

it('every package is at one version', () => {
  expect(new Set(packages.map((p) => p.manifest.version)).size).toBe(1);
});

it('set-version moves a package and its sibling ranges in lockstep, and nothing else', () => {
  const text = `${JSON.stringify({ name: '@slipway/git', version: '0.1.0', dependencies: { '@slipway/redact': '^0.1.0', execa: '^9.6.0' }, devDependencies: { '@slipway/testing': '^0.1.0' } }, null, 2)}\n`;
  const next = JSON.parse(withVersion({ dir: 'libs/git', text, manifest: JSON.parse(text) }, '0.2.0', new Set(['@slipway/redact', '@slipway/testing'])));
  expect(next).toEqual({ name: '@slipway/git', version: '0.2.0', dependencies: { '@slipway/redact': '^0.2.0', execa: '^9.6.0' }, devDependencies: { '@slipway/testing': '^0.2.0' } });
});

/** The package.json Node would load for `name` from `from`: the nearest node_modules/<name> up the tree. */
function findPackageJson(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, 'node_modules', name, 'package.json');
    if (existsSync(file)) return file;
    if (dirname(dir) === dir) return undefined;
  }
}
