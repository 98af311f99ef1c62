// How much of what a peer or a folder sends is read into memory: one set of bounds for the
// registry client and the OCI layout store, so a hostile registry and a hostile folder cost the
// same. Larger content (layers) is streamed, never held.

/** The spec asks registries to accept manifests of at least 4 MiB; a larger answer is not a manifest. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/**
 * What getBlob reads into memory (config blobs): exactly the descriptor's declared size when the
 * caller knows it (more is an error), and never more than this; larger blobs go through openBlob.
 */
export const MAX_BLOB_IN_MEMORY = 64 * 1024 * 1024;

/** One page of a tag list; an OCI layout's index.json, which is its tag list, gets the same. */
export const MAX_TAG_LIST_BYTES = 64 * 1024 * 1024;

/** Any other answer read into memory (token answers, upload answers) and small layout files (`oci-layout`, locks). */
export const MAX_SMALL_BODY_BYTES = 1024 * 1024;

/** What is read of an error body, for its message; the rest is dropped. */
export const ERROR_BODY_BYTES = 64 * 1024;
