// The `prebuilt` locator (CONTRACT §1 build.type "prebuilt"): find the image CI already built for
// this commit and promote it by digest, never rebuild. The template must name one immutable
// image: a tag that comes out the same for every commit and version (`latest`, `main`, a fixed
// string) moves over time, so it is refused before anything is looked up.

import { InvalidImageRefError } from '../errors.js';
import { parseImageRef } from '../image-ref.js';
import type { Descriptor, ImageRef, Registry } from '../types.js';
import { PrebuiltNotFoundError, PrebuiltTemplateError } from './errors.js';

export interface PrebuiltTemplateInput {
  /** E.g. `{image}:sha-{sha7}`; placeholders {image}, {sha}, {sha7}, {version}. */
  template: string;
  /** The service's image without tag: `ghcr.io/acme/api`. */
  image: string;
  /** The full 40-hex commit. */
  commit: string;
  version?: string;
}

export interface LocatePrebuiltOptions extends PrebuiltTemplateInput {
  /** The registry `image` lives in; the template must stay on it. */
  registry: Registry;
}

export interface PrebuiltImage {
  /** The expanded reference, e.g. `ghcr.io/acme/api:sha-1a2b3c4`. */
  ref: string;
  /** `ref` parsed. */
  image: ImageRef;
  digest: string;
  descriptor: Descriptor;
}

const PLACEHOLDERS = ['image', 'sha', 'sha7', 'version'];
const FLOATING_TAGS = new Set(['latest', 'main', 'master', 'develop', 'dev', 'staging', 'stable', 'edge', 'nightly', 'canary', 'production', 'prod']);

/** Expand `template` and parse it, refusing templates that cannot name one immutable image. */
export function expandPrebuiltTemplate(input: PrebuiltTemplateInput): { ref: string; image: ImageRef } {
  const { template, commit } = input;
  const refuse = (why: string, cause?: unknown): PrebuiltTemplateError =>
    new PrebuiltTemplateError(`prebuilt template ${JSON.stringify(template)} ${why}`, template, cause);
  if (!/^[0-9a-f]{40}$/.test(commit)) throw refuse(`needs the full 40-hex commit, got ${JSON.stringify(commit)}`);
  const unknown = [...template.matchAll(/\{([^}]*)\}/g)].map((m) => m[1] ?? '').filter((name) => !PLACEHOLDERS.includes(name));
  if (unknown.length > 0) throw refuse(`uses unknown placeholder {${unknown[0]}} (known: {image}, {sha}, {sha7}, {version})`);
  if (template.includes('{version}') && !input.version) throw refuse('uses {version} but no version was given');

  const ref = expand(template, input.image, commit, input.version ?? '');
  let image: ImageRef;
  try {
    image = parseImageRef(ref);
  } catch (cause) {
    if (cause instanceof InvalidImageRefError) throw refuse(`gives ${JSON.stringify(ref)}, which is not an image reference`, cause);
    throw cause;
  }
  const home = parseImageRef(input.image);
  if (image.registry !== home.registry) throw refuse(`gives ${ref}, outside ${home.registry} where ${input.image} lives`);
  if (image.digest === undefined) {
    if (image.tag === undefined) throw refuse(`gives ${ref}, which has no tag (it would mean latest)`);
    if (FLOATING_TAGS.has(image.tag.toLowerCase())) throw refuse(`gives the floating tag ${image.tag}; use one that carries the commit, e.g. {image}:sha-{sha7}`);
    // A tag that comes out the same for another commit and version does not name one build.
    const other = expand(template, input.image, flip(commit), `${input.version ?? ''}-other`);
    let otherTag: string | undefined;
    try {
      otherTag = parseImageRef(other).tag;
    } catch {
      otherTag = undefined;
    }
    if (otherTag === image.tag) throw refuse(`gives the tag ${image.tag} for every commit; put {sha7}, {sha} or {version} in the tag`);
  }
  return { ref, image };
}

/** Find the image CI built for `commit` and return its digest. */
export async function locatePrebuilt(options: LocatePrebuiltOptions): Promise<PrebuiltImage> {
  const { ref, image } = expandPrebuiltTemplate(options);
  const reference = image.digest ?? image.tag;
  const descriptor = reference === undefined ? undefined : await options.registry.resolve(image.repository, reference);
  if (!descriptor) throw new PrebuiltNotFoundError(ref, options.commit);
  return { ref, image, digest: descriptor.digest, descriptor };
}

function expand(template: string, image: string, commit: string, version: string): string {
  return template
    .replaceAll('{image}', image)
    .replaceAll('{sha7}', commit.slice(0, 7))
    .replaceAll('{sha}', commit)
    .replaceAll('{version}', version);
}

function flip(commit: string): string {
  return [...commit].map((c) => (c === '0' ? '1' : '0')).join('');
}
