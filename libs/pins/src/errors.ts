import type { PinFormat } from './types.js';

/** A pin document can't be read or written: not YAML, not a mapping, a field missing or invalid. Exit 2. */
export class PinDocumentError extends Error {
  override readonly name = 'PinDocumentError';
  readonly code = 'E_PIN_DOCUMENT' as const;
  readonly exitCode = 2 as const;
  readonly format: PinFormat;
  /** Dotted key path inside the document (`digest`, `image.tag`, `images[2].newTag`); '' for the whole document. */
  readonly field: string;
  /** The file, when the caller said which (`deploy/production/api.yaml`). */
  readonly path: string | undefined;

  constructor(
    message: string,
    details: { format: PinFormat; field: string; path?: string | undefined },
    options?: { cause?: unknown },
  ) {
    const where = details.path ? `${details.path}: ` : '';
    const field = details.field ? `${details.field}: ` : '';
    super(`${where}${field}${message}`, options);
    this.format = details.format;
    this.field = details.field;
    this.path = details.path;
  }
}

export type DeployRefErrorCode = 'E_DIGEST_INVALID' | 'E_FLOATING_TAG' | 'E_REF_INVALID';

/** A deploy reference Slipway refuses: a malformed digest, a floating tag such as `latest`, a malformed tag or image. Exit 2. */
export class DeployRefError extends Error {
  override readonly name = 'DeployRefError';
  readonly exitCode = 2 as const;
  readonly code: DeployRefErrorCode;
  /** What the value was for: `digest`, `tag`, `imageTag`, `image`, `version`. */
  readonly field: string;
  readonly value: string;

  constructor(code: DeployRefErrorCode, message: string, details: { field: string; value: string }, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.field = details.field;
    this.value = details.value;
  }
}

/** An environment name that isn't in services.json `environments`. Exit 2. */
export class UnknownEnvironmentError extends Error {
  override readonly name = 'UnknownEnvironmentError';
  readonly code = 'E_UNKNOWN_ENVIRONMENT' as const;
  readonly exitCode = 2 as const;
  readonly environment: string;
  readonly known: string[];

  constructor(environment: string, known: readonly string[], options?: { cause?: unknown }) {
    super(`unknown environment "${environment}" (known: ${known.length ? known.join(', ') : 'none'})`, options);
    this.environment = environment;
    this.known = [...known];
  }
}

/** A promotion the gates refuse: out of order, approvals missing. Refused by policy: exit 3. */
export class GateError extends Error {
  override readonly name = 'GateError';
  readonly code = 'E_GATE_REFUSED' as const;
  readonly exitCode = 3 as const;
  readonly service: string;
  readonly environment: string;
  /** What is missing, one sentence each. */
  readonly reasons: string[];

  constructor(details: { service: string; environment: string; reasons: readonly string[] }, options?: { cause?: unknown }) {
    super(`promotion of ${details.service} to ${details.environment} refused: ${details.reasons.join('; ')}`, options);
    this.service = details.service;
    this.environment = details.environment;
    this.reasons = [...details.reasons];
  }
}

/** A promotion field that can't be written into a commit message or pin (empty, multi-line…). Exit 2. */
export class PromotionInputError extends Error {
  override readonly name = 'PromotionInputError';
  readonly code = 'E_PROMOTION_INPUT' as const;
  readonly exitCode = 2 as const;
  readonly field: string;

  constructor(message: string, details: { field: string }, options?: { cause?: unknown }) {
    super(message, options);
    this.field = details.field;
  }
}
