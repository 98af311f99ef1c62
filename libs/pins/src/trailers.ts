import { PromotionInputError } from './errors.js';
import { assertEnvironmentName, assertServiceName, assertSingleLine } from './pin-document.js';
import { assertDigest, assertVersion, isDigest } from './references.js';

export interface PromotionTrailers {
  service: string;
  environment: string;
  /** Omitted when the promotion named only a digest. */
  version?: string | undefined;
  digest: string;
  /** The environment promoted from, `rollback`, `release`… */
  from: string;
  /** The approvers that counted; may be empty. */
  approvedBy: readonly string[];
}

export const TRAILER_KEYS = {
  service: 'Slipway-Service',
  environment: 'Slipway-Environment',
  version: 'Slipway-Version',
  digest: 'Slipway-Digest',
  from: 'Slipway-From',
  approvedBy: 'Slipway-Approved-By',
} as const;

function validate(input: PromotionTrailers): void {
  assertServiceName(input.service);
  assertEnvironmentName(input.environment);
  if (input.version !== undefined) assertVersion(input.version);
  assertDigest(input.digest);
  assertSingleLine(input.from, 'from');
  for (const name of input.approvedBy) {
    assertSingleLine(name, 'approvedBy');
    if (name.includes(',')) throw new PromotionInputError(`approver "${name}" contains a comma`, { field: 'approvedBy' });
  }
}

/**
 * The trailer block, one `Key: value` per line in CONTRACT §5 order. Approvers are repeated
 * `Slipway-Approved-By:` lines, the way git writes `Co-authored-by:` — `git log --format='%(trailers:key=Slipway-Approved-By,valueonly)'`
 * lists them one per line. No approvers, no line; no version, no line.
 */
export function promotionTrailers(input: PromotionTrailers): string {
  validate(input);
  const lines = [`${TRAILER_KEYS.service}: ${input.service}`, `${TRAILER_KEYS.environment}: ${input.environment}`];
  if (input.version !== undefined) lines.push(`${TRAILER_KEYS.version}: ${input.version}`);
  lines.push(`${TRAILER_KEYS.digest}: ${input.digest}`, `${TRAILER_KEYS.from}: ${input.from}`);
  for (const name of input.approvedBy) lines.push(`${TRAILER_KEYS.approvedBy}: ${name}`);
  return `${lines.join('\n')}\n`;
}

/** `promote api 1.2.3 to production`, or `rollback api in production to 1.2.2` when `from` is `rollback`. */
export function promotionSubject(input: Pick<PromotionTrailers, 'service' | 'environment' | 'version' | 'digest' | 'from'>): string {
  const what = input.version ?? input.digest.slice(0, 'sha256:'.length + 12);
  return input.from === 'rollback'
    ? `rollback ${input.service} in ${input.environment} to ${what}`
    : `promote ${input.service} ${what} to ${input.environment}`;
}

/** The whole commit message: subject, an optional body, then the trailers as the last paragraph. */
export function promotionCommitMessage(input: PromotionTrailers & { body?: string | undefined }): string {
  const trailers = promotionTrailers(input);
  const body = input.body?.trim();
  return `${promotionSubject(input)}\n\n${body ? `${body}\n\n` : ''}${trailers}`;
}

const TRAILER_LINE = /^([A-Za-z0-9][A-Za-z0-9-]*)[ \t]*:[ \t]*(.*?)[ \t]*$/;

function paragraphs(message: string): string[][] {
  return message
    .replace(/\r\n/g, '\n')
    .split(/\n[ \t]*\n/)
    .map((p) => p.split('\n'))
    .filter((p) => p.some((line) => line.trim() !== ''));
}

/**
 * Reads the trailers back from a commit message, or undefined when it isn't a Slipway promotion (no
 * `Slipway-Service`/`Slipway-Environment`/valid `Slipway-Digest`). Looks at the last paragraph that has
 * Slipway trailers, so other trailers (`Signed-off-by`, `Co-authored-by`) and lines git adds
 * (`(cherry picked from …)`) don't get in the way. Keys match case-insensitively, as git's do; approvers
 * may be repeated lines or comma-separated.
 */
export function parseTrailers(message: string): PromotionTrailers | undefined {
  const blocks = paragraphs(message).slice(1);
  for (let i = blocks.length - 1; i >= 0; i--) {
    const values = new Map<string, string[]>();
    for (const line of blocks[i] ?? []) {
      const match = TRAILER_LINE.exec(line);
      if (!match?.[1]) continue;
      const key = match[1].toLowerCase();
      values.set(key, [...(values.get(key) ?? []), match[2] ?? '']);
    }
    const one = (key: string): string | undefined => values.get(key.toLowerCase())?.at(-1) || undefined;
    const service = one(TRAILER_KEYS.service);
    const environment = one(TRAILER_KEYS.environment);
    if (service === undefined && environment === undefined) continue;
    const digest = one(TRAILER_KEYS.digest);
    if (!service || !environment || !digest || !isDigest(digest)) return undefined;
    return {
      service,
      environment,
      version: one(TRAILER_KEYS.version),
      digest,
      from: one(TRAILER_KEYS.from) ?? '',
      approvedBy: (values.get(TRAILER_KEYS.approvedBy.toLowerCase()) ?? [])
        .flatMap((value) => value.split(','))
        .map((name) => name.trim())
        .filter((name) => name !== ''),
    };
  }
  return undefined;
}
