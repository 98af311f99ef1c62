import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildLayerImage, createRegistryClient, pushImage } from '@slipway/registry';
import { execa } from 'execa';
import { readAction, readWorkflow, type Job, type Step } from './workflow-files.js';

// A small GitHub Actions runner for the workflows in docs/github-actions/: jobs in `needs` order,
// `if:` and matrices evaluated, every `run:` step executed with bash as Actions runs it
// (`bash --noprofile --norc -eo pipefail`), GITHUB_OUTPUT / GITHUB_ENV files read back between
// steps, and the `uses:` steps replaced by doubles that do what the real action does to the
// workspace (checkout clones the origin at GITHUB_SHA; build-push-action builds and pushes an
// image; artifacts are copied through a folder). Our own composite action runs its own steps.

export interface SimEvent {
  /** GITHUB_EVENT_NAME */
  name: 'push' | 'workflow_dispatch' | 'repository_dispatch';
  /** GITHUB_REF, e.g. refs/tags/api/v1.0.0 */
  ref: string;
  /** GITHUB_SHA */
  sha: string;
  inputs?: Record<string, string>;
  clientPayload?: Record<string, unknown>;
  runId?: number;
}

export interface SimSetup {
  /** The bare origin actions/checkout clones. */
  origin: string;
  /** Scratch folder for job work trees and artifacts. */
  root: string;
  repository: string;
  /** PATH, tokens, GITHUB_API_URL, git's hermetic settings: what the runner's environment holds. */
  env: Record<string, string | undefined>;
  /** What nrwl/nx-set-shas would find as the last successful run's commit. */
  nxBase?: string;
}

export interface JobRun {
  job: string;
  matrix: Record<string, unknown> | undefined;
  result: 'success' | 'failure' | 'skipped';
  outputs: Record<string, string>;
  /** Combined output of the steps run, for failure messages. */
  log: string;
}

const SLIPWAY_BIN = fileURLToPath(new URL('../../bin/slipway.js', import.meta.url));
const COMPOSITE = 'slipway-dev/slipway/actions/publish@';

type Ctx = Record<string, unknown>;

// ---- expressions: the subset the workflows use (contexts, literals, == != && || !, fromJSON) ----

function tokens(expr: string): string[] {
  const out: string[] = [];
  const re = /\s*('(?:[^']|'')*'|==|!=|&&|\|\||[!().,]|[A-Za-z_][\w-]*|\d+(?:\.\d+)?)/y;
  while (expr.slice(re.lastIndex).trim() !== '') {
    const m = re.exec(expr);
    if (!m) throw new Error(`simulator: cannot parse expression ${expr}`);
    out.push(m[1] ?? '');
  }
  return out;
}

export function evaluate(expr: string, ctx: Ctx): unknown {
  const t = tokens(expr);
  let i = 0;
  const peek = () => t[i];
  const next = () => t[i++] ?? '';
  const truthy = (v: unknown) => v !== '' && v !== undefined && v !== null && v !== false && v !== 0;
  const loose = (v: unknown) => (typeof v === 'string' ? v : v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  function primary(): unknown {
    const tok = next();
    if (tok === '(') {
      const v = or();
      next();
      return v;
    }
    if (tok === '!') return !truthy(primary());
    if (tok.startsWith("'")) return tok.slice(1, -1).replaceAll("''", "'");
    if (/^\d/.test(tok)) return Number(tok);
    if (tok === 'true' || tok === 'false') return tok === 'true';
    if (peek() === '(') {
      next();
      const args: unknown[] = [];
      while (peek() !== ')') {
        args.push(or());
        if (peek() === ',') next();
      }
      next();
      if (tok === 'fromJSON') return JSON.parse(loose(args[0]));
      if (tok === 'toJSON') return JSON.stringify(args[0]);
      if (tok === 'success' || tok === 'always') return true;
      throw new Error(`simulator: no function ${tok}`);
    }
    let value: unknown = ctx[tok];
    while (peek() === '.') {
      next();
      const key = next();
      value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    }
    return value;
  }
  function comparison(): unknown {
    let left = primary();
    while (peek() === '==' || peek() === '!=') {
      const op = next();
      const right = primary();
      left = op === '==' ? loose(left) === loose(right) : loose(left) !== loose(right);
    }
    return left;
  }
  function and(): unknown {
    let left = comparison();
    while (peek() === '&&') {
      next();
      const right = comparison();
      left = truthy(left) ? right : left;
    }
    return left;
  }
  function or(): unknown {
    let left = and();
    while (peek() === '||') {
      next();
      const right = and();
      left = truthy(left) ? left : right;
    }
    return left;
  }
  const result = or();
  if (i !== t.length) throw new Error(`simulator: unexpected ${t[i] ?? ''} in ${expr}`);
  return result;
}

/** `${{ … }}` in a value: one whole expression keeps its type (a matrix object), else text. */
export function interpolate(value: unknown, ctx: Ctx): unknown {
  if (typeof value !== 'string') return value;
  const whole = /^\$\{\{(.*?)\}\}$/s.exec(value.trim());
  if (whole && !whole[1]?.includes('}}')) return evaluate(whole[1] ?? '', ctx);
  return value.replace(/\$\{\{(.*?)\}\}/gs, (_m, expr: string) => {
    const v = evaluate(expr, ctx);
    return v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  });
}

const text = (value: unknown, ctx: Ctx): string => {
  const v = interpolate(value, ctx);
  return v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
};

const condition = (expr: string | undefined, ctx: Ctx): boolean => {
  if (expr === undefined) return true;
  const bare = /^\$\{\{(.*)\}\}$/s.exec(expr.trim())?.[1] ?? expr;
  const v = evaluate(bare, ctx);
  return v !== '' && v !== undefined && v !== null && v !== false && v !== 0;
};

/** `key=value` lines and `key<<EOF … EOF` blocks, as the runner reads GITHUB_OUTPUT and GITHUB_ENV. */
export function parseCommandFile(content: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = content.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const end = lines.indexOf(heredoc[2] ?? '', i + 1);
      out[heredoc[1] ?? ''] = lines.slice(i + 1, end).join('\n');
      i = end;
    } else if (line.includes('=')) {
      out[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return out;
}

// ---- the runner ----

/** `npx slipway …` runs this checkout's CLI; `npm ci` is the install the runner image already has. */
async function toolShims(dir: string): Promise<string> {
  const bin = join(dir, 'bin');
  await mkdir(bin, { recursive: true });
  const node = process.execPath;
  await writeFile(
    join(bin, 'npx'),
    `#!/bin/sh\nif [ "$1" = slipway ]; then shift; exec "${node}" "${SLIPWAY_BIN}" "$@"; fi\necho "simulated runner: npx $* is not installed here" >&2\nexit 127\n`,
  );
  await writeFile(join(bin, 'npm'), `#!/bin/sh\nif [ "$1" = ci ]; then exit 0; fi\necho "simulated runner: npm $*" >&2\nexit 127\n`);
  await chmod(join(bin, 'npx'), 0o755);
  await chmod(join(bin, 'npm'), 0o755);
  return bin;
}

export async function simulate(workflowFile: string, event: SimEvent, setup: SimSetup): Promise<JobRun[]> {
  const workflow = readWorkflow(workflowFile);
  const runRoot = await mkdtemp(join(setup.root, `run-${basename(workflowFile, '.yml')}-`));
  const shims = await toolShims(runRoot);
  const artifacts = join(setup.root, 'artifacts');
  const refName = event.ref.replace(/^refs\/(heads|tags)\//, '');
  const declared = (workflow.on['workflow_dispatch'] as { inputs?: Record<string, { default?: string }> } | null | undefined)?.inputs ?? {};
  const inputs = { ...Object.fromEntries(Object.entries(declared).map(([k, v]) => [k, v.default ?? ''])), ...event.inputs };
  const runId = event.runId ?? 1;
  const github = {
    event_name: event.name,
    ref: event.ref,
    ref_name: refName,
    ref_type: event.ref.startsWith('refs/tags/') ? 'tag' : 'branch',
    sha: event.sha,
    repository: setup.repository,
    actor: 'octocat',
    token: setup.env['GITHUB_TOKEN'],
    run_id: String(runId),
    event: { inputs, client_payload: event.clientPayload ?? {}, repository: { default_branch: 'main' } },
  };
  const secrets = { GITHUB_TOKEN: setup.env['GITHUB_TOKEN'] };
  const results = new Map<string, JobRun[]>();
  const runs: JobRun[] = [];

  const order = topological(workflow.jobs);
  for (const name of order) {
    const job = workflow.jobs[name] as Job;
    const needs = [job.needs ?? []].flat();
    const needsCtx = Object.fromEntries(needs.map((n) => [n, { result: results.get(n)?.every((r) => r.result === 'success') ? 'success' : 'failure', outputs: Object.assign({}, ...(results.get(n) ?? []).map((r) => r.outputs)) as Record<string, string> }]));
    const base: Ctx = { github, inputs, secrets, needs: needsCtx };
    const blocked = needs.some((n) => (needsCtx[n]?.result ?? 'failure') !== 'success');
    if (blocked || !condition(job.if, base)) {
      const skipped: JobRun = { job: name, matrix: undefined, result: 'skipped', outputs: {}, log: '' };
      results.set(name, [skipped]);
      runs.push(skipped);
      continue;
    }
    const matrixDef = job.strategy?.matrix === undefined ? undefined : (interpolate(job.strategy.matrix, base) as { include?: Record<string, unknown>[] });
    const entries: Array<Record<string, unknown> | undefined> = matrixDef ? (matrixDef.include ?? []) : [undefined];
    const jobRuns: JobRun[] = [];
    for (const matrix of entries) {
      jobRuns.push(await runJob(name, job, { ...base, matrix: matrix ?? {} }, matrix));
    }
    results.set(name, jobRuns);
    runs.push(...jobRuns);
  }
  return runs;

  async function runJob(name: string, job: Job, ctx: Ctx, matrix: Record<string, unknown> | undefined): Promise<JobRun> {
    const workspace = await mkdtemp(join(runRoot, `${name}-`));
    const jobEnv: Record<string, string> = {};
    const env = (): Record<string, string | undefined> => ({
      ...setup.env,
      PATH: `${shims}:${setup.env['PATH'] ?? ''}`,
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_EVENT_NAME: event.name,
      GITHUB_REF: event.ref,
      GITHUB_REF_NAME: refName,
      GITHUB_REF_TYPE: String(github.ref_type),
      GITHUB_SHA: event.sha,
      GITHUB_REPOSITORY: setup.repository,
      GITHUB_RUN_ID: String(runId),
      GITHUB_ACTOR: 'octocat',
      GITHUB_WORKSPACE: workspace,
      SLIPWAY_NO_BUNDLE: '1',
      ...jobEnv,
    });
    const steps: Record<string, { outputs: Record<string, string>; outcome: string }> = {};
    let log = '';
    let failed = false;
    let counter = 0;

    const runSteps = async (list: Step[], stepCtx: Ctx, stepStore: typeof steps): Promise<void> => {
      for (const step of list) {
        const c = { ...stepCtx, steps: stepStore };
        if (failed || !condition(step.if, c)) continue;
        const stepEnv = Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, text(v, c)]));
        const withArgs = Object.fromEntries(Object.entries(step.with ?? {}).map(([k, v]) => [k, text(v, c)]));
        let outputs: Record<string, string> = {};
        try {
          if (step.run !== undefined) outputs = await runScript(text(step.run, c), stepEnv);
          else if (step.uses?.startsWith(COMPOSITE)) outputs = await composite(withArgs, c);
          else if (step.uses) outputs = await double(step.uses, withArgs);
        } catch (error) {
          failed = true;
          log += `\n[${name}] step ${step.id ?? step.uses ?? 'run'} failed: ${(error as Error).message}`;
        }
        if (step.id) stepStore[step.id] = { outputs, outcome: failed ? 'failure' : 'success' };
      }
    };

    async function runScript(script: string, stepEnv: Record<string, string>): Promise<Record<string, string>> {
      const n = String(counter++);
      const output = join(runRoot, `${name}-${n}.output`);
      const envFile = join(runRoot, `${name}-${n}.env`);
      const file = join(runRoot, `${name}-${n}.sh`);
      await Promise.all([writeFile(output, ''), writeFile(envFile, ''), writeFile(file, script)]);
      const r = await execa('bash', ['--noprofile', '--norc', '-eo', 'pipefail', file], {
        cwd: workspace,
        env: { ...env(), ...stepEnv, GITHUB_OUTPUT: output, GITHUB_ENV: envFile },
        extendEnv: false,
        reject: false,
        all: true,
      });
      log += `\n[${name}] $ ${script.trim()}\n${r.all ?? ''}`;
      Object.assign(jobEnv, parseCommandFile(await readFile(envFile, 'utf8')));
      if (r.exitCode !== 0) throw new Error(`exit ${String(r.exitCode)}`);
      return parseCommandFile(await readFile(output, 'utf8'));
    }

    async function composite(withArgs: Record<string, string>, outer: Ctx): Promise<Record<string, string>> {
      const action = readAction();
      const actionInputs = Object.fromEntries(Object.entries(action.inputs).map(([k, input]) => [k, withArgs[k] ?? text(input.default ?? '', outer)]));
      const inner: typeof steps = {};
      await runSteps(action.runs.steps, { ...outer, inputs: actionInputs }, inner);
      if (failed) throw new Error('composite action failed');
      return Object.fromEntries(Object.entries(action.outputs).map(([k, o]) => [k, text(o.value, { steps: inner })]));
    }

    async function double(uses: string, withArgs: Record<string, string>): Promise<Record<string, string>> {
      const action = uses.slice(0, uses.indexOf('@'));
      const git = (...args: string[]) => execa('git', args, { cwd: workspace, env: env(), extendEnv: false });
      switch (action) {
        case 'actions/checkout': {
          // As actions/checkout does: a branch event (or `ref: <branch>`) checks out that branch
          // at the commit; a tag is checked out detached.
          await execa('git', ['clone', '--quiet', setup.origin, workspace], { env: env(), extendEnv: false });
          const branch = withArgs['ref'] || (event.ref.startsWith('refs/heads/') ? refName : '');
          if (withArgs['ref']) await git('checkout', '--quiet', '-B', branch, `refs/remotes/origin/${branch}`);
          else if (branch) await git('checkout', '--quiet', '-B', branch, event.sha);
          else await git('checkout', '--quiet', '--detach', event.sha);
          return {};
        }
        case 'actions/setup-node':
        case 'docker/setup-buildx-action':
        case 'docker/login-action':
          return {};
        case 'nrwl/nx-set-shas':
          Object.assign(jobEnv, { NX_BASE: setup.nxBase ?? `${event.sha}~1`, NX_HEAD: event.sha });
          return { base: jobEnv['NX_BASE'] ?? '', head: event.sha };
        case 'actions/upload-artifact': {
          const dir = join(artifacts, withArgs['name'] ?? 'artifact');
          await mkdir(dir, { recursive: true });
          await copyFile(join(workspace, withArgs['path'] ?? ''), join(dir, basename(withArgs['path'] ?? '')));
          return {};
        }
        case 'actions/download-artifact': {
          const dir = join(artifacts, withArgs['name'] ?? 'artifact');
          for (const f of await readdir(dir)) await copyFile(join(dir, f), join(workspace, f));
          return {};
        }
        case 'docker/build-push-action': {
          const built = await buildLayerImage({ from: 'scratch', dir: join(workspace, withArgs['context'] ?? '.'), entrypoint: ['node', '/app/server.js'], revision: event.sha });
          let digest = '';
          for (const ref of (withArgs['tags'] ?? '').split(/[\n,]/).map((s) => s.trim()).filter(Boolean)) {
            const slash = ref.indexOf('/');
            const colon = ref.lastIndexOf(':');
            const host = ref.slice(0, slash);
            const client = createRegistryClient({ host, insecure: true });
            digest = (await pushImage({ registry: client, repository: ref.slice(slash + 1, colon), image: built, tags: [ref.slice(colon + 1)] })).digest;
          }
          return { digest };
        }
        default:
          throw new Error(`simulator: no double for ${uses}`);
      }
    }

    await runSteps(job.steps, ctx, steps);
    const outputs = failed ? {} : Object.fromEntries(Object.entries(job.outputs ?? {}).map(([k, v]) => [k, text(v, { ...ctx, steps })]));
    return { job: name, matrix, result: failed ? 'failure' : 'success', outputs, log };
  }
}

function topological(jobs: Record<string, Job>): string[] {
  const order: string[] = [];
  const visit = (name: string, seen: Set<string>) => {
    if (order.includes(name)) return;
    if (seen.has(name)) throw new Error(`simulator: needs cycle at ${name}`);
    for (const need of [jobs[name]?.needs ?? []].flat()) visit(need, new Set([...seen, name]));
    order.push(name);
  };
  for (const name of Object.keys(jobs)) visit(name, new Set());
  return order;
}
