import { classifyTag } from './classify-tag.js';
import { TagError } from './errors.js';
import type { ClassifyOptions, TagInfo } from './types.js';
import { compareParts, parseVersion } from './version-math.js';

export type TagQuery = ClassifyOptions & {
  /** per-service: keep only this service's tags (`api/…`, never `api-gateway/…`). */
  readonly service?: string | undefined;
};

/**
 * The version tags among `tags`, ascending by parsed version — never by text, so `api/v1.10.0`
 * sorts above `api/v1.9.0` and the `<service>/` prefix plays no part (nx release #31740).
 * A repository holds other tags too: tags that do not classify under the scheme, checkpoints and
 * `sha-` tags are left out, and so are other services' tags when `service` is given.
 * Tags of equal precedence (`v1.4` and `v1.4.0`) are ordered by their text.
 */
export function sortTags(tags: readonly string[], query: TagQuery): TagInfo[] {
  const found: Array<{ info: TagInfo; parts: ReturnType<typeof parseVersion> }> = [];
  for (const tag of tags) {
    let info: TagInfo;
    try {
      info = classifyTag(tag, query);
    } catch (error) {
      if (error instanceof TagError) continue;
      throw error;
    }
    if (info.version === null) continue;
    if (query.service !== undefined && info.service !== query.service) continue;
    found.push({ info, parts: parseVersion(info.version) });
  }
  found.sort((a, b) => compareParts(a.parts, b.parts) || (a.info.tag < b.info.tag ? -1 : a.info.tag > b.info.tag ? 1 : 0));
  return found.map((f) => f.info);
}

/**
 * The highest version tag (see {@link sortTags}); prereleases — including staging tags — only
 * with `includePrerelease`. `null` when there is none.
 */
export function latestTag(tags: readonly string[], query: TagQuery & { readonly includePrerelease?: boolean }): TagInfo | null {
  const sorted = sortTags(tags, query).filter((info) => query.includePrerelease === true || !info.prerelease);
  return sorted.at(-1) ?? null;
}
