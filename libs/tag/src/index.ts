export { TagError, VersionError, type TagInvalidReason } from './errors.js';
export type { Scheme, TagKind, Artifact, ServiceMap, ClassifyOptions, TagInfo, TagInspection } from './types.js';
export { classifyTag, inspectTag, formatTag, releaseTag, stagingTag, shaTag, MAX_TAG_LENGTH } from './classify-tag.js';
export { refNameProblem, isValidRefName, isValidImageTag, sanitizeImageTag, MAX_IMAGE_TAG_LENGTH } from './ref-name.js';
export {
  parseVersion,
  isPrerelease,
  compareVersions,
  sortVersions,
  latestVersion,
  latestStable,
  nextVersion,
  bumpFromCommits,
  nextStagingVersion,
  type Bump,
  type CommitBump,
} from './version-math.js';
export type { VersionParts } from './version-text.js';
export { sortTags, latestTag, type TagQuery } from './sort-tags.js';
export { imageTags, IMAGE_TAG_EXTRAS, type ImageTagExtra, type ImageTagConfig, type ImageTagEvent, type ImageTagSet } from './image-tags.js';
export { defaultTagPrefix, tagPrefixOf, tagPrefixProblem, prefixTakesV, serviceOfTag } from './tag-prefix.js';
