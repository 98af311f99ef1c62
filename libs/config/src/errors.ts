/** services.json is missing, unreadable or invalid. Always bad input: exit 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code: string;
  readonly exitCode = 2 as const;
  /** The file at fault, when there is one. */
  readonly path: string | undefined;
  /** One line per problem, each naming the JSON path: `services.API: service names are …`. */
  readonly problems: readonly string[];

  constructor(message: string, options: { code?: string; path?: string; problems?: readonly string[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? 'E_CONFIG_INVALID';
    this.path = options.path;
    this.problems = options.problems ?? [message];
  }
}
