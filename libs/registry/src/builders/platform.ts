import type { Platform } from '../types.js';
import { BuildError } from './errors.js';

const PART = /^[a-z0-9][a-z0-9._-]*$/;

/** `linux/arm64/v8` → `{ os: 'linux', architecture: 'arm64', variant: 'v8' }`; anything else is bad input. */
export function parsePlatform(text: string): Platform {
  const parts = text.split('/');
  if (parts.length < 2 || parts.length > 3 || !parts.every((p) => PART.test(p))) {
    throw new BuildError('layer', 'E_BUILD_INPUT', `platform "${text}" is not os/architecture[/variant], e.g. "linux/amd64" or "linux/arm/v7"`);
  }
  const [os, architecture, variant] = parts as [string, string, string | undefined];
  return { architecture, os, ...(variant === undefined ? {} : { variant }) };
}

/** `linux/arm64/v8`, `linux/amd64`. */
export function formatPlatform(p: Platform | undefined): string {
  if (!p) return 'unknown';
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

// arm64 images are v8 unless they say otherwise (containerd's normalization): a base listing
// linux/arm64 and one listing linux/arm64/v8 offer the same thing.
function variantOf(p: Platform): string | undefined {
  return p.architecture === 'arm64' && p.variant === 'v8' ? undefined : p.variant;
}

/** Whether `candidate` is the platform asked for; a request without variant accepts any variant. */
export function matchesPlatform(candidate: Platform | undefined, wanted: Platform): boolean {
  if (!candidate) return false;
  if (candidate.os !== wanted.os || candidate.architecture !== wanted.architecture) return false;
  return wanted.variant === undefined || variantOf(candidate) === variantOf(wanted);
}

export function samePlatform(a: Platform, b: Platform): boolean {
  return a.os === b.os && a.architecture === b.architecture && variantOf(a) === variantOf(b);
}
