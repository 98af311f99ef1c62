/** `apps/api`-style roots without `./` or trailing `/`; `''` stands for the whole repository (`.`). */
export function normalizeRoot(root: string): string {
  const clean = root.replace(/\\/g, '/').replace(/^\.\/+/, '').replace(/\/+$/, '');
  return clean === '.' ? '' : clean;
}

/** A test for repository-relative paths: under one of `roots`? */
export function underRoots(roots: readonly string[]): (file: string) => boolean {
  const clean = roots.map(normalizeRoot);
  return (file) => clean.some((root) => root === '' || file === root || file.startsWith(`${root}/`));
}

/**
 * Which services a set of changed files touches, for many services at once: each file is looked
 * up by its folder prefixes (`apps`, `apps/api`, `apps/api/src`, …) instead of being tested
 * against every root of every service.
 */
export function servicesTouching(roots: ReadonlyMap<string, readonly string[]>): (files: readonly string[]) => Set<string> {
  const byRoot = new Map<string, string[]>();
  const everywhere: string[] = [];
  for (const [service, serviceRoots] of roots) {
    for (const root of serviceRoots.map(normalizeRoot)) {
      if (root === '') everywhere.push(service);
      else byRoot.set(root, [...(byRoot.get(root) ?? []), service]);
    }
  }
  return (files) => {
    const touched = new Set(files.length > 0 ? everywhere : []);
    for (const file of files) {
      for (let at = file.indexOf('/'); at !== -1; at = file.indexOf('/', at + 1)) {
        for (const service of byRoot.get(file.slice(0, at)) ?? []) touched.add(service);
      }
      for (const service of byRoot.get(file) ?? []) touched.add(service);
    }
    return touched;
  };
}
