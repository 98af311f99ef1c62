import { isMap, isScalar, isSeq } from 'yaml';
import type { Document, YAMLMap, YAMLSeq } from 'yaml';
import { assertDigest, assertImageRepository, assertImageTag } from './references.js';
import type { Updater } from './types.js';
import {
  appendAtEnd,
  applyMapEdits,
  blockLines,
  documentError,
  endOfLine,
  eolOf,
  finish,
  indentsSequences,
  lineStart,
  loadDocument,
  planMapEdits,
  rootMap,
  setRoot,
  stringValue,
} from './yaml-edit.js';
import type { Context, KeyEdit, TextEdit } from './yaml-edit.js';

export interface KustomizeImage {
  /** The image repository to deploy (`ghcr.io/acme/api`). */
  image: string;
  /**
   * The `name` of the entry — the image as the manifests spell it. Default: `image`. When it differs
   * (`name: api`), `newName` is set to `image`.
   */
  name?: string | undefined;
  /** `newTag`; when omitted an existing `newTag` is removed so it can't contradict the digest. */
  tag?: string | undefined;
  /** `digest`, always written. */
  digest: string;
  /** The file's path, for error messages. */
  path?: string | undefined;
}

const ORDER = ['name', 'newName', 'newTag', 'digest'];

/** Index of the `images:` entry for this image: by `name`, else by `newName`. */
function findEntry(seq: YAMLSeq, name: string, image: string, ctx: Context): number {
  const entries = seq.items.map((item, index) => {
    if (!isMap(item)) throw documentError(ctx, `images[${index}]`, 'expected a mapping (name, newName, newTag, digest)');
    return item;
  });
  const byName = entries.findIndex((entry) => stringValue(entry.get('name', true)) === name);
  if (byName !== -1) return byName;
  return entries.findIndex((entry) => stringValue(entry.get('newName', true)) === image);
}

function entryEdits(options: KustomizeImage, entry: YAMLMap | undefined): KeyEdit[] {
  const name = options.name ?? options.image;
  const renamed = name !== options.image || (entry !== undefined && entry.has('newName'));
  return [
    { key: 'name', value: entry ? (stringValue(entry.get('name', true)) ?? name) : name },
    { key: 'newName', value: renamed ? options.image : undefined },
    { key: 'newTag', value: options.tag },
    { key: 'digest', value: options.digest },
  ];
}

/**
 * Edits the `images:` entry for the image in a kustomization (`newName`, `newTag`, `digest`), keeping
 * every other key, comment and the order; adds the entry, or the `images:` list, when missing.
 */
export function updateKustomizeImage(options: KustomizeImage): Updater {
  const ctx: Context = { format: 'kustomize', path: options.path };
  assertImageRepository(options.image);
  if (options.tag !== undefined) assertImageTag(options.tag, 'newTag');
  assertDigest(options.digest);
  const name = options.name ?? options.image;

  return (content) => {
    if (content === undefined) throw documentError(ctx, '', 'the kustomization file does not exist');
    const doc = loadDocument(content, ctx);
    const eol = eolOf(content);
    const root = rootMap(doc);
    const images = root?.get('images', true);

    // Missing, `images:` or `images: []`: a fresh block list.
    if (images === undefined || (isScalar(images) && images.value === null) || (isSeq(images) && images.items.length === 0)) {
      const edits = entryEdits(options, undefined);
      const entry = Object.fromEntries(edits.filter((e) => e.value !== undefined).map((e) => [e.key, e.value]));
      setImages(doc, [entry]);
      const dash = indentsSequences(content) ? '  ' : '';
      const block = `images:${eol}${blockLines(edits, dash.length + 2, eol).replace(/^ */, `${dash}- `)}`;
      return finish(content, doc, images === undefined ? [appendAtEnd(content, block)] : undefined);
    }
    if (!isSeq(images)) throw documentError(ctx, 'images', 'expected a list of images');

    const index = findEntry(images, name, options.image, ctx);
    const entry = index === -1 ? undefined : (images.items[index] as YAMLMap);
    const edits = entryEdits(options, entry);
    if (entry) {
      // The entry keeps the name it was found by.
      edits.shift();
      const textEdits = planMapEdits(content, entry, edits, ORDER);
      applyMapEdits(doc, entry, edits, ORDER);
      return finish(content, doc, textEdits);
    }

    const textEdits = planAppendEntry(content, images, edits, eol);
    images.items.push(doc.createNode(Object.fromEntries(edits.filter((e) => e.value !== undefined).map((e) => [e.key, e.value]))));
    return finish(content, doc, textEdits);
  };
}

function setImages(doc: Document.Parsed, entries: Record<string, unknown>[]): void {
  const root = rootMap(doc);
  if (root) root.set('images', doc.createNode(entries));
  else setRoot(doc, { images: entries });
}

/** A new `- name: …` item after the last one, at the dash column the list already uses. */
function planAppendEntry(text: string, seq: YAMLSeq, edits: readonly KeyEdit[], eol: string): TextEdit[] | undefined {
  const last = seq.items[seq.items.length - 1] as { range?: [number, number, number] } | undefined;
  const first = seq.items[0] as { range?: [number, number, number] } | undefined;
  if (seq.flow || !last?.range || !first?.range) return undefined;
  const dashAt = text.lastIndexOf('-', first.range[0]);
  if (dashAt < lineStart(text, first.range[0])) return undefined;
  const column = dashAt - lineStart(text, first.range[0]);
  const at = endOfLine(text, last.range[1]);
  const lead = at === text.length && !text.endsWith('\n') ? eol : '';
  const lines = blockLines(edits, column + 2, eol);
  return [{ start: at, end: at, text: lead + `${' '.repeat(column)}- ${lines.slice(column + 2)}` }];
}

export interface KustomizePinned {
  name: string;
  newName: string | undefined;
  newTag: string | undefined;
  digest: string | undefined;
}

/** The `images:` entry for the image as written, or undefined when there is none. */
export function readKustomizeImage(content: string, options: { image: string; name?: string; path?: string }): KustomizePinned | undefined {
  const ctx: Context = { format: 'kustomize', path: options.path };
  const doc = loadDocument(content, ctx, { schema: 'failsafe' });
  const images = rootMap(doc)?.get('images', true);
  if (images === undefined || (isScalar(images) && stringValue(images) === undefined)) return undefined;
  if (!isSeq(images)) throw documentError(ctx, 'images', 'expected a list of images');
  const index = findEntry(images, options.name ?? options.image, options.image, ctx);
  if (index === -1) return undefined;
  const entry = images.items[index] as YAMLMap;
  const digest = stringValue(entry.get('digest', true));
  if (digest !== undefined) assertDigest(digest, `images[${index}].digest`);
  return {
    name: stringValue(entry.get('name', true)) ?? '',
    newName: stringValue(entry.get('newName', true)),
    newTag: stringValue(entry.get('newTag', true)),
    digest,
  };
}
