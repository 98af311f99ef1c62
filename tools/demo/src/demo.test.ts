import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PassThrough } from 'node:stream';
import { execa } from 'execa';
import { expect, it, onTestFinished } from 'vitest';
import { runDemo } from './demo.js';

it('npm run demo tells the whole story and ends with production rolled back to the first digest', async () => {
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const result = await runDemo({ out });
  onTestFinished(() => rm(dirname(result.workspace), { recursive: true, force: true }));

  expect(result.exitCode, text).toBe(0);
  expect(result.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  expect(text).toContain(`the release is now ${result.digest}`);
  expect(text).toContain('production needs 1 approval from release-manager');
  expect(text).toMatch(/Blast radius/);
  // The last status: production back on 1.0.0's digest, staging and canary on 1.0.1.
  const finalStatus = text.slice(text.lastIndexOf('$ slipway status api'));
  expect(finalStatus).toMatch(new RegExp(`api +production +1\\.0\\.0 +${result.digest?.slice(0, 19)}`));
  expect(finalStatus).toMatch(/api +staging +1\.0\.1 /);
  expect(text).not.toContain('demo failed');

  // Every pull command it prints can be pasted as is: an absolute layout path (podman reads a
  // relative oci:.slipway/… as a registry name), which skopeo, a containers/image client like podman, reads.
  const pulls = [...text.matchAll(/podman pull (\S+)/g)].map((m) => m[1] ?? '');
  expect(pulls.length).toBeGreaterThanOrEqual(3); // publish 1.0.0, publish 1.0.1, the closing hint
  for (const ref of new Set(pulls)) {
    expect(ref).toMatch(/^oci:\//);
    expect((await execa('skopeo', ['inspect', '--format', '{{.Digest}}', ref])).stdout).toMatch(/^sha256:/);
  }
});
