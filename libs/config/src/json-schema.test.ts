import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { servicesJsonSchemaText } from './index.js';

const committed = new URL('../services.schema.json', import.meta.url);

it('the committed libs/config/services.schema.json matches the zod schema (run `npm run schema` to refresh)', async () => {
  const text = await readFile(committed, 'utf8').catch(() => '(missing)');
  expect(text).toBe(servicesJsonSchemaText());
});

it('the JSON Schema rejects unknown keys and knows every build type', () => {
  const schema = JSON.parse(servicesJsonSchemaText());
  expect(schema.additionalProperties).toBe(false);
  const text = JSON.stringify(schema);
  for (const type of ['docker', 'layer', 'prebuilt']) expect(text).toContain(`"const":"${type}"`);
});
