import { readFile } from 'node:fs/promises';
import * as z from 'zod';
import { formatJsonPath } from '@slipway/config';

// The release manifest of CONTRACT §4: computed once by publish, passed by reference to verify,
// promote and deploy. Nothing downstream recomputes the tag or resolves a mutable tag again.

const digest = z.string().regex(/^sha256:[a-f0-9]{64}$/, 'must be sha256:<64 lowercase hex>');

export const releaseManifestSchema = z.strictObject({
  schema: z.literal(1),
  service: z.string().min(1),
  version: z.string().min(1),
  tag: z.string().min(1),
  commit: z.string().regex(/^[a-f0-9]{40}$/, 'must be a full 40-hex commit'),
  image: z.string().min(1),
  digest,
  tags: z.array(z.string().min(1)),
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
