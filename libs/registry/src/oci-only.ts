// The OCI image layout holds OCI media types only: skopeo ("no descriptor found for reference") and
// umoci read nothing else from index.json. Copies into such a store convert Docker schema 2 images.

const OCI_ONLY = Symbol.for('slipway.registry.ociOnly');

/** Marks a store that holds only OCI media types. */
export function markOciOnly<T extends object>(registry: T): T {
  Object.defineProperty(registry, OCI_ONLY, { value: true });
  return registry;
}

export function holdsOnlyOci(registry: object): boolean {
  return (registry as Record<symbol, unknown>)[OCI_ONLY] === true;
}
