export * from './types.js';
export * from './tar.js';
export * from './gzip.js';
export * from './oci-layout.js';
export * from './push-image.js';
export * from './builders/errors.js';
export * from './builders/image.js';
export * from './builders/layer.js';
export * from './builders/docker.js';
export * from './builders/prebuilt.js';
export {
  RegistryError,
  UnauthorizedError,
  DeniedError,
  NotFoundError,
  RateLimitedError,
  DigestMismatchError,
  ImmutableTagError,
  CredentialsError,
  InvalidImageRefError,
  isNotFound,
  type RegistryErrorCode,
  type RegistryErrorDetails,
  type NotFoundKind,
} from './errors.js';
export { parseImageRef, formatImageRef, DOCKER_HUB, OCI_LAYOUT_PREFIX } from './image-ref.js';
export { computeDigest, isDigest } from './digest.js';
export { registryBlobSource } from './blob-stream.js';
export { chainCredentials, staticCredentials, githubTokenCredentials, type CredentialSource, type RegistryCredentials } from './credentials.js';
export { dockerConfigCredentials, defaultCredentials, type DockerConfigOptions } from './docker-config.js';
export { createRegistryClient, type RegistryClient, type RegistryClientOptions } from './registry-client.js';
export type { UploadMode } from './blob-upload.js';
export type { RequestEvent } from './registry-transport.js';
export type { RetryOptions } from './retry.js';
export { copyImage, copiedDigest, type BlobProgress, type CopyImageOptions, type CopyImageResult, type CopySource, type CopyTarget } from './copy-image.js';
export { guardTag, type TagState } from './guard-tag.js';
