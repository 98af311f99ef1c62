/** Credentials for one registry host. */
export interface RegistryCredentials {
  username: string;
  password: string;
  /**
   * Usable only at the registry's token endpoint (Basic to the realm), never sent to `/v2/`:
   * GHCR answers a raw GitHub token on `/v2/` with 403.
   */
  tokenOnly?: boolean;
}

/** Looks up credentials for a registry host (`ghcr.io`, `127.0.0.1:5000`); undefined = anonymous. */
export type CredentialSource = (host: string) => Promise<RegistryCredentials | undefined>;

/** The first source that has credentials for the host wins. */
export function chainCredentials(...sources: CredentialSource[]): CredentialSource {
  return async (host) => {
    for (const source of sources) {
      const found = await source(host);
      if (found !== undefined) return found;
    }
    return undefined;
  };
}

/** Fixed credentials for one host (tests, `--username/--password` style flags). */
export function staticCredentials(host: string, credentials: RegistryCredentials): CredentialSource {
  return async (asked) => (asked === host ? credentials : undefined);
}

/**
 * `GHCR_TOKEN`, else `GITHUB_TOKEN`, for ghcr.io only, and only through the token exchange.
 * The username is `GITHUB_ACTOR` when set; GHCR ignores it for token logins.
 */
export function githubTokenCredentials(env: Record<string, string | undefined>): CredentialSource {
  return async (host) => {
    if (host !== 'ghcr.io') return undefined;
    const token = env['GHCR_TOKEN'] || env['GITHUB_TOKEN'];
    if (!token) return undefined;
    return { username: env['GITHUB_ACTOR'] || 'slipway', password: token, tokenOnly: true };
  };
}
