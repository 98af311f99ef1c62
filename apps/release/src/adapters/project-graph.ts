import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

/** The part of the Nx project graph slipway uses: project roots and who depends on whom. */
export interface ProjectGraph {
  roots: Record<string, string>;
  dependencies: Record<string, readonly string[]>;
}

export class ProjectGraphError extends Error {
  override readonly name = 'ProjectGraphError';
  readonly code = 'E_PROJECT_GRAPH';
  readonly exitCode = 1 as const;
}

interface NxGraphFile {
  graph: {
    nodes: Record<string, { data: { root: string } }>;
    dependencies: Record<string, Array<{ target: string }>>;
  };
}

/**
 * Reads the workspace's Nx project graph with `nx graph --file`, the stable public way to get it
 * whatever the Nx version. Only `affected` and services without a `root` need it.
 */
export async function readProjectGraph(workspaceRoot: string): Promise<ProjectGraph> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-graph-'));
  const file = join(dir, 'graph.json');
  try {
    await execa('npx', ['--no-install', 'nx', 'graph', `--file=${file}`], {
      cwd: workspaceRoot,
      env: { NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' },
      stdin: 'ignore',
    });
    const { graph } = JSON.parse(await readFile(file, 'utf8')) as NxGraphFile;
    return {
      roots: Object.fromEntries(Object.entries(graph.nodes).map(([name, node]) => [name, node.data.root])),
      dependencies: Object.fromEntries(Object.entries(graph.dependencies).map(([name, deps]) => [name, deps.map((d) => d.target)])),
    };
  } catch (cause) {
    const detail = (cause as { stderr?: string }).stderr?.trim().split('\n').slice(-3).join(' ') ?? (cause as Error).message;
    throw new ProjectGraphError(
      `could not read the Nx project graph in ${workspaceRoot} (${detail}). Is Nx installed there? Services with a "root" in services.json need no Nx.`,
      { cause },
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A project and every project it depends on, transitively. */
export function projectClosure(graph: ProjectGraph, project: string): string[] {
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const dep of graph.dependencies[name] ?? []) visit(dep);
  };
  visit(project);
  return [...seen];
}

/** Folders whose changes affect a project: its own root and the roots of all it depends on. */
export function affectingRoots(graph: ProjectGraph, project: string): string[] {
  return projectClosure(graph, project)
    .map((name) => graph.roots[name])
    .filter((root): root is string => root !== undefined);
}
