export { ConfigError } from './errors.js';
export { parseConfig, formatJsonPath } from './parse-config.js';
export { loadConfig, findWorkspaceRoot, CONFIG_FILE, type LoadedConfig } from './load-config.js';
export { own, tooDeep } from './json-depth.js';
export { getService, serviceNames, environmentOrder, pinPath, type ResolvedService } from './services.js';
export { servicesJsonSchema, servicesJsonSchemaText } from './json-schema.js';
export {
  servicesFileSchema,
  SERVICE_NAME,
  IMAGE_TAG_EXTRAS,
  tagPrefixIssue,
  durationMs,
  type ServicesFile,
  type ServicesFileInput,
  type ServiceConfig,
  type EnvironmentConfig,
  type BuildConfig,
  type Scheme,
} from './schema.js';
