// Regenerates libs/config/services.schema.json (shipped in @slipway/config) from the zod schema in @slipway/config.
// Run with `npm run schema`; a test in libs/config fails when the committed file is stale.
import { writeFile } from 'node:fs/promises';
import { servicesJsonSchemaText } from '@slipway/config';

const target = new URL('../../libs/config/services.schema.json', import.meta.url);
await writeFile(target, servicesJsonSchemaText());
process.stderr.write(`wrote ${target.pathname}\n`);
