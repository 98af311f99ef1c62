import { ImmutableTagError } from './errors.js';
import type { Registry } from './types.js';

export type TagState = 'absent' | 'same';

/**
 * Before writing `tag`: `absent` (the registry said 404), `same` (already points at `digest`:
 * nothing to do), or ImmutableTagError when it points elsewhere. Any other answer — 401, 403,
 * 5xx — throws: a tag we may not read is not a tag that is free (crane's no-clobber treats 403 as
 * absent, a false-safe).
 */
export async function guardTag(registry: Registry, repository: string, tag: string, digest: string): Promise<TagState> {
  const current = await registry.resolve(repository, tag);
  if (current === undefined) return 'absent';
  if (current.digest === digest) return 'same';
  const host = (registry as { host?: unknown }).host;
  throw new ImmutableTagError({ host: typeof host === 'string' ? host : undefined, repository, tag, existing: current.digest, wanted: digest });
}
