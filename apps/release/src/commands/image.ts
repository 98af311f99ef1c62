import { ConfigError } from '@slipway/config';
import { copiedDigest, copyImage, guardTag, type CopyImageResult, type CopyTarget, type ImageRef } from '@slipway/registry';
import type { CommandContext, Handler } from '../context.js';
import { UsageError, VerificationError } from '../errors.js';
import { table } from '../output.js';
import { formatBytes, formatSeconds } from '../progress.js';
import { openWorkspace, registryFactory, type RegistryFactory } from '../workspace.js';

// `slipway image …`: the registry library on the command line, like crane. It works inside a
// workspace (insecureRegistries and oci-layout paths come from services.json) and outside one.

async function registries(ctx: CommandContext): Promise<RegistryFactory> {
  try {
    return (await openWorkspace(ctx)).registry;
  } catch (error) {
    if (ctx.cwd === undefined && error instanceof ConfigError && error.code === 'E_CONFIG_NOT_FOUND') {
      return registryFactory({ root: ctx.processCwd, insecureRegistries: [], env: ctx.env });
    }
    throw error;
  }
}

function reference(ref: ImageRef, text: string, what: string): string {
  const reference = ref.digest ?? ref.tag;
  if (reference === undefined) {
    throw new UsageError(`${what} "${text}" names no tag or digest; slipway never assumes "latest" (write ${text}:<tag> or ${text}@sha256:…)`);
  }
  return reference;
}

export const imageResolve: Handler = async ({ args }, ctx) => {
  const text = String(args['ref']);
  const { registry, ref } = await (await registries(ctx))(text);
  const descriptor = await registry.resolve(ref.repository, reference(ref, text, 'the reference'));
  if (!descriptor) {
    throw new VerificationError('E_REGISTRY_NOT_FOUND', `${text}: not found in ${ref.registry}/${ref.repository}`);
  }
  const data = { ref: text, digest: descriptor.digest, mediaType: descriptor.mediaType, size: descriptor.size };
  return { data, human: descriptor.digest };
};

export const imageTags: Handler = async ({ args }, ctx) => {
  const text = String(args['repo']);
  const { registry, ref } = await (await registries(ctx))(text);
  if (ref.tag !== undefined || ref.digest !== undefined) throw new UsageError(`"${text}" is a repository, without :tag or @digest`);
  const tags = await registry.listTags(ref.repository);
  return { data: { repository: text, tags }, human: tags.join('\n') };
};

export const imageCopy: Handler = async ({ args }, ctx) => {
  const open = await registries(ctx);
  const srcText = String(args['src']);
  const src = await open(srcText);
  const sourceReference = reference(src.ref, srcText, 'the source');

  // Group destinations by registry and repository: one copy target each, so an index is copied
  // once per repository and then tagged.
  const targets = new Map<string, CopyTarget & { text: string[] }>();
  for (const text of (args['dst'] as string[] | undefined) ?? []) {
    const { registry, ref } = await open(text);
    if (ref.digest !== undefined) throw new UsageError(`destination "${text}": name a tag, not a digest (the digest is the source's)`);
    if (ref.tag === undefined) throw new UsageError(`destination "${text}" names no tag`);
    const key = `${ref.registry}/${ref.repository}`;
    const target = targets.get(key) ?? { registry, repository: ref.repository, tags: [], text: [] };
    target.tags = [...target.tags, ref.tag];
    target.text.push(text);
    targets.set(key, target);
  }

  if (ctx.dryRun) {
    const source = await src.registry.resolve(src.ref.repository, sourceReference);
    if (!source) throw new VerificationError('E_REGISTRY_NOT_FOUND', `${srcText}: not found in ${src.ref.registry}/${src.ref.repository}`);
    const plan: { destination: string; action: string }[] = [];
    for (const target of targets.values()) {
      // An OCI layout gets a Docker image converted, under another digest: compare tags with that one.
      const digest = await copiedDigest({ registry: src.registry, repository: src.ref.repository, reference: sourceReference }, target.registry ?? src.registry);
      for (const [i, tag] of target.tags.entries()) {
        const state = await guardTag(target.registry ?? src.registry, target.repository, tag, digest);
        plan.push({ destination: target.text[i] ?? tag, action: state === 'same' ? 'unchanged' : 'would tag' });
      }
    }
    return {
      data: { dryRun: true, source: srcText, digest: source.digest, plan },
      human: `${srcText} → ${source.digest}\n${table(['destination', 'action'], plan.map((p) => [p.destination, p.action]))}`,
    };
  }

  ctx.out.info(`copying ${srcText} to ${targets.size} repositor${targets.size === 1 ? 'y' : 'ies'}…`);
  const progress = ctx.out.progress(`copying ${srcText}`);
  let result: CopyImageResult;
  try {
    result = await copyImage({
      from: { registry: src.registry, repository: src.ref.repository, reference: sourceReference },
      to: [...targets.values()],
      immutable: true,
      onProgress: (p) => progress.update(p),
    });
  } catch (error) {
    progress.stop();
    throw error;
  }
  const copied = result;
  progress.done(({ bytes, ms }) => `copied ${srcText}@${copied.digest} (${formatBytes(bytes)} in ${formatSeconds(ms)})`);
  const destinations = [...targets.values()].flatMap((t) => t.text);
  const data = { source: srcText, destinations, ...result };
  const human = [
    `${srcText} @ ${result.digest}`,
    ...destinations.map((d) => `  → ${d}`),
    `blobs: ${result.blobs.mounted} mounted, ${result.blobs.uploaded} uploaded (${result.blobs.uploadedBytes} bytes), ${result.blobs.present} already present`,
    ...(result.repaired.length > 0 ? [`repaired: ${result.repaired.join(', ')} named the digest but missed platform manifests; they were copied again`] : []),
    ...Object.entries(result.converted).map(([repository, digest]) => `converted to OCI media types for ${repository} (an OCI layout holds no others): ${digest}`),
  ].join('\n');
  return { data, human };
};
