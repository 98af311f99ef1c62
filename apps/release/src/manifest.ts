import { readFile } from 'node:fs/promises';
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { formatJsonPath } from '@slipway/config';

// The release manifest of CONTRACT §4: computed once by publish, passed by reference to verify,
// promote and deploy. Nothing downstream recomputes the tag or resolves a mutable tag again.
//
// zod/mini, as services.json's schema (libs/config/src/schema.ts): with no classic zod in the
// CLI, the chunk every command that reads services.json loads carries only the zod it uses.

/** English messages, as zod's classic API sets them on first use; zod/mini leaves the locale unset. */
if (!z.config().localeError) z.config(en());

const nonEmpty = () => z.string().check(z.minLength(1));
const digest = z.string().check(z.regex(/^sha256:[a-f0-9]{64}$/, 'must be sha256:<64 lowercase hex>'));

export const releaseManifestSchema = z.strictObject({
  schema: z.literal(1),
  service: nonEmpty(),
  version: nonEmpty(),
  tag: nonEmpty(),
  commit: z.string().check(z.regex(/^[a-f0-9]{40}$/, 'must be a full 40-hex commit')),
  image: nonEmpty(),
  digest,
  tags: z.array(nonEmpty()),
  prerelease: z.boolean(),
  deploy: z.boolean(),
  createdAt: z.iso.datetime({ offset: true }),
});

export type ReleaseManifest = z.infer<typeof releaseManifestSchema>;

export class ManifestError extends Error {
  override readonly name = 'ManifestError';
  readonly code = 'E_MANIFEST_INVALID';
  readonly exitCode = 2 as const;
  constructor(
    message: string,
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Validates a manifest's text; every problem names its field. */
export function parseReleaseManifest(text: string, path: string): ReleaseManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ManifestError(`${path}: not valid JSON (${(cause as Error).message})`, path, { cause });
  }
  const result = releaseManifestSchema.safeParse(json);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${formatJsonPath(i.path)}: ${i.message}`);
    throw new ManifestError(`${path}: not a release manifest: ${problems.join('; ')}`, path);
  }
  return result.data;
}

export async function readReleaseManifest(path: string): Promise<ReleaseManifest> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new ManifestError(`${path}: cannot read the release manifest (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message})`, path, { cause });
  }
  return parseReleaseManifest(text, path);
}
