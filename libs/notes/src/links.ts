/** Where the repository's web pages live: `repositoryUrl` wins (GitHub Enterprise), else github.com/<repository>. */
export function webBase(options: { repository?: string | undefined; repositoryUrl?: string | undefined }): string | undefined {
  if (options.repositoryUrl) return options.repositoryUrl.replace(/\/+$/, '');
  if (options.repository) return `https://github.com/${options.repository}`;
  return undefined;
}

/**
 * Encodes a ref for a URL path but keeps `/`: GitHub resolves `compare/api/v1.2.2...api/v1.2.3`
 * and `commits/api/v1.2.3` with the slash as typed, and `%2F` would make links unreadable.
 */
export function encodeRef(ref: string): string {
  return ref.split('/').map(encodeURIComponent).join('/');
}

export function compareUrl(base: string, from: string, to: string): string {
  return `${base}/compare/${encodeRef(from)}...${encodeRef(to)}`;
}

export function shortSha(sha: string): string {
  return /^[0-9a-f]{8,}$/i.test(sha) ? sha.slice(0, 7) : sha;
}
