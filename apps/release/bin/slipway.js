#!/usr/bin/env node
// Entry point of the `slipway` CLI. In this workspace it runs the TypeScript sources directly
// (tsx, plus the `@slipway/source` export condition so workspace libraries resolve to their
// src/ too), which is why `npx slipway` works right after `npm ci` with no build step. A built
// package (dist/ present) runs the compiled JavaScript instead.
import { existsSync } from 'node:fs';
import { register } from 'node:module';

const compiled = new URL('../dist/main.js', import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  register(new URL('./source-condition.js', import.meta.url));
  const { register: registerTsx } = await import('tsx/esm/api');
  registerTsx();
  await import(new URL('../src/main.ts', import.meta.url).href);
}
