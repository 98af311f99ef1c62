export type { PinFormat, Updater } from './types.js';
export {
  DeployRefError,
  GateError,
  PinDocumentError,
  PromotionInputError,
  UnknownEnvironmentError,
} from './errors.js';
export type { DeployRefErrorCode } from './errors.js';
export {
  FLOATING_TAGS,
  assertDigest,
  assertImageRepository,
  assertImageTag,
  assertReleaseTag,
  assertVersion,
  isDigest,
  isFloatingTag,
  versionFromImageTag,
} from './references.js';
export { PIN_FIELDS, formatTimestamp, parsePin, renderPin, updatePin, validatePin } from './pin-document.js';
export type { Pin, PinInput } from './pin-document.js';
export { readHelmValues, updateHelmValues } from './helm.js';
export type { HelmImage, HelmPinned } from './helm.js';
export { readKustomizeImage, updateKustomizeImage } from './kustomize.js';
export type { KustomizeImage, KustomizePinned } from './kustomize.js';
export { pinUpdater, readPinned } from './pin-formats.js';
export type { FormatOptions, Pinned, Promotion } from './pin-formats.js';
export { assertPromotion, evaluatePromotion } from './gates.js';
export type { EnvironmentGate, GateDecision, PromotionRequest } from './gates.js';
export {
  TRAILER_KEYS,
  parseTrailers,
  promotionCommitMessage,
  promotionSubject,
  promotionTrailers,
} from './trailers.js';
export type { PromotionTrailers } from './trailers.js';
