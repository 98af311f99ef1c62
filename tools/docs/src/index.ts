export { generatedDocs, type GeneratedDoc } from './generated-docs.js';
export { renderCliReference, usageLine, GLOBAL_FLAGS, ENVIRONMENT } from './render-cli.js';
export { renderServicesReference, CROSS_FIELD_RULES, CONTRACT_EXAMPLE, type JsonSchema } from './render-services.js';
