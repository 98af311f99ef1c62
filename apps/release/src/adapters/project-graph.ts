import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { SourceControl } from '@slipway/git';
import { ensureCacheRoot } from '../cache-root.js';
import type { Env } from '../context.js';

/** The part of the Nx project graph slipway uses: project roots and who depends on whom. */
export interface ProjectGraph {
  roots: Record<string, string>;
  dependencies: Record<string, readonly string[]>;
}

/** Where a graph came from: Slipway's cache, the graph Nx cached for the task running us, or Nx itself. */
export type GraphSource = 'slipway-cache' | 'nx-task' | 'nx';

export class ProjectGraphError extends Error {
  override readonly name = 'ProjectGraphError';
  readonly code = 'E_PROJECT_GRAPH';
  /** 2 when the workspace cannot have a graph as set up (no Nx installed); 1 when Nx failed. */
  readonly exitCode: 1 | 2;
  constructor(message: string, options: ErrorOptions & { exitCode?: 1 | 2 } = {}) {
    super(message, options);
    this.exitCode = options.exitCode ?? 1;
  }
}

interface NxGraph {
  nodes: Record<string, { data: { root: string } }>;
  dependencies: Record<string, Array<{ target: string }>>;
}

export interface ReadProjectGraphOptions {
  workspaceRoot: string;
  git: SourceControl;
  env: Env;
  /** Told where the graph came from (for --verbose and the benchmark). */
  onSource?: (source: GraphSource) => void;
}

/** The cache file (relative to the workspace root), beside the pins-repository clones Slipway keeps. */
export const GRAPH_CACHE = '.slipway/cache/project-graph.json';
const CACHE_FORMAT = 1;
// Hashing more changed files than this costs more than asking Nx.
const MAX_HASHED_CHANGES = 2000;
const MAX_HASHED_BYTES = 4 * 1024 * 1024;

/**
 * The workspace's Nx project graph, as cheaply as it can be known to be right:
 *
 * 1. Slipway's own cache, keyed by everything Nx reads to build the graph as git sees it: HEAD's
 *    tree, the content of every changed or untracked (not ignored) file, and the Nx version. A
 *    clean checkout at the same commit is a hit, whatever the clock or the machine.
 * 2. Inside an Nx task (`nx run release:api`, `nx affected -t release-check`), the graph the
 *    running Nx computed for this very run, through its public `readCachedProjectGraph`.
 * 3. Otherwise Nx itself: `nx graph --file`, the stable public way to get it whatever the version.
 *
 * Only services without a `root` in services.json and `affected` need a graph.
 */
export async function readProjectGraph(options: ReadProjectGraphOptions): Promise<ProjectGraph> {
  const { workspaceRoot, env, onSource } = options;
  const key = await cacheKey(options);
  const cached = key === undefined ? undefined : await readCache(workspaceRoot, key);
  if (cached) {
    onSource?.('slipway-cache');
    return cached;
  }
  // Earlier tasks of the same Nx run may have changed files since Nx computed its graph, so that
  // one is used but never cached under today's key.
  const taskGraph = insideNxTask(workspaceRoot, env) ? fromNxTask(workspaceRoot) : undefined;
  if (taskGraph) {
    onSource?.('nx-task');
    return taskGraph;
  }
  onSource?.('nx');
  const graph = await fromNxGraphCommand(workspaceRoot);
  // Stored only when nothing changed while Nx worked, so the key describes what Nx read.
  if (key !== undefined && (await cacheKey(options)) === key) await writeCache(workspaceRoot, key, graph);
  return graph;
}

function reduce(graph: NxGraph): ProjectGraph {
  return {
    roots: Object.fromEntries(Object.entries(graph.nodes).map(([name, node]) => [name, node.data.root])),
    dependencies: Object.fromEntries(Object.entries(graph.dependencies).map(([name, deps]) => [name, deps.map((d) => d.target)])),
  };
}

/** The workspace's own Nx, as Node resolves it from the workspace root. */
function nxRequire(workspaceRoot: string): NodeJS.Require {
  return createRequire(join(workspaceRoot, 'package.json'));
}

/** The workspace's installed nx: its version (part of the cache key) and its bin; undefined when none resolves. */
async function installedNx(workspaceRoot: string): Promise<{ version: string | undefined; bin: string | undefined } | undefined> {
  try {
    const manifest = nxRequire(workspaceRoot).resolve('nx/package.json');
    const { version, bin } = JSON.parse(await readFile(manifest, 'utf8')) as { version?: string; bin?: string | Record<string, string> };
    const path = typeof bin === 'string' ? bin : bin?.['nx'];
    return { version, bin: path === undefined ? undefined : join(dirname(manifest), path) };
  } catch {
    return undefined;
  }
}

async function cacheKey({ workspaceRoot, git }: ReadProjectGraphOptions): Promise<string | undefined> {
  const [state, version] = await Promise.all([git.workTreeState(), installedNx(workspaceRoot).then((nx) => nx?.version)]);
  if (!state?.tree || version === undefined) return undefined;
  // Our own cache folder must not change the key it is stored under (it may not be ignored).
  const changed = state.changed.filter((path) => !/(?:^|\/)\.slipway\//.test(path));
  if (changed.length > MAX_HASHED_CHANGES) return undefined;
  const hash = createHash('sha256').update(JSON.stringify([CACHE_FORMAT, version, resolve(workspaceRoot), state.tree]));
  for (const path of changed) {
    hash.update(`\0${path}\0`);
    try {
      const file = join(state.top, path);
      const stats = await stat(file);
      // A big file (a model, an archive) is no project file: its size and time stand for it.
      hash.update(stats.isFile() && stats.size <= MAX_HASHED_BYTES ? await readFile(file) : `<${stats.size} ${stats.mtimeMs}>`);
    } catch (error) {
      // Deleted, or unreadable: its name and this marker are what there is.
      hash.update(`<${(error as NodeJS.ErrnoException).code ?? 'unreadable'}>`);
    }
  }
  return hash.digest('hex');
}

async function readCache(workspaceRoot: string, key: string): Promise<ProjectGraph | undefined> {
  try {
    const cache = JSON.parse(await readFile(join(workspaceRoot, GRAPH_CACHE), 'utf8')) as { key?: unknown; graph?: ProjectGraph };
    return cache.key === key && isGraph(cache.graph) ? cache.graph : undefined;
  } catch {
    return undefined;
  }
}

function isGraph(value: unknown): value is ProjectGraph {
  const graph = value as ProjectGraph | undefined;
  return typeof graph?.roots === 'object' && graph.roots !== null && typeof graph.dependencies === 'object' && graph.dependencies !== null;
}

/** Best effort: a read-only checkout only loses the speed-up. Atomic, so readers never see half a file. */
async function writeCache(workspaceRoot: string, key: string, graph: ProjectGraph): Promise<void> {
  const file = join(workspaceRoot, GRAPH_CACHE);
  const temp = `${file}.${process.pid}.tmp`;
  try {
    await ensureCacheRoot(workspaceRoot);
    await writeFile(temp, JSON.stringify({ key, graph }));
    await rename(temp, file);
  } catch {
    await rm(temp, { force: true });
  }
}

/** Nx sets these on every task it runs; the root check keeps tests of other workspaces out. */
function insideNxTask(workspaceRoot: string, env: Env): boolean {
  const root = env['NX_WORKSPACE_ROOT'];
  return env['NX_TASK_TARGET_PROJECT'] !== undefined && root !== undefined && resolve(root) === resolve(workspaceRoot);
}

/** The graph the Nx running this task computed and cached before starting it; undefined when there is none. */
function fromNxTask(workspaceRoot: string): ProjectGraph | undefined {
  try {
    const devkit = nxRequire(workspaceRoot)('nx/src/devkit-exports') as { readCachedProjectGraph(): NxGraph };
    return reduce(devkit.readCachedProjectGraph());
  } catch {
    return undefined;
  }
}

async function fromNxGraphCommand(workspaceRoot: string): Promise<ProjectGraph> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-graph-'));
  const file = join(dir, 'graph.json');
  try {
    await runNx(workspaceRoot, ['graph', `--file=${file}`], 'read the Nx project graph');
    const { graph } = JSON.parse(await readFile(file, 'utf8')) as { graph: NxGraph };
    return reduce(graph);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The projects `nx affected` would run for a change from where `head` left `base` to `head`:
 * Nx's own answer, so changes outside any project (nx.json, the lockfile, global inputs) count
 * exactly as they do for `nx affected -t release-check`.
 */
export async function nxAffectedProjects(workspaceRoot: string, base: string, head: string): Promise<Set<string>> {
  const stdout = await runNx(workspaceRoot, ['show', 'projects', '--affected', `--base=${base}`, `--head=${head}`, '--json'], 'ask Nx which projects are affected');
  try {
    return new Set(JSON.parse(stdout) as string[]);
  } catch (cause) {
    throw new ProjectGraphError(`could not read the projects Nx says are affected in ${workspaceRoot}: it printed no JSON list`, { cause });
  }
}

/**
 * Runs the workspace's nx; its stdout, or a ProjectGraphError with the end of its stderr.
 *
 * Nx gets a workspace-data folder of its own for the run: its file hashes there trust file times
 * and, seen with Nx 23.2, miss an edit made within a second of an earlier Nx run — for good, until
 * the file is touched again. Slipway caches the answer by content, so it must start from the files.
 * The price is Nx's plugin caches: about a second more in a workspace with inference plugins.
 */
async function runNx(workspaceRoot: string, args: readonly string[], what: string): Promise<string> {
  // The workspace's own nx, run directly (npx would add a few hundred milliseconds to find it).
  const bin = (await installedNx(workspaceRoot))?.bin;
  if (bin === undefined) {
    throw new ProjectGraphError(
      `could not ${what}: Nx is not installed in ${workspaceRoot} (no "nx" package resolves from there). Install the workspace's dependencies (npm ci), or give every service a "root" in services.json, which needs no Nx.`,
      { exitCode: 2 },
    );
  }
  const data = await mkdtemp(join(tmpdir(), 'slipway-nx-data-'));
  try {
    // Loaded here: most commands never ask Nx, and execa is a large part of a start.
    const { execa } = await import('execa');
    const { stdout } = await execa(process.execPath, [bin, ...args], {
      cwd: workspaceRoot,
      env: { NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', NX_WORKSPACE_DATA_DIRECTORY: data },
      stdin: 'ignore',
    });
    return stdout;
  } catch (cause) {
    const stderr = (cause as { stderr?: string }).stderr ?? '';
    const said = nxMessage(stderr);
    if (said !== undefined) {
      // Nx explained itself (a plugin in nx.json that is not installed, a broken project file):
      // the workspace needs fixing, and running again will not help.
      throw new ProjectGraphError(`could not ${what}: Nx says: ${said}. Fix that in ${workspaceRoot} (\`npx nx graph\` shows it too), then run again.`, { cause, exitCode: 2 });
    }
    const detail = stderr.trim().split('\n').slice(-3).join(' ') || (cause as Error).message;
    throw new ProjectGraphError(
      `could not ${what} in ${workspaceRoot}: nx failed (${detail}). Services with a "root" in services.json need no Nx.`,
      { cause },
    );
  } finally {
    await rm(data, { recursive: true, force: true });
  }
}

/**
 * What Nx told the user, without its internals: Nx marks its own errors with an "NX" banner and
 * follows them with require stacks and stack frames that only its developers can act on. Undefined
 * when Nx printed no such banner (a crash of Node itself, a signal).
 */
export function nxMessage(stderr: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  const lines = stderr.replace(/\u001b\[[0-9;]*m/g, '').split('\n');
  const banner = lines.findIndex((line) => /^\s*NX\s{2,}\S/.test(line));
  if (banner < 0) return undefined;
  const noise = /^\s*(at\s|- \/|Require stack:|Pass --verbose to see the stacktrace|\^|node:internal)/;
  const said = [...lines.slice(0, banner).filter((line) => /\S/.test(line) && !noise.test(line) && !/^\s*\{?\s*$/.test(line)).slice(0, 1), ...lines.slice(banner)]
    .map((line) => line.replace(/^\s*NX\s{2,}/, '').trim())
    .filter((line) => line !== '' && !noise.test(line));
  const text = [...new Set(said)].join(' ').replace(/\s+/g, ' ').trim();
  return text === '' ? undefined : text.length > 600 ? `${text.slice(0, 600)}…` : text;
}

/** A project and every project it depends on, transitively. */
export function projectClosure(graph: ProjectGraph, project: string): string[] {
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const dep of (Object.hasOwn(graph.dependencies, name) ? graph.dependencies[name] : undefined) ?? []) visit(dep);
  };
  visit(project);
  return [...seen];
}

/** Folders whose changes affect a project: its own root and the roots of all it depends on. */
export function affectingRoots(graph: ProjectGraph, project: string): string[] {
  return projectClosure(graph, project)
    .map((name) => (Object.hasOwn(graph.roots, name) ? graph.roots[name] : undefined))
    .filter((root): root is string => root !== undefined);
}
