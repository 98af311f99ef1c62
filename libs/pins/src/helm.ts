import { isMap, isScalar } from 'yaml';
import type { YAMLMap } from 'yaml';
import { assertDigest, assertImageRepository, assertImageTag } from './references.js';
import type { Updater } from './types.js';
import {
  appendAtEnd,
  applyMapEdits,
  blockLines,
  documentError,
  eolOf,
  finish,
  indentUnit,
  loadDocument,
  planMapEdits,
  rootMap,
  setRoot,
  stringValue,
} from './yaml-edit.js';
import type { Context, KeyEdit, TextEdit } from './yaml-edit.js';

export interface HelmImage {
  /** `image.repository`: the image without tag or digest. */
  repository: string;
  /** `image.tag`; when omitted an existing `image.tag` is removed so it can't contradict the digest. */
  tag?: string | undefined;
  /** `image.digest`, always written. */
  digest: string;
  /** Where the image block lives, dotted (`image`, `api.image`). Default `image`. */
  key?: string | undefined;
  /** The file's path, for error messages. */
  path?: string | undefined;
}

const ORDER = ['repository', 'tag', 'digest'];

/**
 * Edits `image.repository`, `image.tag` and `image.digest` in an existing Helm values file, keeping every
 * other key, comment and the key order. Missing keys are added next to their siblings in the order
 * repository, tag, digest; a missing `image` block is added at the end. A missing file is an error:
 * Helm values are written by people, Slipway only moves the image.
 */
export function updateHelmValues(image: HelmImage): Updater {
  const ctx: Context = { format: 'helm', path: image.path };
  const keyPath = (image.key ?? 'image').split('.');
  const field = keyPath.join('.');
  assertImageRepository(image.repository, `${field}.repository`);
  if (image.tag !== undefined) assertImageTag(image.tag, `${field}.tag`);
  assertDigest(image.digest, `${field}.digest`);
  const edits: KeyEdit[] = [
    { key: 'repository', value: image.repository },
    { key: 'tag', value: image.tag },
    { key: 'digest', value: image.digest },
  ];

  return (content) => {
    if (content === undefined) throw documentError(ctx, '', 'the Helm values file does not exist');
    const doc = loadDocument(content, ctx);
    const eol = eolOf(content);
    const unit = indentUnit(content);

    // Walk to the image block; a missing, empty or `{}` step becomes one new block holding the rest.
    let parent: YAMLMap | null = rootMap(doc);
    for (let depth = 0; depth < keyPath.length; depth++) {
      const key = keyPath[depth] ?? '';
      const node = parent?.get(key, true);
      if (node === undefined || (isScalar(node) && node.value === null) || (isMap(node) && node.items.length === 0)) {
        const rest = keyPath.slice(depth);
        const values = Object.fromEntries(edits.filter((e) => e.value !== undefined).map((e) => [e.key, e.value]));
        const nested = rest.reduceRight<unknown>((inner, k) => ({ [k]: inner }), values) as Record<string, unknown>;
        if (parent) parent.set(key, doc.createNode(nested[key]));
        else setRoot(doc, nested);
        // Appending text is only safe at the top level; deeper, let the Document print it.
        let textEdits: TextEdit[] | undefined;
        if (node === undefined && depth === 0) {
          const lines = rest.map((k, i) => `${' '.repeat(unit * i)}${k}:${eol}`).join('');
          textEdits = [appendAtEnd(content, lines + blockLines(edits, unit * rest.length, eol))];
        }
        return finish(content, doc, textEdits);
      }
      if (!isMap(node)) throw documentError(ctx, keyPath.slice(0, depth + 1).join('.'), 'expected a mapping (repository, tag, digest)');
      parent = node;
    }
    if (!parent) throw documentError(ctx, field, 'expected a mapping (repository, tag, digest)');
    const textEdits = planMapEdits(content, parent, edits, ORDER);
    applyMapEdits(doc, parent, edits, ORDER);
    return finish(content, doc, textEdits);
  };
}

export interface HelmPinned {
  repository: string | undefined;
  tag: string | undefined;
  digest: string | undefined;
}

/** The image block of a values file as written (strings, unvalidated), or undefined when it has none. */
export function readHelmValues(content: string, options: { key?: string; path?: string } = {}): HelmPinned | undefined {
  const ctx: Context = { format: 'helm', path: options.path };
  const keyPath = (options.key ?? 'image').split('.');
  const doc = loadDocument(content, ctx, { schema: 'failsafe' });
  const node = doc.getIn(keyPath, true);
  if (node === undefined || (isScalar(node) && stringValue(node) === undefined)) return undefined;
  if (!isMap(node)) throw documentError(ctx, keyPath.join('.'), 'expected a mapping (repository, tag, digest)');
  const str = (key: string): string | undefined => stringValue(node.get(key, true));
  const digest = str('digest');
  if (digest !== undefined) assertDigest(digest, `${keyPath.join('.')}.digest`);
  return { repository: str('repository'), tag: str('tag'), digest };
}
