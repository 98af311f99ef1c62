// Decides what `slipway` runs: the bundle tools/bundle-cli.mjs made on install (dist/slipway.mjs),
// but only while it provably matches the sources — every file listed in dist/slipway.inputs.json
// still has the recorded size and mtime (a content hash for files that were modified right before
// the build), and the bundle is the one that inputs file was written for. Anything else (no bundle,
// an edited or deleted source, a changed package.json or lockfile, an unreadable inputs file) means
// the TypeScript sources, through tsx. Plain JavaScript: it runs before any transpiler is loaded.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';

/**
 * @typedef {{ kind: 'bundle', url: URL } | { kind: 'source', reason: string }} Entry
 */

/**
 * @param {URL} distDir folder URL (ending in '/') holding slipway.mjs and slipway.inputs.json
 * @returns {Entry}
 */
export function chooseEntry(distDir) {
  const bundle = new URL('slipway.mjs', distDir);
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(new URL('slipway.inputs.json', distDir), 'utf8'));
  } catch {
    return { kind: 'source', reason: 'no bundle' };
  }
  if (manifest?.version !== 1 || !Array.isArray(manifest.inputs) || manifest.inputs.length === 0) {
    return { kind: 'source', reason: 'unrecognised inputs file' };
  }
  const changed = (url, recorded) => {
    const now = statSync(url, { throwIfNoEntry: false });
    if (!now) return 'missing';
    if (now.size !== recorded.size || now.mtimeMs !== recorded.mtimeMs) return 'changed';
    if (recorded.sha256 && createHash('sha256').update(readFileSync(url)).digest('hex') !== recorded.sha256) return 'changed';
    return undefined;
  };
  const bundleState = changed(bundle, manifest.bundle ?? {});
  if (bundleState) return { kind: 'source', reason: `bundle ${bundleState}` };
  for (const input of manifest.inputs) {
    const state = changed(new URL(input.path, distDir), input);
    if (state) return { kind: 'source', reason: `${input.path} ${state}` };
  }
  return { kind: 'bundle', url: bundle };
}
