#!/usr/bin/env node
// Bundles the slipway CLI (apps/release/src/main.ts, every @slipway/* source and every dependency
// it imports) into one ESM file, so `npx slipway` starts without transpiling TypeScript or
// resolving packages. Runs as the root `prepare`
// script after `npm ci` / `npm install`. It must never fail an install: on any error it prints one
// warning line and exits 0, and apps/release/bin/dev-entry.js keeps running the sources through tsx.
// With --strict (the `prepack` of @slipway/release: a tarball without its bundle has no working
// `slipway` bin) an error fails the run instead.
//
//   node tools/bundle-cli.mjs [--out <dir>] [--entry <file.ts>] [--strict] [--metafile <file.json>]
//
// --metafile writes esbuild's metafile (which sources went into which chunk, and which chunk
// imports which, statically or dynamically), with output names as they sit in <dir>: the test that
// keeps Octokit and the registry client off small commands reads it (apps/release/src/start-path.test.ts).
//
// Writes <dir>/slipway.mjs and <dir>/slipway.inputs.json (default dir: apps/release/dist). The
// inputs file lists every file the bundle was made from (sources esbuild read, the package.json and
// tsconfig files that steered resolution, the lockfiles, which stand for the installed packages) with size and mtime, so the bin can tell
// with a few stat calls whether the bundle still matches the sources (apps/release/bin/entry.js).
// The inputs file stays out of the published tarball: installed, the bin runs the bundle as is.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const BUNDLE = 'slipway.mjs';
const INPUTS = 'slipway.inputs.json';
// A file modified this close to the moment it was read may change again within the same mtime
// tick without its mtime moving (git's "racy clean" problem): the bin hashes those instead. The
// window is generous because a loaded machine can take seconds between an edit and the read;
// too wide costs hashing a few files at start, too narrow misses an edit.
const RACY_MS = 10_000;

function argument(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? fallback : resolve(process.argv[at + 1] ?? '');
}

const toPosix = (p) => p.split(sep).join('/');
const relativeTo = (from, to) => {
  const rel = toPosix(relative(from, to));
  return rel.startsWith('.') ? rel : `./${rel}`;
};
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

function writeAtomically(file, contents) {
  const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    writeFileSync(temp, contents);
    renameSync(temp, file);
  } finally {
    rmSync(temp, { force: true });
  }
}

/** The files that decide how a source file is resolved and compiled: its package's package.json and tsconfigs. */
function packageFiles(file) {
  const found = [];
  for (let dir = dirname(file); dir.startsWith(root) && dir !== dirname(dir); dir = dirname(dir)) {
    for (const name of ['tsconfig.json', 'tsconfig.base.json']) if (existsSync(join(dir, name))) found.push(join(dir, name));
    if (existsSync(join(dir, 'package.json'))) {
      found.push(join(dir, 'package.json'));
      break;
    }
  }
  return found;
}

async function build(outDir, entry, metafileOut) {
  const esbuild = await import('esbuild');
  mkdirSync(outDir, { recursive: true });
  const outFile = join(outDir, BUNDLE);
  const tempDir = join(outDir, `.slipway-build-${process.pid}`);
  const tempOut = join(tempDir, BUNDLE);
  /** path → { size, mtimeMs, sha256? } as read, so what is recorded is what was bundled. */
  const read = new Map();

  const slipway = {
    name: 'slipway',
    setup(b) {
      // commander requires node:child_process at load, for executable subcommands (`git-style`
      // separate programs), which slipway has none of. Loading it pulls in net, dgram and the
      // streams: about 3 ms of every start on Node 20. Commander gets a stand-in that requires
      // the real module on first use instead.
      b.onResolve({ filter: /^node:child_process$/ }, (args) =>
        /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: 'node:child_process', namespace: 'slipway-lazy-builtin' } : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: 'slipway-lazy-builtin' }, (args) => ({
        contents: `let loaded;\nmodule.exports = new Proxy({}, { get: (_, key) => (loaded ??= require(${JSON.stringify(args.path)}))[key] });\n`,
        loader: 'js',
      }));
      // Dependencies are inlined too: resolving and loading ~50 package files at every start
      // cost ~170 ms. They change only through an install, which rewrites the lockfiles this
      // bundle records; Node's builtins stay imports.
      b.onResolve({ filter: /^[^./]/ }, (args) => (isBuiltin(args.path) ? { path: args.path, external: true } : undefined));
      // Read our sources ourselves: the stat taken before the read is what the inputs file
      // records, so any later change shows. import.meta.url keeps meaning "this source file".
      b.onLoad({ filter: /\.[cm]?[jt]s$/ }, (args) => {
        if (args.path.includes(`${sep}node_modules${sep}`)) return undefined;
        const before = statSync(args.path);
        const bytes = readFileSync(args.path);
        let contents = bytes.toString('utf8');
        const other = /import\.meta\.(?!url\b)\w+/.exec(contents);
        if (other) throw new Error(`${relative(root, args.path)} uses ${other[0]}, which the bundle does not support`);
        const sourceUrl = `new URL(${JSON.stringify(relativeTo(outDir, args.path))}, import.meta.url).href`;
        contents = contents.replace(/import\.meta\.url\b/g, sourceUrl);
        read.set(args.path, { size: before.size, mtimeMs: before.mtimeMs, racy: Date.now() - before.mtimeMs < RACY_MS, bytes });
        const loader = args.path.endsWith('ts') ? 'ts' : 'js';
        return { contents, loader, resolveDir: dirname(args.path) };
      });
    },
  };

  try {
    const result = await esbuild.build({
      absWorkingDir: root,
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      conditions: ['@slipway/source'],
      // Each command's handler is imported when the command runs (src/commands/lazy.ts): with
      // splitting, what only some commands need sits in chunks beside the bundle, and a start
      // parses only what it uses. Chunks go in the same folder, so import.meta.url below means
      // the same for code in a chunk as in the bundle.
      splitting: true,
      outdir: tempDir,
      entryNames: 'slipway',
      chunkNames: 'slipway-chunk-[hash]',
      outExtension: { '.js': '.mjs' },
      plugins: [slipway],
      metafile: true,
      // CommonJS inside an ESM bundle needs a require; harmless when nothing uses it.
      banner: { js: "import { createRequire as __slipwayCreateRequire } from 'node:module';\nconst require = __slipwayCreateRequire(import.meta.url);" },
      // Parsing is most of the start-up: minified, the bundle parses in about half the time. Names
      // are kept, so error classes and stack traces still read as in the sources.
      minify: true,
      keepNames: true,
      logLevel: 'silent',
    });
    const sources = Object.keys(result.metafile.inputs)
      .filter((p) => !p.startsWith('slipway-lazy-builtin:'))
      .map((p) => resolve(root, p))
      .filter((p) => !p.includes(`${sep}node_modules${sep}`));
    const missing = sources.filter((p) => !read.has(p));
    if (missing.length > 0) throw new Error(`inputs read outside the plugin: ${missing.map((p) => relative(root, p)).join(', ')}`);

    const steering = new Set([fileURLToPath(import.meta.url), join(root, 'package-lock.json'), join(root, 'node_modules/.package-lock.json')]);
    for (const p of sources) for (const f of packageFiles(p)) steering.add(f);
    const inputs = [];
    for (const [path, s] of [...read].sort(([a], [b]) => a.localeCompare(b))) {
      inputs.push({ path: relativeTo(outDir, path), size: s.size, mtimeMs: s.mtimeMs, ...(s.racy ? { sha256: sha256(s.bytes) } : {}) });
    }
    for (const path of [...steering].sort()) {
      if (read.has(path) || !existsSync(path)) continue;
      const bytes = readFileSync(path);
      const s = statSync(path);
      inputs.push({ path: relativeTo(outDir, path), size: s.size, mtimeMs: s.mtimeMs, ...(Date.now() - s.mtimeMs < RACY_MS ? { sha256: sha256(bytes) } : {}) });
    }

    // Chunks first (their names carry their content's hash, so none replaces another's), the
    // bundle that imports them last: a bundle on disk always finds its chunks.
    const chunks = Object.keys(result.metafile.outputs).map((p) => resolve(root, p)).filter((p) => p !== tempOut);
    for (const chunk of chunks) renameSync(chunk, join(outDir, basename(chunk)));
    renameSync(tempOut, outFile);
    if (metafileOut) {
      // Output paths as the files are named once moved out of the temporary folder.
      const named = (p) => basename(resolve(root, p));
      const outputs = Object.fromEntries(
        Object.entries(result.metafile.outputs).map(([p, o]) => [named(p), { ...o, imports: o.imports.map((i) => (i.external ? i : { ...i, path: named(i.path) })) }]),
      );
      writeAtomically(metafileOut, `${JSON.stringify({ inputs: result.metafile.inputs, outputs })}\n`);
    }
    removeStaleChunks(outDir, new Set(chunks.map((c) => basename(c))));
    // The bundle's own stat ties this inputs file to this bundle: a bundle from another build
    // (a concurrent install, a half-finished one) never passes for fresh.
    const bundle = statSync(outFile);
    const manifest = { version: 1, entry: relativeTo(outDir, entry), bundle: { size: bundle.size, mtimeMs: bundle.mtimeMs }, inputs };
    writeAtomically(join(outDir, INPUTS), `${JSON.stringify(manifest, null, 1)}\n`);
    return { outFile, inputs: inputs.length };
  } finally {
    rmSync(tempDir, { recursive: true, force: true });
  }
}

/**
 * Chunks of earlier builds that no bundle imports any more. One younger than a few minutes may
 * belong to a slipway started just before this build, still to import it: it stays until a later build.
 */
function removeStaleChunks(outDir, current) {
  for (const name of readdirSync(outDir)) {
    if (!/^slipway-chunk-.*\.mjs$/.test(name) || current.has(name)) continue;
    const path = join(outDir, name);
    if (Date.now() - statSync(path).mtimeMs > 10 * 60_000) rmSync(path, { force: true });
  }
}

const outDir = argument('out', join(root, 'apps/release/dist'));
const entry = argument('entry', join(root, 'apps/release/src/main.ts'));
const metafileOut = argument('metafile', undefined);
const started = performance.now();
try {
  const { outFile, inputs } = await build(outDir, entry, metafileOut);
  if (process.argv.includes('--verbose')) {
    process.stderr.write(`bundled ${pathToFileURL(outFile).pathname} from ${inputs} inputs in ${Math.round(performance.now() - started)} ms\n`);
  }
} catch (error) {
  const message = error?.errors?.[0]?.text ?? (error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error));
  if (process.argv.includes('--strict')) {
    process.stderr.write(`error: slipway CLI bundle not built: ${message}\n`);
    process.exit(1);
  }
  process.stderr.write(`warning: slipway CLI bundle not built, \`slipway\` will run from source (slower start): ${message}\n`);
}
