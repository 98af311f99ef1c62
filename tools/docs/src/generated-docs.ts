import { servicesJsonSchema } from '@slipway/config';
import { COMMANDS, handlers } from '@slipway/release';
import { renderCliReference } from './render-cli.js';
import { renderServicesReference } from './render-services.js';

export interface GeneratedDoc {
  /** Relative to the workspace root. */
  file: string;
  text: string;
}

/** Both references as the code describes them now; the script writes them, the test compares. */
export function generatedDocs(): GeneratedDoc[] {
  const built = Object.keys(handlers).filter((name) => handlers[name] !== undefined);
  return [
    { file: 'docs/cli.md', text: renderCliReference(COMMANDS, built) },
    { file: 'docs/services-json.md', text: renderServicesReference(servicesJsonSchema()) },
  ];
}
