import { shortSha } from './links.js';
import { parseCommit } from './parse-commit.js';
import type { CommitInput, ParsedCommit } from './parse-commit.js';

export interface BlastCommitInput extends CommitInput {
  /** Paths changed by the commit, relative to the repository root (`git log --name-only`). */
  files: readonly string[];
}

export interface BlastServiceInput {
  name: string;
  /** The service's project root plus the roots of every Nx project it depends on (the caller resolves the graph). */
  roots: readonly string[];
}

export interface BlastRadiusInput {
  /** The deployed release tag, or null when nothing is deployed yet. */
  deployed: string | null;
  /** The commit about to be released. */
  target: string;
  /** Every commit in `deployed..target`, newest first. */
  commits: readonly BlastCommitInput[];
  services: readonly BlastServiceInput[];
}

export interface BlastCommit extends ParsedCommit {
  files: string[];
  /** Names of the services this commit touches, in service input order. */
  services: string[];
}

export interface ServiceImpact {
  name: string;
  /** SHAs of the commits touching the service, in commit input order. */
  commits: string[];
  breaking: number;
  features: number;
  fixes: number;
  other: number;
}

export interface BlastRadius {
  deployed: string | null;
  target: string;
  commits: BlastCommit[];
  /** One entry per input service, in input order, touched or not. */
  services: ServiceImpact[];
  /** SHAs of commits that touch no listed service (CI files, docs at the root…). */
  unattributed: string[];
}

function normaliseRoot(root: string): string {
  const clean = root.replace(/\\/g, '/').replace(/^\.\/+/, '').replace(/\/+$/, '');
  return clean === '.' ? '' : clean;
}

function isUnder(file: string, root: string): boolean {
  return root === '' || file === root || file.startsWith(`${root}/`);
}

/**
 * Everything between the deployed version and the commit to be released, attributed to services:
 * a commit touches a service when any of its files is under any of the service's roots.
 */
export function blastRadius(input: BlastRadiusInput): BlastRadius {
  const services = input.services.map((service) => ({ name: service.name, roots: service.roots.map(normaliseRoot) }));
  const impacts: ServiceImpact[] = services.map((s) => ({ name: s.name, commits: [], breaking: 0, features: 0, fixes: 0, other: 0 }));
  const commits: BlastCommit[] = [];
  const unattributed: string[] = [];

  for (const raw of input.commits) {
    const files = raw.files.map((file) => file.replace(/\\/g, '/').replace(/^\.\/+/, ''));
    const parsed = parseCommit(raw);
    const touched: string[] = [];
    services.forEach((service, index) => {
      if (!files.some((file) => service.roots.some((root) => isUnder(file, root)))) return;
      touched.push(service.name);
      const impact = impacts[index];
      if (!impact) return;
      impact.commits.push(raw.sha);
      impact[parsed.group === 'features' ? 'features' : parsed.group === 'fixes' ? 'fixes' : parsed.group] += 1;
    });
    if (touched.length === 0) unattributed.push(raw.sha);
    commits.push({ ...parsed, files, services: touched });
  }
  return { deployed: input.deployed, target: input.target, commits, services: impacts, unattributed };
}

const COLUMNS = ['service', 'commits', 'breaking', 'features', 'fixes'] as const;

/**
 * A table a person can read at a glance, in a terminal or rendered on GitHub:
 * a one-line summary of the range, one row per service, then the breaking commits spelled out.
 * `markdown` (default) is an aligned pipe table; `plain` is space-aligned columns.
 */
export function renderBlastRadiusTable(result: BlastRadius, options: { format?: 'markdown' | 'plain' } = {}): string {
  const format = options.format ?? 'markdown';
  const touchedCount = result.services.filter((s) => s.commits.length > 0).length;
  const range = `${result.deployed ?? '(nothing deployed)'}..${shortSha(result.target)}`;
  const out = [
    `Blast radius ${range}: ${plural(result.commits.length, 'commit')}, ${touchedCount} of ${plural(result.services.length, 'service')} touched`,
    '',
  ];

  const rows = result.services.map((s) => [s.name, String(s.commits.length), String(s.breaking), String(s.features), String(s.fixes)]);
  const widths = COLUMNS.map((title, col) => Math.max(title.length, ...rows.map((row) => (row[col] ?? '').length)));
  // Service names read left-aligned, counts right-aligned so digits line up.
  const cell = (text: string, col: number): string => {
    const width = widths[col] ?? 0;
    return col === 0 ? text.padEnd(width) : text.padStart(width);
  };

  if (format === 'markdown') {
    const line = (cells: readonly string[]): string => `| ${cells.map(cell).join(' | ')} |`;
    out.push(line(COLUMNS));
    out.push(`| ${widths.map((w, col) => (col === 0 ? `:${'-'.repeat(w - 1)}` : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`);
    for (const row of rows) out.push(line(row));
  } else {
    const line = (cells: readonly string[]): string => cells.map(cell).join('  ').trimEnd();
    out.push(line(COLUMNS.map((c) => c.toUpperCase())));
    for (const row of rows) out.push(line(row));
  }

  const breaking = result.commits.filter((c) => c.breaking);
  if (breaking.length > 0) {
    out.push('', 'Breaking changes:');
    for (const c of breaking) {
      const where = c.services.length > 0 ? c.services.join(', ') : 'no service';
      out.push(`- ${shortSha(c.sha)} ${c.header} (${where})`);
    }
  }
  if (result.unattributed.length > 0) {
    const n = result.unattributed.length;
    out.push('', `${plural(n, 'commit')} ${n === 1 ? 'touches' : 'touch'} no service.`);
  }
  return `${out.join('\n')}\n`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
