import type { TagInfo } from './types.js';

const SEP = '\x1f';

export const TAG_FORMAT = ['%(refname)', '%(objecttype)', '%(objectname)', '%(*objecttype)', '%(*objectname)', '%(creatordate:unix)'].join(
  '%1f',
);

/**
 * for-each-ref's `*` does not cross `/`, while a literal pattern matches whole path components.
 * So ask git for the prefix's folder (`refs/tags/api/` for `api/v`) and filter the rest here:
 * still one call, whatever the prefixes look like.
 */
export function tagPatterns(prefixes: readonly string[]): string[] {
  if (prefixes.length === 0 || prefixes.includes('')) return ['refs/tags/'];
  const folders = new Set(prefixes.map((p) => `refs/tags/${p.slice(0, p.lastIndexOf('/') + 1)}`));
  return [...folders];
}

export interface RawTag {
  name: string;
  objectType: string;
  object: string;
  peeledType: string;
  peeled: string;
  date: string;
}

export function parseTagLines(stdout: string, prefixes: readonly string[]): RawTag[] {
  const tags: RawTag[] = [];
  for (const line of stdout.split('\n')) {
    if (line === '') continue;
    const [ref = '', objectType = '', object = '', peeledType = '', peeled = '', unix = ''] = line.split(SEP);
    const name = ref.slice('refs/tags/'.length);
    if (prefixes.length > 0 && !prefixes.some((p) => name.startsWith(p))) continue;
    const seconds = Number(unix);
    const date = Number.isFinite(seconds) && unix !== '' ? new Date(seconds * 1000).toISOString() : '';
    tags.push({ name, objectType, object, peeledType, peeled, date });
  }
  return tags;
}

/** Tags naming a commit directly or through one annotated tag; the rest need a deeper peel. */
export function toTagInfo(raw: RawTag): TagInfo | undefined {
  if (raw.objectType === 'commit') return { name: raw.name, object: raw.object, commit: raw.object, annotated: false, date: raw.date };
  if (raw.objectType === 'tag' && raw.peeledType === 'commit') {
    return { name: raw.name, object: raw.object, commit: raw.peeled, annotated: true, date: raw.date };
  }
  return undefined;
}
