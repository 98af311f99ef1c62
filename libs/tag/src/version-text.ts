import type { TagInvalidReason } from './errors.js';

/**
 * A version as written: 2 to 4 numeric components and optional prerelease identifiers.
 * Semver proper is exactly 3 components; 2 (`v1.4`) and 4 (`v1.4.0.1`) exist only in the
 * `single` scheme, whose tags the seed flows write that way.
 */
export interface VersionParts {
  readonly core: readonly number[];
  readonly prerelease: readonly string[];
}

export type VersionParse =
  | { readonly ok: true; readonly parts: VersionParts }
  | { readonly ok: false; readonly reason: Extract<TagInvalidReason, 'not-semver' | 'leading-zero' | 'build-metadata'>; readonly detail: string };

const NAMES = ['MAJOR', 'MINOR', 'PATCH', 'REVISION'];

/** Parse `MAJOR.MINOR.PATCH[-pre]` (or 2..4 components when allowed), saying exactly what is wrong. */
export function parseVersionText(text: string, allowed: { min: 2 | 3; max: 3 | 4 } = { min: 3, max: 3 }): VersionParse {
  const shape = allowed.min === 3 && allowed.max === 3 ? 'MAJOR.MINOR.PATCH' : describeShape(allowed);
  if (text === '') return fail('not-semver', `the version is empty; expected ${shape}`);
  const plus = text.indexOf('+');
  if (plus >= 0) {
    return fail(
      'build-metadata',
      `build metadata ("${text.slice(plus)}") is not allowed: image tags cannot contain "+", and semver ignores metadata when ordering, so it cannot tell two releases apart`,
    );
  }
  const dash = text.indexOf('-');
  const coreText = dash >= 0 ? text.slice(0, dash) : text;
  const preText = dash >= 0 ? text.slice(dash + 1) : null;

  const pieces = coreText.split('.');
  const core: number[] = [];
  for (const [i, piece] of pieces.entries()) {
    if (piece === '') return fail('not-semver', `"${coreText}" has an empty numeric component; expected ${shape}`);
    if (!/^[0-9]+$/.test(piece)) {
      return fail('not-semver', `"${piece}" in "${coreText}" is not a number; expected ${shape}`);
    }
    if (piece.length > 1 && piece.startsWith('0')) {
      return fail('leading-zero', `${NAMES[i] ?? 'component'} "${piece}" has a leading zero (semver forbids them: write ${String(Number(piece))})`);
    }
    const value = Number(piece);
    if (!Number.isSafeInteger(value)) return fail('not-semver', `"${piece}" is too large (at most ${Number.MAX_SAFE_INTEGER})`);
    core.push(value);
  }
  if (core.length < allowed.min) {
    return fail('not-semver', `"${coreText}" has ${core.length} numeric component${core.length === 1 ? '' : 's'}; expected ${shape}`);
  }
  if (core.length > allowed.max) {
    return fail('not-semver', `"${coreText}" has ${core.length} numeric components; expected ${shape}`);
  }

  const prerelease: string[] = [];
  if (preText !== null) {
    if (preText === '') return fail('not-semver', 'nothing follows "-"; a prerelease needs identifiers, e.g. "-rc.1"');
    for (const id of preText.split('.')) {
      if (id === '') return fail('not-semver', `prerelease "${preText}" has an empty identifier`);
      const bad = /[^0-9A-Za-z-]/.exec(id);
      if (bad) return fail('not-semver', `prerelease identifier "${id}" contains "${bad[0]}"; only letters, digits and "-" are allowed`);
      if (/^[0-9]+$/.test(id)) {
        if (id.length > 1 && id.startsWith('0')) {
          return fail('leading-zero', `numeric prerelease identifier "${id}" has a leading zero (semver forbids them)`);
        }
        if (!Number.isSafeInteger(Number(id))) return fail('not-semver', `prerelease number "${id}" is too large`);
      }
      prerelease.push(id);
    }
  }
  return { ok: true, parts: { core, prerelease } };
}

/** `1.4` → `1.4.0`; 3 and 4 components are kept as written. */
export function normalizedVersion(parts: VersionParts): string {
  const core = parts.core.length === 2 ? [...parts.core, 0] : parts.core;
  const pre = parts.prerelease.length > 0 ? `-${parts.prerelease.join('.')}` : '';
  return `${core.join('.')}${pre}`;
}

function describeShape(allowed: { min: number; max: number }): string {
  const shapes = [];
  for (let n = allowed.min; n <= allowed.max; n++) shapes.push(NAMES.slice(0, n).join('.'));
  return shapes.join(' or ');
}

function fail(reason: 'not-semver' | 'leading-zero' | 'build-metadata', detail: string): VersionParse {
  return { ok: false, reason, detail };
}
