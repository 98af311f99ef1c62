import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface PackageManifest {
  name: string;
  version: string;
  private?: boolean;
  [field: string]: unknown;
}

export interface WorkspacePackage {
  /** Folder relative to the workspace root, `/`-separated (`libs/tag`). */
  dir: string;
  manifest: PackageManifest;
  /** The package.json text as committed, so an edit can keep its formatting. */
  text: string;
}

export const DEPENDENCY_FIELDS = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'] as const;

/** Every package of the root package.json's `workspaces` (simple `dir/*` globs, as this repository uses). */
export function workspacePackages(root: string): WorkspacePackage[] {
  const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces?: string[] };
  const found: WorkspacePackage[] = [];
  for (const pattern of rootManifest.workspaces ?? []) {
    if (!pattern.endsWith('/*')) throw new Error(`workspace pattern ${pattern}: only "<dir>/*" is supported`);
    const parent = pattern.slice(0, -2);
    for (const child of readdirSync(join(root, parent)).sort()) {
      const dir = `${parent}/${child}`;
      const file = join(root, dir, 'package.json');
      if (!statSync(join(root, dir)).isDirectory() || !statSync(file, { throwIfNoEntry: false })) continue;
      const text = readFileSync(file, 'utf8');
      found.push({ dir, manifest: JSON.parse(text) as PackageManifest, text });
    }
  }
  return found;
}

/** The packages npm users get: every workspace package that is not private. */
export function publicPackages(root: string): WorkspacePackage[] {
  return workspacePackages(root).filter((p) => p.manifest.private !== true);
}
