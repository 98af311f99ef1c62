import * as z from 'zod/mini';
import { servicesFileSchema } from './schema.js';

/** The JSON Schema for services.json, generated from the zod schema (editors complete from it). */
export function servicesJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(servicesFileSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    ...schema,
    $id: 'https://slipway.dev/schemas/services.schema.json',
    title: 'Slipway services.json',
    description: 'Per-service release configuration for Slipway (CONTRACT §1).',
  };
}

/** The committed file's exact text: stable key order, two-space indent, trailing newline. */
export function servicesJsonSchemaText(): string {
  return `${JSON.stringify(servicesJsonSchema(), null, 2)}\n`;
}
