import { InvalidImageRefError } from './errors.js';
import { isDigest } from './digest.js';
import type { ImageRef } from './types.js';

export const DOCKER_HUB = 'docker.io';
export const OCI_LAYOUT_PREFIX = 'oci-layout:';

const COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const REPOSITORY_RE = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG_RE = /^[\w][\w.-]{0,127}$/;
// A host, optionally with a port: `ghcr.io`, `127.0.0.1:5000`, `localhost`, `[::1]:5000`.
const HOST_RE = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$/;

/**
 * Parse `ghcr.io/acme/api:v1.2.3`, `127.0.0.1:5000/api@sha256:…`, `nginx` (→ docker.io/library/nginx)
 * or `oci-layout:<dir>/<repository>[:tag|@digest]` (→ registry `oci-layout:<dir>`: the layout store
 * keeps one image layout per repository under `<dir>`, so `skopeo … oci:<dir>/<repository>:<tag>`
 * names the same image). A reference without tag or digest has neither: callers decide, nothing
 * defaults to `latest`.
 */
export function parseImageRef(input: string): ImageRef {
  const ref = input.trim();
  if (ref === '') throw new InvalidImageRefError(input, 'empty');
  if (ref.startsWith(OCI_LAYOUT_PREFIX)) return parseLayoutRef(input, ref.slice(OCI_LAYOUT_PREFIX.length));

  const { name, tag, digest } = splitReference(input, ref);
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  let registry: string;
  let repository: string;
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('['))) {
    registry = first;
    repository = name.slice(slash + 1);
    if (!HOST_RE.test(registry)) throw new InvalidImageRefError(input, `${JSON.stringify(registry)} is not a registry host`);
  } else {
    registry = DOCKER_HUB;
    repository = name;
  }
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  checkRepository(input, repository);
  return { registry, repository, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}

/** The inverse of parseImageRef: `host/repository[:tag][@digest]`. */
export function formatImageRef(ref: ImageRef): string {
  const base = `${ref.registry}/${ref.repository}`;
  return `${base}${ref.tag === undefined ? '' : `:${ref.tag}`}${ref.digest === undefined ? '' : `@${ref.digest}`}`;
}

function parseLayoutRef(input: string, rest: string): ImageRef {
  const { name, tag, digest } = splitReference(input, rest);
  const slash = name.lastIndexOf('/');
  if (slash <= 0 || slash === name.length - 1) {
    throw new InvalidImageRefError(input, 'an oci-layout reference is oci-layout:<dir>/<repository>[:tag|@digest]');
  }
  const repository = name.slice(slash + 1);
  checkRepository(input, repository);
  return {
    registry: `${OCI_LAYOUT_PREFIX}${name.slice(0, slash)}`,
    repository,
    ...(tag === undefined ? {} : { tag }),
    ...(digest === undefined ? {} : { digest }),
  };
}

function splitReference(input: string, ref: string): { name: string; tag?: string; digest?: string } {
  let name = ref;
  let digest: string | undefined;
  let tag: string | undefined;
  const at = name.indexOf('@');
  if (at >= 0) {
    digest = name.slice(at + 1);
    name = name.slice(0, at);
    if (!isDigest(digest)) throw new InvalidImageRefError(input, `${JSON.stringify(digest)} is not a sha256 digest`);
  }
  // A tag is a `:` after the last `/`; one before it is a registry port.
  const colon = name.lastIndexOf(':');
  if (colon > name.lastIndexOf('/')) {
    tag = name.slice(colon + 1);
    name = name.slice(0, colon);
    if (!TAG_RE.test(tag)) throw new InvalidImageRefError(input, `${JSON.stringify(tag)} is not a valid tag`);
  }
  if (name === '') throw new InvalidImageRefError(input, 'no repository');
  return { name, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}

function checkRepository(input: string, repository: string): void {
  if (!REPOSITORY_RE.test(repository)) {
    throw new InvalidImageRefError(input, `${JSON.stringify(repository)} is not a valid repository name (lowercase letters, digits, separators . _ __ -, components joined by /)`);
  }
}
