const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/\s@'"]+@/gi;
const AUTH_HEADER = /\b(authorization:\s*(?:basic|bearer|token)?\s*)[^\s'"]+/gi;
const GITHUB_TOKEN = /\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})\b/g;

/**
 * Removes credentials from text that may reach a message, a log or a cause: userinfo in URLs
 * (https://x-access-token:TOKEN@github.com/...), Authorization headers passed with `-c`,
 * anything shaped like a GitHub token, and every literal secret given.
 */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(URL_USERINFO, '$1***@').replace(AUTH_HEADER, '$1***').replace(GITHUB_TOKEN, '***');
  for (const secret of secrets) {
    // Very short strings would shred ordinary words; they are not credentials anyway.
    if (secret.length >= 6) out = out.split(secret).join('***');
  }
  return out;
}
