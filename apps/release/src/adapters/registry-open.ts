import { isAbsolute, resolve } from 'node:path';
import {
  OCI_LAYOUT_PREFIX,
  createRegistryClient,
  defaultCredentials,
  isNotFound,
  openOciLayout,
  parseImageRef,
  type CredentialSource,
  type ImageRef,
  type Registry,
} from '@slipway/registry';
import type { Env } from '../context.js';

/**
 * Registries by image reference, one per host: `oci-layout:<dir>` opens the on-disk store
 * (relative to `root`), anything else the OCI distribution client, all sharing one credential
 * source (the Docker config, credential helpers, and GITHUB_TOKEN/GHCR_TOKEN for ghcr.io,
 * exchanged for a registry token, never sent raw).
 *
 * workspace.ts imports this module dynamically, and nothing on the path of a command that needs
 * no registry imports `@slipway/registry` statically: the bundle places every module a static
 * import of the library's index reaches in that command's chunks, used or not. So the client, its
 * transport and the layout store load only when a command opens a registry
 * (apps/release/src/start-path.test.ts checks the chunk graph).
 */
/** For modules that load this one lazily and need to tell a registry's "not found" from other failures. */
export { isNotFound };

export function openRegistries(options: { root: string; insecureRegistries: readonly string[]; env: Env }): (image: string) => { registry: Registry; ref: ImageRef } {
  const registries = new Map<string, Registry>();
  let credentials: CredentialSource | undefined;
  const open = (host: string): Registry => {
    if (host.startsWith(OCI_LAYOUT_PREFIX)) {
      const dir = host.slice(OCI_LAYOUT_PREFIX.length);
      return openOciLayout(isAbsolute(dir) ? dir : resolve(options.root, dir));
    }
    credentials ??= defaultCredentials({ env: options.env });
    return createRegistryClient({ host, insecure: options.insecureRegistries.includes(host), insecureHosts: options.insecureRegistries, credentials });
  };
  return (image) => {
    const ref = parseImageRef(image);
    let registry = registries.get(ref.registry);
    if (!registry) registries.set(ref.registry, (registry = open(ref.registry)));
    return { registry, ref };
  };
}
