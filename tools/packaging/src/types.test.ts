// The declarations every package ships compile for a consumer as strict as they come — nodenext,
// strict, skipLibCheck off — with no Node typings installed: what leaks from a package's public
// types is the package's job, not the user's. The adopter test proves the same on the packed
// tarballs; this is the quick version on the built dist/ folders, so a leak fails every test run.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { publicPackages } from './workspace-packages.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));

it('every public package type-checks for a consumer with nodenext, strict, skipLibCheck off and no @types/node', async () => {
  // Inside the workspace so node_modules resolves the packages; tmp/ is git-ignored.
  const dir = await mkdtemp(join(root, 'tools/packaging/tmp-types-'));
  try {
    // Not @slipway/nx-plugin: Nx loads it, nobody imports it, and its types are @nx/devkit's,
    // which do not compile with skipLibCheck off (Nx's own declarations fail it).
    const names = publicPackages(root)
      .map((p) => p.manifest.name)
      .filter((name) => name !== '@slipway/nx-plugin');
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    await writeFile(join(dir, 'use.ts'), names.map((name, i) => `import * as p${i} from '${name}';\nexport const u${i} = p${i};`).join('\n'));
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, skipLibCheck: false, noEmit: true, types: [] }, files: ['use.ts'] }),
    );
    const tsc = await execa(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', dir], { reject: false, cwd: dir });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.exitCode).toBe(0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
