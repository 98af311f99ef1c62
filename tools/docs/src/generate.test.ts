import { readdirSync, readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { ConfigError, parseConfig, servicesJsonSchema } from '@slipway/config';
import { COMMANDS, run, type CommandDef } from '@slipway/release';
import { describe, expect, it } from 'vitest';
import { CONTRACT_EXAMPLE, CROSS_FIELD_RULES, ENVIRONMENT, generatedDocs, GLOBAL_FLAGS, renderCliReference, renderServicesReference } from './index.js';
import { table } from './markdown.js';

const workspaceRoot = new URL('../../../', import.meta.url);
const committed = (file: string) => readFileSync(new URL(file, workspaceRoot), 'utf8');

async function help(argv: string[]): Promise<string> {
  const stdout = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (c: Buffer) => chunks.push(c));
  const exitCode = await run(argv, { stdout, stderr: new PassThrough(), env: { NO_COLOR: '1' }, cwd: process.cwd() });
  expect(exitCode).toBe(0);
  return Buffer.concat(chunks).toString('utf8');
}

describe('committed references', () => {
  it.each(generatedDocs().map((doc) => [doc.file, doc.text]))('%s matches the code', (file, text) => {
    expect(committed(file), `${file} is stale: run \`npm run docs\` and commit the result`).toBe(text);
  });

  it('docs/cli.md documents every command with its usage', () => {
    const doc = committed('docs/cli.md');
    for (const def of COMMANDS) {
      expect(doc, `${def.name} missing: run \`npm run docs\``).toContain(`### slipway ${def.name}\n`);
      expect(doc).toContain(['slipway', def.name, ...def.args].join(' '));
    }
  });

  it('docs/cli.md documents every environment variable the sources read', () => {
    // Set by the system, by Nx, for git or Node themselves (slipway only reads them), or a test hook.
    const notUsers = ['NODE_OPTIONS', 'PATH', 'HOME', 'USER', 'USERNAME', 'LOGNAME', 'TERM', 'XDG_RUNTIME_DIR', 'NX_TASK_TARGET_PROJECT', 'NX_TASK_TARGET_TARGET', 'NX_WORKSPACE_ROOT', 'GIT_SSH', 'GIT_SSH_COMMAND', 'GIT_HTTP_LOW_SPEED_LIMIT', 'GIT_HTTP_LOW_SPEED_TIME', 'SLIPWAY_TEST_CRASH_AFTER'];
    const documented = new Set(ENVIRONMENT.flatMap(([names]) => names.split(', ')));
    const read = new Set<string>();
    const roots = ['apps/release/src', ...readdirSync(new URL('libs', workspaceRoot)).map((lib) => `libs/${lib}/src`)];
    for (const root of roots) {
      for (const file of readdirSync(new URL(root, workspaceRoot), { recursive: true, encoding: 'utf8' })) {
        if (!file.endsWith('.ts') || file.endsWith('.test.ts')) continue;
        const text = committed(`${root}/${file}`);
        for (const m of text.matchAll(/env\[['"]([A-Z][A-Z0-9_]+)['"]\]|['"](SLIPWAY_[A-Z0-9_]+)['"]/g)) read.add(m[1] ?? m[2] ?? '');
      }
    }
    expect(read.size).toBeGreaterThan(10);
    const undocumented = [...read].filter((name) => !documented.has(name) && !notUsers.includes(name)).sort();
    expect(undocumented, 'add them to ENVIRONMENT in tools/docs/src/render-cli.ts and run `npm run docs`').toEqual([]);
    const doc = committed('docs/cli.md');
    for (const name of documented) expect(doc).toContain(`\`${name}\``);
  });

  it('docs/services-json.md documents every top-level key of the schema', () => {
    const doc = committed('docs/services-json.md');
    const keys = Object.keys((servicesJsonSchema() as { properties: Record<string, unknown> }).properties);
    expect(keys).toContain('services');
    for (const key of keys) expect(doc, `${key} missing: run \`npm run docs\``).toMatch(new RegExp(`^\\| \`${key.replace('$', '\\$')}\` +\\|`, 'm'));
  });
});

describe('renderCliReference', () => {
  const defs: CommandDef[] = [
    {
      name: 'release',
      args: ['<service>'],
      summary: 'tag origin/<main> HEAD',
      options: [
        { flags: '--version <X.Y.Z>', description: 'exact version', conflicts: ['bump'] },
        { flags: '--bump <kind>', description: 'bump', choices: ['major', 'minor'], conflicts: ['version'] },
      ],
      writes: true,
    },
    { name: 'check', args: ['[service...]'], summary: 'readiness', options: [{ flags: '--bump <kind>', description: 'bump', conflicts: ['version'] }], writes: false },
  ];

  it('marks the commands without a handler, and only those', () => {
    const doc = renderCliReference(defs, ['release']);
    expect(doc).toContain('| readiness *(not built yet)* |');
    expect(doc).toMatch(/### slipway check[\s\S]*\*\*Not built yet:\*\*/);
    expect(doc).not.toMatch(/### slipway release\n[\s\S]*\*\*Not built yet:\*\*[\s\S]*### slipway check/);
    const allBuilt = renderCliReference(defs, ['release', 'check']);
    expect(allBuilt).not.toContain('*(not built yet)*');
    expect(allBuilt).not.toContain('**Not built yet:**');
  });

  it('renders usage, choices, conflicts and --dry-run for writing commands only', () => {
    const doc = renderCliReference(defs, ['release', 'check']);
    expect(doc).toContain('```\nslipway release <service> [options]\n```');
    expect(doc).toMatch(/\| `--bump <kind>` +\| bump +\| `major`, `minor` \| `--version` +\|/);
    const [release, check] = doc.split('### slipway check');
    expect(release).toContain('`--dry-run`');
    expect(check).not.toContain('| `--dry-run`');
    // check has no --version, so --bump conflicts with nothing there.
    expect(check).toMatch(/\| `--bump <kind>` \| bump +\| +\| +\|/);
    // "<main>" must not be read as an HTML tag.
    expect(doc).toContain('tag origin/\\<main> HEAD');
  });

  it('lists the global flags the real CLI takes', async () => {
    for (const argv of [['--help'], ['plan', '--help'], ['image', 'copy', '--help']]) {
      const text = await help(argv);
      for (const flag of GLOBAL_FLAGS) expect(text, argv.join(' ')).toContain(flag.flags);
    }
    expect(await help(['release', '--help'])).toContain('--dry-run');
    expect(await help(['status', '--help'])).not.toContain('--dry-run');
  });
});

describe('renderServicesReference', () => {
  const doc = renderServicesReference(servicesJsonSchema());

  it('gives every field its JSON path, type, requiredness, default and allowed values', () => {
    expect(doc).toMatch(/^\| `services\.<name>\.build\.dir` +\| string +\| yes +\| +\| non-empty +\| Folder appended/m);
    expect(doc).toMatch(/^\| `scheme` +\| string +\| +\| `"per-service"` +\| `"per-service"`, `"single"`, `"staging-line"` +\|/m);
    expect(doc).toMatch(/^\| `environments\.<name>\.approvals` +\| integer +\| +\| +\| ≥ 0 +\|/m);
    expect(doc).toMatch(/^\| `services\.<name>\.imageTags` +\| string\[\] +\|/m);
  });

  it('has one section per build type', () => {
    for (const type of ['docker', 'layer', 'prebuilt']) expect(doc).toContain(`### \`services.<name>.build\` — type \`"${type}"\``);
  });

  it('walks nested objects, maps and discriminated unions of any schema', () => {
    const text = renderServicesReference({
      type: 'object',
      properties: {
        things: {
          type: 'object',
          propertyNames: { type: 'string', pattern: '^[a-z]+$' },
          additionalProperties: {
            type: 'object',
            properties: {
              shape: {
                oneOf: [
                  { type: 'object', properties: { type: { type: 'string', const: 'round' }, radius: { type: 'number', minimum: 1 } }, required: ['type'] },
                  { type: 'object', properties: { type: { type: 'string', const: 'square' } }, required: ['type'] },
                ],
              },
            },
          },
        },
      },
      required: ['things'],
    });
    expect(text).toMatch(/^\| `things` +\| object \(map\) \| yes +\|/m);
    expect(text).toContain('### `things.<name>`\n\nOne entry per name; each name matches `^[a-z]+$`.');
    expect(text).toContain('### `things.<name>.shape` — type `"square"`');
    expect(text).toMatch(/^\| `things\.<name>\.shape\.radius` \| number +\| +\| +\| ≥ 1 +\|/m);
  });

  it('includes the CONTRACT §1 example, which is a valid services.json', () => {
    expect(doc).toContain(CONTRACT_EXAMPLE);
    const plain = CONTRACT_EXAMPLE.replace(/\s+\/\/ .*$/gm, '');
    const config = parseConfig(plain);
    expect(Object.keys(config.services)).toEqual(['api', 'vault', 'cli']);
  });

  it.each(CROSS_FIELD_RULES.map((r) => [r.path, r]))('the rule reported at %s is enforced by the schema', (path, rule) => {
    expect(doc).toContain(`- ${rule.rule}`);
    let error: unknown;
    try {
      parseConfig(JSON.stringify(rule.example));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([expect.stringMatching(new RegExp(`^${path.replace(/[.$]/g, '\\$&')}: `))]);
  });
});

describe('table', () => {
  it('pads columns and escapes pipes', () => {
    expect(table(['a', 'bb'], [['x|y', '']])).toBe('| a    | bb  |\n| ---- | --- |\n| x\\|y |     |');
  });
});
