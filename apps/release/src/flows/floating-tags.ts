import { MediaTypes, type Registry } from '@slipway/registry';
import { compareVersions, parseVersion } from '@slipway/tag';
import { OperationalError } from '../errors.js';

export interface FloatingTagsRequest {
  registry: Registry;
  repository: string;
  /** For messages: `ghcr.io/acme/api`. */
  image: string;
  /** What this run published… */
  digest: string;
  /** …as which version (`3.0.1`, `0.4.0-staging.3`); null for tags that follow a branch, not a version. */
  version: string | null;
  /** The floating tags this run may move, as decided from the tags known when it started. */
  floating: readonly string[];
}

/** Passes over the registry before giving up: each pass that writes is followed by one that checks. */
export const FLOATING_PASSES = 5;

/** A registry tag that names a version: `v3.0.1`, `3.0.1`, `1.4.0.1`, `0.4.0-staging.3`. */
function versionOfTag(tag: string): string | undefined {
  const text = tag.startsWith('v') ? tag.slice(1) : tag;
  try {
    parseVersion(text);
    return text;
  } catch {
    return undefined;
  }
}

/**
 * Which versions a floating tag follows: `latest` every stable one, `X.Y` and `X` their line,
 * `staging` every staging build. Undefined for a tag that follows a branch (`main`): those are
 * decided from origin's head, not from versions.
 */
function lineOf(tag: string): ((version: string) => boolean) | undefined {
  const stable = (v: string) => parseVersion(v).prerelease.length === 0;
  if (tag === 'latest') return stable;
  if (tag === 'staging') return (v) => /-staging\.(0|[1-9][0-9]*)$/.test(v);
  const xy = /^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$/.exec(tag);
  if (xy) return (v) => stable(v) && parseVersion(v).core[0] === Number(xy[1]) && parseVersion(v).core[1] === Number(xy[2]);
  const x = /^([1-9][0-9]*)$/.exec(tag);
  if (x) return (v) => stable(v) && parseVersion(v).core[0] === Number(x[1]);
  return undefined;
}

/**
 * Moves floating tags forward only, decided against what the registry holds at write time, not
 * against the tags read when the run started: a slow publish of 3.0.1 that overlaps a fast one
 * of 3.0.2 must not leave `latest` on 3.0.1.
 *
 * Just before each write it lists the repository's tags and points the floating tag at the newest
 * version of its line the registry holds (its immutable tag is pushed before any floating one, so a version
 * listed is complete) — this run's own version, or a newer one another run pushed meanwhile. A
 * pass that wrote is followed by one that re-reads: a concurrent writer whose tag landed after
 * ours is seen there and put right, so the last run to finish leaves every line on its newest.
 * The registry API has no conditional put; this check-write-recheck loop is what stands in for it.
 *
 * Returns the floating tags that now name `digest` (those a newer version took are left out).
 */
export async function moveFloatingTags(request: FloatingTagsRequest): Promise<string[]> {
  const { registry, repository, digest, version, floating } = request;
  if (floating.length === 0) return [];
  const versionsHeld = async () =>
    (await registry.listTags(repository)).flatMap((tag) => {
      const v = versionOfTag(tag);
      return v === undefined ? [] : [{ tag, version: v }];
    });
  for (let pass = 0; pass < FLOATING_PASSES; pass++) {
    let wrote = false;
    const ours: string[] = [];
    for (const tag of floating) {
      const line = lineOf(tag);
      let target = digest;
      if (version !== null && line) {
        // Read just before the write, not once per pass: another run may have pushed a newer version since.
        const newest = (await versionsHeld())
          .filter((h) => line(h.version))
          .reduce<{ tag: string; version: string } | undefined>((best, h) => (compareVersions(h.version, best?.version ?? version) > 0 ? h : best), undefined);
        if (newest) target = (await registry.resolve(repository, newest.tag))?.digest ?? digest;
      }
      if (target === digest) ours.push(tag);
      const current = await registry.resolve(repository, tag);
      if (current?.digest === target) continue;
      const manifest = await registry.getManifest(repository, target);
      await registry.putManifest(repository, tag, { mediaType: manifest.mediaType || MediaTypes.ociManifest, bytes: manifest.bytes });
      wrote = true;
    }
    if (!wrote) return ours;
  }
  throw new OperationalError(
    'E_FLOATING_RACE',
    `${request.image}: floating tags ${floating.join(', ')} kept changing under concurrent publishes after ${String(FLOATING_PASSES)} passes. Re-run; floating tags only move forward.`,
  );
}
