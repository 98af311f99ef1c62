// `slipway` in a checkout of the Slipway repository. `npm ci` / `npm install` bundle the CLI into
// dist/slipway.mjs (the root `prepare` script, tools/bundle-cli.mjs); it runs when it still matches
// the sources (bin/entry.js), because transpiling them on every start costs most of a second.
// Otherwise — no bundle, or a source edited since — the TypeScript sources run directly (tsx, a
// devDependency of the repository, plus the `@slipway/source` export condition so workspace
// libraries resolve to their src/ too), so `npx slipway` is always current with no build step.
// SLIPWAY_NO_BUNDLE=1 forces the sources; SLIPWAY_DEBUG_ENTRY=1 says on stderr which one ran.
import { register } from 'node:module';
import { chooseEntry } from './entry.js';

const entry = process.env.SLIPWAY_NO_BUNDLE === '1' ? { kind: 'source', reason: 'SLIPWAY_NO_BUNDLE=1' } : chooseEntry(new URL('../dist/', import.meta.url));
if (process.env.SLIPWAY_DEBUG_ENTRY === '1') {
  process.stderr.write(entry.kind === 'bundle' ? `slipway entry: bundle ${entry.url.pathname}\n` : `slipway entry: source (${entry.reason})\n`);
}
if (entry.kind === 'bundle') {
  await import(entry.url.href);
} else {
  register(new URL('./source-condition.js', import.meta.url));
  const { register: registerTsx } = await import('tsx/esm/api');
  registerTsx();
  await import(new URL('../src/main.ts', import.meta.url).href);
}
