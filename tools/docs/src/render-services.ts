// Renders docs/services-json.md by walking the JSON Schema that @slipway/config generates from its
// zod schema (the same document editors complete from), not zod internals.
import { code, document, prose, table } from './markdown.js';

/** The subset of JSON Schema (draft 2020-12) that z.toJSONSchema emits for services.json. */
export interface JsonSchema {
  type?: string;
  description?: string;
  default?: unknown;
  const?: unknown;
  enum?: readonly unknown[];
  pattern?: string;
  minLength?: number;
  minItems?: number;
  minimum?: number;
  maximum?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: readonly string[];
  propertyNames?: JsonSchema;
  additionalProperties?: boolean | JsonSchema;
  oneOf?: readonly JsonSchema[];
  anyOf?: readonly JsonSchema[];
}

// Descriptions the zod schema does not carry (no .describe() there yet). The schema's own
// description always wins; better still, add .describe() in libs/config/src/schema.ts.
const FALLBACK_DESCRIPTIONS: Record<string, string> = {
  $schema: 'Path or URL of the JSON Schema, so editors complete and check the file: `./node_modules/@slipway/config/services.schema.json` (the schema ships in `@slipway/config`).',
  mainBranch: 'The release branch; the remote is always `origin`. Release tags must be reachable from `origin/<mainBranch>`.',
  scheme:
    'How tags map to releases (CONTRACT §2): `per-service` tags `<service>/vX.Y.Z`; `single` tags `vX.Y.Z` for the whole ' +
    'repository; `staging-line` reserves `X.Y.Z-staging.N` and promotes it to `X.Y.Z` without rebuilding.',
  pins: 'Where and how promotions are written: one pin file per service and environment.',
  'pins.format': '`pin` (whole file owned by Slipway), `helm` (edits `image.*` in a values file) or `kustomize` (edits the `images:` entry).',
  changelog: 'Per-version release notes kept in the repository.',
  services: 'The services Slipway releases, by name. At least one.',
  'services.<name>.build': 'How the image is produced; omit for a service whose image is built elsewhere. One of the build types below.',
  'services.<name>.build.type': 'The build type.',
};

// Rules that span fields or refine a value, which JSON Schema cannot say. They live in the zod
// schema (superRefine/refine in libs/config/src/schema.ts) and are restated here by hand; the
// test feeds each `example` to parseConfig and expects exactly one problem at `path`, so a rule
// that stops being enforced fails the build instead of lingering in the docs.
export const CROSS_FIELD_RULES: readonly { rule: string; example: unknown; path: string }[] = [
  {
    rule: '`services` names at least one service.',
    example: { services: {} },
    path: 'services',
  },
  {
    rule:
      '`services.<name>.root`, each of `roots`, `build.context`, `build.dockerfile` and `build.dir` are paths inside the workspace: ' +
      'relative to its root, never absolute, no `..`.',
    example: { services: { api: { build: { type: 'layer', from: 'scratch', dir: '../outside' } } } },
    path: 'services.api.build.dir',
  },
  {
    rule: 'A service gives `root` or `roots`, not both.',
    example: { services: { api: { root: 'services/api', roots: ['services/api', 'pkg'] } } },
    path: 'services.api.roots',
  },
  {
    rule:
      '`services.<name>.tagPrefix` is a path ending in `/` that git accepts in a tag name (tags `<prefix>vX.Y.Z`, e.g. ' +
      '`instrumentation/net/http/otelhttp/v0.70.0`), or for a `kind: "npm"` service an npm package name and `@` ' +
      '(changesets-style tags `@acme/cli@1.2.3`, no `v`).',
    example: { services: { api: { tagPrefix: '@acme/api@' } } },
    path: 'services.api.tagPrefix',
  },
  {
    rule:
      'Every service has its own tag prefix (the default `<name>/` counts), and `tagPrefix` exists only under the ' +
      '`per-service` scheme. The longest matching prefix owns a tag, and nothing may stand between prefix and version, ' +
      'so `a/v1.0.0` is never a tag of a service whose prefix is `a/b/`.',
    example: { services: { a: {}, b: { tagPrefix: 'a/' } } },
    path: 'services.b.tagPrefix',
  },
  {
    rule: '`environments.<name>.after` names another environment of the same file.',
    example: { environments: { production: { after: 'staging' } }, services: { api: {} } },
    path: 'environments.production.after',
  },
  {
    rule: '`environments.<name>.approvals` is at most the number of `approvers` when both are given.',
    example: { environments: { production: { approvals: 2, approvers: ['alice'] } }, services: { api: {} } },
    path: 'environments.production.approvals',
  },
  {
    rule: 'The `after` links form a chain, never a cycle.',
    example: { environments: { a: { after: 'b' }, b: { after: 'a' } }, services: { api: {} } },
    path: 'environments.a.after',
  },
  {
    rule: 'A service with `kind: "npm"` is published with npm: it has no `build`.',
    example: { services: { cli: { kind: 'npm', build: { type: 'docker', context: 'apps/cli' } } } },
    path: 'services.cli.build',
  },
  {
    rule: 'A service with `kind: "npm"` has no `image`.',
    example: { services: { cli: { kind: 'npm', image: 'ghcr.io/acme/cli' } } },
    path: 'services.cli.image',
  },
];

// CONTRACT §1, verbatim. The test parses it (comments stripped) with parseConfig.
export const CONTRACT_EXAMPLE = `{
  "$schema": "./node_modules/@slipway/config/services.schema.json",
  "repository": "acme/platform",        // GitHub owner/name; omit to run without GitHub
  "mainBranch": "main",                 // default "main"; remote is "origin"
  "scheme": "per-service",              // "per-service" | "single" | "staging-line"
  "registry": "ghcr.io/acme",           // default image = <registry>/<service>
  "insecureRegistries": [],             // hosts spoken to over plain http (tests: "127.0.0.1:5000")
  "environments": {                     // promotion chain, in order
    "staging":    {},
    "canary":     { "after": "staging" },
    "production": { "after": "canary", "approvals": 1, "approvers": ["release-manager"] }
  },
  "pins": {
    "repo": ".",                        // path of the GitOps checkout ("." = this repo) or a git URL
    "path": "deploy/{environment}/{service}.yaml",
    "format": "pin"                     // "pin" | "helm" | "kustomize"
  },
  "services": {
    "api":   { "project": "api", "build": { "type": "docker", "context": "apps/api" } },
    "vault": { "project": "vault", "image": "ghcr.io/acme/vault-server" },
    "cli":   { "project": "cli", "kind": "npm" }
  }
}`;

interface Field {
  path: string;
  schema: JsonSchema;
  required: boolean;
}

interface Section {
  title: string;
  intro: string | undefined;
  fields: Field[];
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const json = (value: unknown) => JSON.stringify(value);

const isObject = (s: JsonSchema) => s.type === 'object' && s.properties !== undefined;
const recordValue = (s: JsonSchema): JsonSchema | undefined =>
  s.type === 'object' && s.properties === undefined && typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined;
const variants = (s: JsonSchema): readonly JsonSchema[] => s.oneOf ?? s.anyOf ?? [];
/** The `type` constant of a discriminated variant (`docker`, `layer`, `prebuilt`). */
const discriminant = (s: JsonSchema) => s.properties?.['type']?.const;

function typeOf(s: JsonSchema): string {
  if (variants(s).length > 0) return variants(s).every((v) => v.type === 'object') ? 'object' : variants(s).map(typeOf).join(' or ');
  if (s.type === 'array') return `${s.items ? typeOf(s.items) : 'any'}[]`;
  if (recordValue(s)) return 'object (map)';
  return s.type ?? 'any';
}

function constraintsOf(s: JsonSchema): string[] {
  const out: string[] = [];
  if (s.const !== undefined) out.push(code(json(s.const)));
  if (s.enum) out.push(s.enum.map((v) => code(json(v))).join(', '));
  if (s.pattern) out.push(`matches ${code(s.pattern)}`);
  if (s.minLength === 1) out.push('non-empty');
  else if (s.minLength !== undefined) out.push(`at least ${s.minLength} characters`);
  if (s.minimum !== undefined) out.push(`≥ ${s.minimum}`);
  if (s.maximum !== undefined && s.maximum < MAX_SAFE) out.push(`≤ ${s.maximum}`);
  if (s.minItems !== undefined) out.push(`at least ${s.minItems} item${s.minItems === 1 ? '' : 's'}`);
  if (s.items) {
    const items = constraintsOf(s.items);
    if (items.length > 0) out.push(s.items.enum ? `each of ${items.join(', ')}` : `each ${items.join(', ')}`);
  }
  const value = recordValue(s);
  if (value && s.propertyNames) out.push(`each key ${constraintsOf(s.propertyNames).join(', ')}`);
  const kinds = variants(s).map(discriminant).filter((d) => d !== undefined);
  if (kinds.length > 0) out.push(`${code('type')}: ${kinds.map((k) => code(json(k))).join(', ')}`);
  return out;
}

function walk(schema: JsonSchema, path: string, title: string, intro: string | undefined, sections: Section[]): void {
  const section: Section = { title, intro, fields: [] };
  sections.push(section);
  const required = new Set(schema.required ?? []);
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    const childPath = path ? `${path}.${key}` : key;
    section.fields.push({ path: childPath, schema: child, required: required.has(key) });
    const value = recordValue(child);
    if (isObject(child)) walk(child, childPath, code(childPath), undefined, sections);
    else if (value && isObject(value)) {
      const keys = child.propertyNames ? constraintsOf(child.propertyNames).join(', ') : 'any string';
      walk(value, `${childPath}.<name>`, code(`${childPath}.<name>`), `One entry per name; each name ${keys}.`, sections);
    }
    for (const variant of variants(child)) {
      const kind = discriminant(variant);
      if (kind === undefined || !isObject(variant)) continue;
      walk(variant, childPath, `${code(childPath)} — type ${code(json(kind))}`, undefined, sections);
    }
  }
}

const descriptionOf = (field: Field) =>
  field.schema.description !== undefined ? prose(field.schema.description) : (FALLBACK_DESCRIPTIONS[field.path] ?? '');

function fieldsTable(fields: readonly Field[]): string {
  return table(
    ['Field', 'Type', 'Required', 'Default', 'Allowed values', 'Description'],
    fields.map((f) => [
      code(f.path),
      typeOf(f.schema),
      f.required ? 'yes' : '',
      f.schema.default === undefined ? '' : code(json(f.schema.default)),
      constraintsOf(f.schema).join('; '),
      descriptionOf(f),
    ]),
  );
}

/** The services.json reference (docs/services-json.md), from `servicesJsonSchema()`. */
export function renderServicesReference(jsonSchema: Record<string, unknown>): string {
  const root = jsonSchema as JsonSchema;
  const sections: Section[] = [];
  walk(root, '', 'Top level', undefined, sections);
  const fieldSections = sections.flatMap((s) => [`### ${s.title}`, s.intro, fieldsTable(s.fields)]);
  return document([
    '<!-- Generated by tools/docs/generate.ts from the zod schema in libs/config/src/schema.ts. Do not edit: run `npm run docs`. -->',
    '# `services.json` reference',
    `${prose(root.description ?? '')} ` +
      '`services.json` sits at the workspace root. It is validated when any command starts: unknown keys are errors ' +
      '(a typo must not pass silently), and every error names the JSON path at fault. ' +
      'The JSON Schema `services.schema.json`, shipped in `@slipway/config`, is generated from the same zod schema; point `$schema` at it ' +
      'and editors complete the file.',
    '## Example',
    'From CONTRACT §1 (comments for the reader; the file itself is plain JSON):',
    '```jsonc\n' + CONTRACT_EXAMPLE + '\n```',
    '## Fields',
    'Paths use `<name>` for a key you choose (a service or environment name). ' +
      'A field with a default may be omitted; the build types are told apart by `build.type`.',
    ...fieldSections,
    '## Rules across fields',
    'Checked on every load, beyond what the tables say:',
    CROSS_FIELD_RULES.map((r) => `- ${r.rule}`).join('\n'),
  ]);
}
