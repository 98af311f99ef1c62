// Generates a synthetic Nx monorepo for bench/plan.bench.ts: N services (Nx projects with a
// package.json each, depending on one of a few shared libs), T release tags per service, and a tail
// of unreleased commits. Everything goes through one `git fast-import` stream, so 10,000 annotated
// tags and commits take a couple of seconds instead of minutes of `git tag` calls.

import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';

export interface PlanRepoOptions {
  dir: string;
  services: number;
  tagsPerService: number;
  /** Unreleased commits after the last release round. */
  tail: number;
  /** Shared libs; service i depends on lib i % libs. */
  libs: number;
  /**
   * One service released everything early and nothing since: its last tag sits near the root, so
   * the one log plan reads spans the whole history (the worst case for the one-pass design).
   */
  dormant: boolean;
  /**
   * Real-history shapes (issue 17): the first service's abandoned prerelease line — a branch off
   * the middle of the history, never merged, tagged `<svc>/v2.0.0-alpha.N` and also holding the
   * tags main's next versions would take — and, in the tail, feature branches merged with
   * `--no-ff`, some after syncing main into them.
   */
  realHistory?: boolean;
}

export interface PlanRepo {
  dir: string;
  commits: number;
  tags: number;
  serviceNames: string[];
  /** Tags on the abandoned branch (realHistory), none of them reachable from main. */
  abandonedTags: string[];
}

export const serviceName = (i: number) => `svc-${String(i).padStart(3, '0')}`;
const libName = (i: number) => `shared-${String(i).padStart(2, '0')}`;

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** The nx.json `nx release version` needs to plan the same thing slipway plans: independent projects, tags `<project>/vX.Y.Z`, conventional commits. */
export const NX_JSON = {
  release: {
    projects: ['svc-*'],
    projectsRelationship: 'independent',
    releaseTag: { pattern: '{projectName}/v{version}' },
    // conventionalCommits is shorthand for currentVersionResolver "git-tag" + specifierSource "conventional-commits".
    version: { conventionalCommits: true, fallbackCurrentVersionResolver: 'disk' },
    changelog: { workspaceChangelog: false, projectChangelogs: false },
  },
};

export async function generatePlanRepo(options: PlanRepoOptions): Promise<PlanRepo> {
  const { dir, services, tagsPerService, tail, libs, dormant, realHistory = false } = options;
  await execa('git', ['init', '--quiet', '-b', 'main', dir]);
  const names = Array.from({ length: services }, (_, i) => serviceName(i));

  const chunks: string[] = [];
  let time = 1_700_000_000;
  let mark = 0;
  let commits = 0;
  let tags = 0;
  const data = (text: string) => `data ${Buffer.byteLength(text)}\n${text}\n`;
  const commit = (message: string, files: Record<string, string>, branch = 'main', parents: { from?: number; merge?: number } = {}): number => {
    mark += 1;
    commits += 1;
    time += 60;
    const who = `Bench <bench@slipway.invalid> ${time} +0000`;
    chunks.push(`commit refs/heads/${branch}\nmark :${mark}\nauthor ${who}\ncommitter ${who}\n${data(message)}`);
    if (parents.from !== undefined) chunks.push(`from :${parents.from}\n`);
    if (parents.merge !== undefined) chunks.push(`merge :${parents.merge}\n`);
    for (const [path, content] of Object.entries(files)) chunks.push(`M 100644 inline ${path}\n${data(content)}`);
    chunks.push('\n');
    return mark;
  };
  const tag = (name: string, at: number) => {
    tags += 1;
    chunks.push(`tag ${name}\nfrom :${at}\ntagger Bench <bench@slipway.invalid> ${time} +0000\n${data(`release ${name}`)}`);
  };
  const source = (service: string, n: number) => ({ [`apps/${service}/src/index.js`]: `export const change = ${n};\n` });

  const initial: Record<string, string> = {
    'package.json': json({ name: 'bench', version: '0.0.0', private: true, workspaces: ['apps/*', 'libs/*'] }),
    'nx.json': json(NX_JSON),
    '.gitignore': 'node_modules\n.nx\nservices.json\n',
  };
  names.forEach((name, i) => {
    initial[`apps/${name}/package.json`] = json({ name, version: '0.0.0', private: true, dependencies: { [libName(i % libs)]: '*' } });
    Object.assign(initial, source(name, 0));
  });
  for (let l = 0; l < libs; l++) {
    initial[`libs/${libName(l)}/package.json`] = json({ name: libName(l), version: '0.0.0', private: true });
    initial[`libs/${libName(l)}/index.js`] = 'export const shared = 0;\n';
  }
  commit('chore: initial import', initial);

  const version = (round: number) => `1.${Math.floor(round / 10)}.${round % 10}`;
  const release = (name: string, round: number) => {
    const at = commit(`${round % 10 === 0 ? 'feat' : 'fix'}(${name}): change ${round}`, source(name, round + 1));
    tag(`${name}/v${version(round)}`, at);
  };
  const early = dormant ? names.slice(-1) : [];
  for (const name of early) for (let round = 0; round < tagsPerService; round++) release(name, round);
  const active = names.filter((n) => !early.includes(n));
  const abandonedTags: string[] = [];
  for (let round = 0; round < tagsPerService; round++) {
    for (const name of active) release(name, round);
    const mainTip = mark;
    if (realHistory && round === Math.floor(tagsPerService / 2)) {
      // A 2.0 line for the first service that was never merged. It also took the versions main's
      // next patch and minor would have (1.x.(last+1), 1.(x+1).0): plan must step over them.
      const name = active[0] as string;
      const last = version(tagsPerService - 1).split('.').map(Number) as [number, number, number];
      const taken = [`${last[0]}.${last[1]}.${last[2] + 1}`, `${last[0]}.${last[1] + 1}.0`];
      for (let n = 0; n < 20; n++) {
        const at = commit(`feat(${name})!: rewrite ${n}`, { [`apps/${name}/src/next.js`]: `export const next = ${n};\n` }, 'next', n === 0 ? { from: mainTip } : {});
        const alpha = `${name}/v2.0.0-alpha.${n}`;
        tag(alpha, at);
        abandonedTags.push(alpha);
        if (n < taken.length) {
          tag(`${name}/v${taken[n] ?? ''}`, at);
          abandonedTags.push(`${name}/v${taken[n] ?? ''}`);
        }
      }
    }
  }

  let features = 0;
  for (let t = 0; t < tail; t++) {
    if (realHistory && t % 20 === 10) {
      // A feature branch off main, merged back with --no-ff; every other one synced main first.
      const name = active[(t * 11) % active.length] as string;
      const branch = `feature-${features++}`;
      const base = mark;
      const first = commit(`feat(${name}): branch work ${t}`, source(name, 5000 + t), branch, { from: base });
      const other = active[(t * 13) % active.length] as string;
      const onMain = commit(`fix(${other}): meanwhile ${t}`, source(other, 6000 + t), 'main', { from: base });
      if (features % 2 === 0) {
        commit(`Merge branch 'main' into ${branch}`, source(other, 6000 + t), branch, { from: first, merge: onMain });
      }
      const more = source(name, 7000 + t);
      const tip = commit(`fix(${name}): more branch work ${t}`, more, branch);
      commit(`Merge pull request #${t} from acme/${branch}`, more, 'main', { from: onMain, merge: tip });
      continue;
    }
    if (t % 7 === 0) commit(`fix(${libName(t % libs)}): shared change ${t}`, { [`libs/${libName(t % libs)}/index.js`]: `export const shared = ${t};\n` });
    else if (t % 13 === 0) commit(`docs: notes ${t}`, { 'docs/notes.md': `${t}\n` });
    else {
      const name = active[(t * 37) % active.length] as string;
      commit(`${t % 5 === 0 ? 'feat' : 'fix'}(${name}): tail change ${t}`, source(name, 1000 + t));
    }
  }
  chunks.push('done\n');

  await new Promise<void>((resolve, reject) => {
    const child = spawn('git', ['fast-import', '--quiet', '--done'], { cwd: dir, stdio: ['pipe', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`git fast-import exited ${String(code)}`))));
    child.stdin.end(chunks.join(''));
  });
  await execa('git', ['reset', '--quiet', '--hard', 'main'], { cwd: dir });
  return { dir, commits, tags, serviceNames: names, abandonedTags };
}

/**
 * services.json for the repo: with `root` per service (no Nx needed) or with `project` only (roots
 * and dependencies from the Nx graph). `unreleased` adds a service that was never released, over
 * svc-000's folder and its whole history (a service split out or renamed: a new tag namespace).
 */
export async function writeServicesJson(repo: PlanRepo, mode: 'root' | 'nx', { unreleased = false } = {}): Promise<void> {
  const services: Record<string, { root?: string; project?: string }> = Object.fromEntries(
    repo.serviceNames.map((name) => [name, mode === 'root' ? { root: `apps/${name}` } : { project: name }]),
  );
  if (unreleased) services['svc-new'] = { root: `apps/${serviceName(0)}` };
  await writeFile(join(repo.dir, 'services.json'), json({ services }));
}
