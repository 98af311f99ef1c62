// Moves every Slipway package to one version, in lockstep, and every dependency between them to
// `^<version>`, so a published set always resolves to itself:
//
//   npm run version-packages -- 0.2.0
//
// package.json files are written back with their own indent and key order; package-lock.json
// follows on the next `npm install`.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { DEPENDENCY_FIELDS, workspacePackages, type WorkspacePackage } from './workspace-packages.js';

/** package.json text with `version` and the ranges on sibling packages set, at the file's own indent. */
export function withVersion(pkg: WorkspacePackage, version: string, siblings: ReadonlySet<string>): string {
  const manifest = JSON.parse(pkg.text) as Record<string, unknown>;
  manifest['version'] = version;
  for (const field of DEPENDENCY_FIELDS) {
    const deps = manifest[field] as Record<string, string> | undefined;
    if (!deps) continue;
    for (const name of Object.keys(deps)) if (siblings.has(name)) deps[name] = `^${version}`;
  }
  const indent = /^(\s+)"/m.exec(pkg.text)?.[1] ?? '  ';
  return `${JSON.stringify(manifest, null, indent)}\n`;
}

export function setVersion(root: string, version: string): string[] {
  if (semver.valid(version) !== version) throw new Error(`${version} is not a semver version (MAJOR.MINOR.PATCH[-pre])`);
  const packages = workspacePackages(root);
  const siblings = new Set(packages.map((p) => p.manifest.name));
  const changed: string[] = [];
  for (const pkg of packages) {
    const text = withVersion(pkg, version, siblings);
    if (text === pkg.text) continue;
    writeFileSync(join(root, pkg.dir, 'package.json'), text);
    changed.push(pkg.dir);
  }
  return changed;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const version = process.argv[2];
  if (!version) {
    process.stderr.write('usage: npm run version-packages -- <version>\n');
    process.exitCode = 2;
  } else {
    try {
      const root = fileURLToPath(new URL('../../..', import.meta.url));
      const changed = setVersion(root, version);
      process.stderr.write(`${changed.length} package.json files now at ${version}; run npm install to update package-lock.json\n`);
    } catch (error) {
      process.stderr.write(`error: ${(error as Error).message}\n`);
      process.exitCode = 2;
    }
  }
}
