export interface Challenge {
  /** Lower-cased: `bearer`, `basic`. */
  scheme: string;
  /** Parameter names lower-cased; values unquoted. */
  params: Record<string, string>;
}

/**
 * Parse a `WWW-Authenticate` header (RFC 7235): one or more challenges, each a scheme followed by
 * `name=value` / `name="quoted, value"` parameters. Registries put several scopes in one quoted
 * `scope` value, separated by spaces.
 */
export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  let i = 0;
  const n = header.length;
  const skip = (re: RegExp) => {
    while (i < n && re.test(header[i] as string)) i++;
  };
  while (i < n) {
    skip(/[\s,]/);
    const start = i;
    skip(/[^\s,=]/);
    const token = header.slice(start, i);
    if (token === '') break;
    skip(/[ \t]/);
    if (header[i] === '=') {
      // A parameter of the current challenge.
      i++;
      skip(/[ \t]/);
      let value = '';
      if (header[i] === '"') {
        i++;
        while (i < n && header[i] !== '"') {
          if (header[i] === '\\' && i + 1 < n) i++;
          value += header[i];
          i++;
        }
        i++;
      } else {
        const vs = i;
        skip(/[^\s,]/);
        value = header.slice(vs, i);
      }
      const current = challenges[challenges.length - 1];
      if (current !== undefined) current.params[token.toLowerCase()] = value;
      continue;
    }
    challenges.push({ scheme: token.toLowerCase(), params: {} });
  }
  return challenges;
}
