import { createHash } from 'node:crypto';

const DIGEST_RE = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

/** `sha256:<64 hex>` (or `sha512:<128 hex>`): the only algorithms we verify. */
export function isDigest(value: string): boolean {
  return DIGEST_RE.test(value);
}

/** The digest of `bytes` with the algorithm `like` uses (sha256 by default). */
export function computeDigest(bytes: Uint8Array, like?: string): string {
  const hash = digestHasher(like);
  hash.update(bytes);
  return hash.digest();
}

/** An incremental digest with the algorithm `like` uses, for bytes that arrive in pieces. */
export function digestHasher(like?: string): { update(bytes: Uint8Array): void; digest(): string } {
  const algorithm = like?.startsWith('sha512:') ? 'sha512' : 'sha256';
  const hash = createHash(algorithm);
  return {
    update: (bytes) => void hash.update(bytes),
    digest: () => `${algorithm}:${hash.digest('hex')}`,
  };
}
