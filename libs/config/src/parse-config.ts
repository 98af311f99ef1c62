import type { core } from 'zod/mini';
import { ConfigError } from './errors.js';
import { tooDeep } from './json-depth.js';

const MAX_DEPTH = 32;
import { servicesFileSchema, type ServicesFile } from './schema.js';

/** Formats a zod path the way a person reads JSON: `services.api.build.dir`, `approvers[0]`. */
export function formatJsonPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else {
      const text = String(key);
      out += /^[A-Za-z_$][\w$-]*$/.test(text) ? (out ? `.${text}` : text) : `[${JSON.stringify(text)}]`;
    }
  }
  return out || '(root)';
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

function describeValue(value: unknown): string {
  if (value === undefined) return '';
  const text = JSON.stringify(value);
  return text.length > 60 ? ` (got ${text.slice(0, 57)}...)` : ` (got ${text})`;
}

function problemsOf(error: core.$ZodError, input: unknown): string[] {
  const problems: string[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'invalid_key') {
      // A bad record key: name the key itself, not the value under it.
      const key = issue.path[issue.path.length - 1];
      for (const inner of issue.issues) problems.push(`${formatJsonPath(issue.path)}: ${inner.message}${describeValue(key)}`);
      continue;
    }
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        problems.push(`${formatJsonPath([...issue.path, key])}: unknown key (check the spelling; see the JSON Schema in @slipway/config/services.schema.json)`);
      }
      continue;
    }
    if (issue.code === 'invalid_union' && 'discriminator' in issue) {
      const key = String(issue.discriminator);
      // zod has put the discriminator on the path in some versions and not in others.
      const path = issue.path[issue.path.length - 1] === key ? issue.path : [...issue.path, key];
      problems.push(`${formatJsonPath(path)}: must be one of "docker", "layer", "prebuilt"${describeValue(valueAt(input, path))}`);
      continue;
    }
    const value = valueAt(input, issue.path);
    const message = value === undefined && issue.code === 'invalid_type' ? 'required' : issue.message;
    problems.push(`${formatJsonPath(issue.path)}: ${message}${describeValue(value)}`);
  }
  return problems;
}

function jsonPosition(text: string, error: Error): string {
  const match = /position (\d+)/.exec(error.message);
  if (!match) return '';
  const offset = Number(match[1]);
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return ` at line ${line}, column ${column}`;
}

/**
 * Parses and validates the text of a services.json. Pure: the caller reads the file.
 * Throws a {@link ConfigError} whose message lists every problem with its JSON path.
 */
export function parseConfig(text: string, source = 'services.json'): ServicesFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    // V8's JSON.parse recurses: thousands of levels overflow the stack before any validation.
    if (cause instanceof RangeError) {
      throw new ConfigError(`${source}: invalid configuration: nested too deeply to read (services.json is at most ${MAX_DEPTH} levels deep)`, {
        path: source,
        problems: [`(root): nested deeper than ${MAX_DEPTH} levels`],
      });
    }
    const reason = (cause as Error).message.replace(/ in JSON at position \d+.*$/, '').replace(/^JSON\.parse: /, '');
    throw new ConfigError(`${source}: not valid JSON${jsonPosition(text, cause as Error)}: ${reason}`, {
      code: 'E_CONFIG_JSON',
      path: source,
      cause,
    });
  }
  // services.json is at most six levels deep; a document far deeper is not one.
  const deep = tooDeep(json, MAX_DEPTH);
  if (deep !== undefined) {
    throw new ConfigError(`${source}: invalid configuration: ${deep}: nested deeper than ${MAX_DEPTH} levels`, { path: source, problems: [`${deep}: nested deeper than ${MAX_DEPTH} levels`] });
  }
  const result = servicesFileSchema.safeParse(json);
  if (!result.success) {
    const problems = problemsOf(result.error, json);
    const detail = problems.length === 1 ? ` ${problems[0]}` : `\n  ${problems.join('\n  ')}`;
    throw new ConfigError(`${source}: invalid configuration:${detail}`, { path: source, problems });
  }
  return result.data;
}
