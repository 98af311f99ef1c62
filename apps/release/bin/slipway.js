#!/usr/bin/env node
// Entry point of the `slipway` CLI.
//
// Installed from npm, the package holds dist/slipway.mjs (the whole CLI and its dependencies in
// one ESM file, made by tools/bundle-cli.mjs at pack time) and no sources: that bundle runs, with
// nothing to decide beyond one stat call. In a checkout of the Slipway repository (src/ is there),
// bin/dev-entry.js picks the bundle only while it provably matches the sources, else runs them.
import { statSync } from 'node:fs';
import module from 'node:module';

// Node >= 22.1 keeps V8's compiled code between runs (in the OS temp folder), which takes most of
// the bundle's parse time off every later start. Node 20 has no such cache; there this is a no-op.
module.enableCompileCache?.();

if (statSync(new URL('../src/main.ts', import.meta.url), { throwIfNoEntry: false })) {
  await import('./dev-entry.js');
} else {
  await import('../dist/slipway.mjs');
}
