import { isAlias, isCollection } from 'yaml';
import { DeployRefError, PinDocumentError, PromotionInputError } from './errors.js';
import { assertDigest, assertImageRepository, assertReleaseTag, assertVersion } from './references.js';
import type { Updater } from './types.js';
import { documentError, loadDocument, rootMap, scalarText, stringValue } from './yaml-edit.js';
import type { Context } from './yaml-edit.js';

/** The `pin` format (CONTRACT §5): the whole file is Slipway's. */
export interface Pin {
  service: string;
  environment: string;
  /** Image repository, no tag or digest. */
  image: string;
  /** Omitted when the promotion named only a digest. */
  version?: string | undefined;
  digest: string;
  /** The release tag (`api/v1.2.3`), when known. */
  tag?: string | undefined;
  /** RFC 3339, UTC. */
  promotedAt: string;
  promotedBy: string;
  /** The environment promoted from, or `release` / `rollback` / `manual`… */
  from: string;
}

/** What `renderPin` takes: a Pin whose `promotedAt` may still be a Date (the caller's `now`). */
export type PinInput = Omit<Pin, 'promotedAt'> & { promotedAt: string | Date };

/** CONTRACT §5 order. */
export const PIN_FIELDS = ['service', 'environment', 'image', 'version', 'digest', 'tag', 'promotedAt', 'promotedBy', 'from'] as const;
const OPTIONAL = new Set<string>(['version', 'tag']);

export const SERVICE_NAME = /^[a-z][a-z0-9-]{0,62}$/;
export const ENVIRONMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

/** `2026-11-21T10:00:00Z`: seconds precision, which is what a person reads and all a pin needs. */
export function formatTimestamp(at: string | Date): string {
  if (typeof at === 'string') return at;
  if (Number.isNaN(at.getTime())) throw new PromotionInputError('promotedAt is an invalid date', { field: 'promotedAt' });
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function assertSingleLine(value: string, field: string): string {
  if (value.trim() === '' || /[\r\n]/.test(value) || value !== value.trim()) {
    throw new PromotionInputError(`${field} must be one non-empty line without surrounding spaces, got ${JSON.stringify(value)}`, { field });
  }
  return value;
}

export function assertServiceName(value: string, field = 'service'): string {
  if (!SERVICE_NAME.test(value)) {
    throw new PromotionInputError(`${field} "${value}" is not a service name (${SERVICE_NAME.source})`, { field });
  }
  return value;
}

export function assertEnvironmentName(value: string, field = 'environment'): string {
  if (!ENVIRONMENT_NAME.test(value)) {
    throw new PromotionInputError(`${field} "${value}" is not an environment name`, { field });
  }
  return value;
}

/** Checks every field; throws DeployRefError (digest, tags, image, version) or PromotionInputError (the rest). */
export function validatePin(pin: PinInput): Pin {
  const promotedAt = formatTimestamp(pin.promotedAt);
  if (!RFC3339.test(promotedAt)) {
    throw new PromotionInputError(`promotedAt "${promotedAt}" is not an RFC 3339 timestamp`, { field: 'promotedAt' });
  }
  assertServiceName(pin.service);
  assertEnvironmentName(pin.environment);
  assertImageRepository(pin.image);
  if (pin.version !== undefined) assertVersion(pin.version);
  assertDigest(pin.digest);
  if (pin.tag !== undefined) assertReleaseTag(pin.tag);
  assertSingleLine(pin.promotedBy, 'promotedBy');
  assertSingleLine(pin.from, 'from');
  return {
    service: pin.service,
    environment: pin.environment,
    image: pin.image,
    version: pin.version,
    digest: pin.digest,
    tag: pin.tag,
    promotedAt,
    promotedBy: pin.promotedBy,
    from: pin.from,
  };
}

/** The pin file's text: CONTRACT §5 fields in order, optional ones omitted when unknown. */
export function renderPin(input: PinInput): string {
  const pin = validatePin(input);
  return PIN_FIELDS.filter((field) => pin[field] !== undefined)
    .map((field) => `${field}: ${scalarText(pin[field] ?? '')}\n`)
    .join('');
}

/**
 * Reads and validates a pin file. Every problem is a PinDocumentError (exit 2) naming the field and,
 * when given, the file. Unknown keys are refused: the file is Slipway's and a typo (`digets:`) must not
 * read as "no digest".
 */
export function parsePin(text: string, options: { path?: string } = {}): Pin {
  const ctx: Context = { format: 'pin', path: options.path };
  const doc = loadDocument(text, ctx, { schema: 'failsafe' });
  const map = rootMap(doc);
  if (!map) throw documentError(ctx, '', 'the pin file is empty');
  const fields: Record<string, string | undefined> = {};
  for (const pair of map.items) {
    const key = stringValue(pair.key);
    if (key === undefined || !(PIN_FIELDS as readonly string[]).includes(key)) {
      throw documentError(ctx, key ?? '', `unknown field (expected ${PIN_FIELDS.join(', ')})`);
    }
    if (isCollection(pair.value) || isAlias(pair.value)) throw documentError(ctx, key, 'expected a string');
    fields[key] = stringValue(pair.value);
  }
  for (const field of PIN_FIELDS) {
    if (fields[field] === undefined && !OPTIONAL.has(field)) throw documentError(ctx, field, 'missing');
  }
  try {
    return validatePin(fields as unknown as PinInput);
  } catch (error) {
    if (error instanceof DeployRefError || error instanceof PromotionInputError) {
      throw documentError(ctx, error.field, error.message, error);
    }
    throw error;
  }
}

/**
 * The `pin` format updater: the whole file is rewritten in canonical form. An existing file must be a
 * pin for the same service and environment — anything else means the path template points at someone
 * else's file, and overwriting it would lose their data.
 */
export function updatePin(input: PinInput, options: { path?: string } = {}): Updater {
  const text = renderPin(input);
  const ctx: Context = { format: 'pin', path: options.path };
  return (content) => {
    if (content !== undefined && content.trim() !== '') {
      const doc = loadDocument(content, ctx, { schema: 'failsafe' });
      for (const field of ['service', 'environment'] as const) {
        const found = stringValue(rootMap(doc)?.get(field, true));
        if (found !== undefined && found !== input[field]) {
          throw new PinDocumentError(`the file pins ${field} "${found}", not "${input[field]}"`, { format: 'pin', field, path: options.path });
        }
      }
    }
    return text;
  };
}
