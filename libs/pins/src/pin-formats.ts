import { readHelmValues, updateHelmValues } from './helm.js';
import { readKustomizeImage, updateKustomizeImage } from './kustomize.js';
import { parsePin, updatePin } from './pin-document.js';
import { versionFromImageTag } from './references.js';
import type { PinFormat, Updater } from './types.js';

/** Everything a promotion writes, whatever the format. */
export interface Promotion {
  service: string;
  environment: string;
  /** Image repository, no tag or digest. */
  image: string;
  digest: string;
  version?: string | undefined;
  /** The release tag (`api/v1.2.3`); recorded by the `pin` format. */
  tag?: string | undefined;
  /** The image tag (`v1.2.3`); written as `image.tag` (helm) or `newTag` (kustomize). */
  imageTag?: string | undefined;
  promotedAt: string | Date;
  promotedBy: string;
  from: string;
}

export interface FormatOptions {
  /** The file, for error messages. */
  path?: string | undefined;
  /** helm: dotted key of the image block. Default `image`. */
  helmKey?: string | undefined;
  /** kustomize: the entry's `name` when manifests use a placeholder. Default: the image. */
  kustomizeName?: string | undefined;
}

/** The updater that writes `promotion` in `format`. */
export function pinUpdater(format: PinFormat, promotion: Promotion, options: FormatOptions = {}): Updater {
  switch (format) {
    case 'pin':
      return updatePin(promotion, { path: options.path });
    case 'helm':
      return updateHelmValues({
        repository: promotion.image,
        tag: promotion.imageTag,
        digest: promotion.digest,
        key: options.helmKey,
        path: options.path,
      });
    case 'kustomize':
      return updateKustomizeImage({
        image: promotion.image,
        name: options.kustomizeName,
        tag: promotion.imageTag,
        digest: promotion.digest,
        path: options.path,
      });
  }
}

/** What a pin file says is deployed. `promotedAt`/`promotedBy`/`from`/`tag` only exist in the `pin` format. */
export interface Pinned {
  image: string | undefined;
  digest: string;
  /** From the pin; for helm/kustomize derived from a semver image tag (`v1.2.3` → `1.2.3`). */
  version: string | undefined;
  /** The release tag (`pin` format). */
  tag: string | undefined;
  /** The image tag (helm `image.tag`, kustomize `newTag`). */
  imageTag: string | undefined;
  promotedAt: string | undefined;
  promotedBy: string | undefined;
  from: string | undefined;
}

/**
 * What is pinned, for `status` and the gates; undefined when the file is missing or pins nothing by
 * digest (a file that names only a tag was not written by Slipway and pins nothing immutable).
 * `image` selects the kustomize entry; pin and helm files belong to one service and report the image
 * they name. Malformed files and digests throw PinDocumentError / DeployRefError (exit 2).
 */
export function readPinned(format: PinFormat, content: string | undefined, image: string, options: FormatOptions = {}): Pinned | undefined {
  if (content === undefined || content.trim() === '') return undefined;
  switch (format) {
    case 'pin': {
      const pin = parsePin(content, { path: options.path });
      return {
        image: pin.image,
        digest: pin.digest,
        version: pin.version,
        tag: pin.tag,
        imageTag: undefined,
        promotedAt: pin.promotedAt,
        promotedBy: pin.promotedBy,
        from: pin.from,
      };
    }
    case 'helm': {
      const found = readHelmValues(content, { key: options.helmKey, path: options.path });
      if (!found?.digest) return undefined;
      return other(found.repository, found.digest, found.tag);
    }
    case 'kustomize': {
      const found = readKustomizeImage(content, { image, name: options.kustomizeName, path: options.path });
      if (!found?.digest) return undefined;
      return other(found.newName ?? found.name, found.digest, found.newTag);
    }
  }
}

function other(image: string | undefined, digest: string, imageTag: string | undefined): Pinned {
  return {
    image,
    digest,
    version: versionFromImageTag(imageTag),
    tag: undefined,
    imageTag,
    promotedAt: undefined,
    promotedBy: undefined,
    from: undefined,
  };
}
