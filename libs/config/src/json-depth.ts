/**
 * The JSON path of the first value nested deeper than `max`, or undefined. Iterative: a document
 * nested 10,000 deep must be bad input (exit 2), not "Maximum call stack size exceeded" from the
 * recursive validation that would come next.
 */
export function tooDeep(value: unknown, max: number): string | undefined {
  const stack: { node: unknown; depth: number; path: string }[] = [{ node: value, depth: 0, path: '' }];
  while (stack.length > 0) {
    const { node, depth, path } = stack.pop() as { node: unknown; depth: number; path: string };
    if (node === null || typeof node !== 'object') continue;
    if (depth >= max) return path || '(root)';
    if (Array.isArray(node)) node.forEach((item, i) => stack.push({ node: item, depth: depth + 1, path: `${path}[${i}]` }));
    else for (const [key, item] of Object.entries(node)) stack.push({ node: item, depth: depth + 1, path: path ? `${path}.${key}` : key });
  }
  return undefined;
}

/** `record[key]` when `key` is the record's own property: never `constructor`, `__proto__` or `toString` from the prototype. */
export function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
