import type { Writable } from 'node:stream';
import { resolve } from 'node:path';
import { run, type ExitCode } from '@slipway/release';
import { createDemoWorkspace } from './workspace.js';

export interface DemoOptions {
  /** Where the story is told (the commands' stdout and stderr both go here). */
  out: Writable;
  color?: boolean;
}

export interface DemoResult {
  exitCode: 0 | 1;
  workspace: string;
  /** The digest production ran after the first release (shown to the reader). */
  digest: string | undefined;
}

interface Step {
  title: string;
  argv: string[];
  /** The exit code this step must end with: the production gate is meant to refuse once. */
  expect?: ExitCode;
  why?: string;
}

/**
 * One release told end to end on the embedded defaults: images in an OCI image layout folder,
 * releases as git tags and manifests, pins pushed to the workspace's own origin. Every
 * step is a real `slipway` command run through the CLI's own entry point.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { out } = options;
  const bold = (t: string) => (options.color ? `\u001b[1m${t}\u001b[22m` : t);
  const dim = (t: string) => (options.color ? `\u001b[2m${t}\u001b[22m` : t);
  const say = (text = '') => out.write(`${text}\n`);
  const started = Date.now();

  say(bold('Slipway demo — one service release, from tag to production'));
  say(dim('creating a throwaway monorepo: services api, web, worker sharing libs/shared, a bare origin…'));
  const ws = await createDemoWorkspace();
  say(`workspace: ${ws.dir}`);
  say(`images:    ${ws.dir}/.slipway/images (OCI image layout; no registry, no Docker, no credentials)`);
  say();

  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: process.env['HOME'], NO_COLOR: options.color ? undefined : '1', GITHUB_ACTOR: 'dana' };
  const manifest = (version: string) => `${ws.root}/api-${version}.manifest.json`;
  let digest: string | undefined;
  let n = 0;

  const step = async ({ title, argv, expect = 0, why }: Step): Promise<void> => {
    n += 1;
    say(bold(`── ${n}. ${title}`));
    say(dim(`$ slipway ${argv.join(' ')}`));
    const code = await run(argv, { stdout: out, stderr: out, env, cwd: ws.dir });
    if (code !== expect) throw new Error(`step ${n} (slipway ${argv.join(' ')}) exited ${code}, expected ${expect}`);
    if (why) say(dim(why));
    say();
  };

  try {
    await step({ title: 'What would ship? The plan, with the blast radius since the last release', argv: ['plan'] });
    await step({ title: 'Cut the first release of api (a first release names its version)', argv: ['release', 'api', '--version', '1.0.0'] });
    await step({
      title: 'CI publishes the tag: build from the tagged commit, push, verify by digest, write the manifest',
      argv: ['publish', 'api/v1.0.0', '--manifest', manifest('1.0.0')],
    });
    const { readFile } = await import('node:fs/promises');
    digest = (JSON.parse(await readFile(manifest('1.0.0'), 'utf8')) as { digest: string }).digest;
    say(`  the release is now ${bold(digest)} — every later step moves exactly this digest`);
    say();
    await step({ title: 'Promote the manifest to staging', argv: ['promote', 'api', '--to', 'staging', '--manifest', manifest('1.0.0')] });
    await step({ title: '…then canary (only a digest that is in staging may enter)', argv: ['promote', 'api', '--to', 'canary', '--manifest', manifest('1.0.0')] });
    await step({
      title: 'Production without an approval is refused',
      argv: ['promote', 'api', '--to', 'production', '--manifest', manifest('1.0.0')],
      expect: 3,
      why: 'exit 3: refused by policy — production needs 1 approval from its listed approvers',
    });
    await step({
      title: 'Production with the release manager’s approval',
      argv: ['promote', 'api', '--to', 'production', '--manifest', manifest('1.0.0'), '--approved-by', 'release-manager'],
    });
    await step({ title: 'Where everything runs', argv: ['status'] });

    say(bold('── a fix lands on main…'));
    // Promotions were pushed to origin, never committed in this checkout: pull them first, as anyone would.
    await ws.git('pull', '-q', '--ff-only', 'origin', 'main');
    await ws.commit('fix(api): time out slow upstreams (#5)', { 'apps/api/index.js': 'console.log("api with timeouts");\n' });
    say();
    await step({ title: 'Cut the next release: the fix makes it a patch', argv: ['release', 'api', '--bump', 'patch'] });
    await step({ title: 'Publish 1.0.1', argv: ['publish', 'api/v1.0.1', '--manifest', manifest('1.0.1')] });
    for (const env of ['staging', 'canary']) {
      await step({ title: `Promote 1.0.1 to ${env}`, argv: ['promote', 'api', '--to', env, '--manifest', manifest('1.0.1')] });
    }
    await step({
      title: 'Promote 1.0.1 to production',
      argv: ['promote', 'api', '--to', 'production', '--manifest', manifest('1.0.1'), '--approved-by', 'release-manager'],
    });
    await step({
      title: 'Something is wrong in production: roll back to the previous digest',
      argv: ['rollback', 'api', '--env', 'production', '--approved-by', 'release-manager'],
    });
    await step({ title: 'The audit trail, read back from the commit trailers', argv: ['history', 'api'] });
    await step({ title: 'Status after the rollback', argv: ['status', 'api'] });
  } catch (error) {
    say(`demo failed: ${(error as Error).message}`);
    say(`the workspace is kept for a look: ${ws.dir}`);
    return { exitCode: 1, workspace: ws.dir, digest };
  }

  say(bold(`Done in ${((Date.now() - started) / 1000).toFixed(1)} s.`));
  say(`The workspace is still there: ${ws.dir}`);
  // Absolute: podman reads a relative oci:.slipway/… as a registry name.
  say(`  images        ${resolve(ws.dir, '.slipway/images/api')}   pull: podman pull oci:${resolve(ws.dir, '.slipway/images/api')}:v1.0.1`);
  say(`  pins          git -C ${ws.dir} show origin/main:deploy/production/api.yaml   (pushed to origin; your checkout is never touched)`);
  say(`  manifests     ${manifest('1.0.0')}, ${manifest('1.0.1')}`);
  say(`  audit trail   git -C ${ws.dir} log origin/main --format='%s%n%b' -- deploy`);
  say('Try next:');
  say(`  cd ${ws.dir}`);
  say('  npx slipway plan --json');
  say('  npx slipway release web --version 0.1.0 --dry-run');
  say('  npx slipway tag inspect api/v1.1.0-rc.1');
  return { exitCode: 0, workspace: ws.dir, digest };
}
