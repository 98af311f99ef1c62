import { isAbsolute, resolve } from 'node:path';
import { OCI_LAYOUT_PREFIX, parseImageRef } from '@slipway/registry';

/**
 * A command a person can paste to pull `image` at `digest` (tagged `tag`). For an OCI layout the
 * path is absolute: podman reads `oci:.slipway/images/api:v1` as a registry reference (the leading
 * `.slipway` looks like a host), and a relative path only works from the workspace root anyway.
 */
export function pullCommand(image: string, tag: string, digest: string, root: string): string | undefined {
  // A `kind: "npm"` service's artifact is a package (`npm:<name>`), not an image: nothing to pull.
  if (image.startsWith('npm:')) return undefined;
  const ref = parseImageRef(image);
  if (ref.registry.startsWith(OCI_LAYOUT_PREFIX)) {
    const dir = ref.registry.slice(OCI_LAYOUT_PREFIX.length);
    return `podman pull ${shellQuote(`oci:${isAbsolute(dir) ? dir : resolve(root, dir)}/${ref.repository}:${tag}`)}`;
  }
  return `podman pull ${shellQuote(`${image}@${digest}`)}`;
}

function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
