// Regenerates docs/cli.md and docs/services-json.md from the command definitions and the zod
// schema. Run with `npm run docs`; a test in tools/docs fails when the committed files are stale.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedDocs } from './src/index.js';

const workspaceRoot = new URL('../../', import.meta.url);
for (const doc of generatedDocs()) {
  const target = fileURLToPath(new URL(doc.file, workspaceRoot));
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, doc.text);
  process.stderr.write(`wrote ${target}\n`);
}
