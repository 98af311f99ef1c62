import { isMap, isScalar, parseDocument, stringify } from 'yaml';
import type { Document, Node, Pair, YAMLMap } from 'yaml';
import { PinDocumentError } from './errors.js';
import type { PinFormat } from './types.js';

/*
 * Edits to GitOps files are reviewed as diffs, so an edit should change only the lines it means to.
 * Every edit is done twice: on yaml's Document (the authority: comments and order kept, but yaml
 * re-prints whitespace its own way) and as text splices at the nodes' source ranges (byte-exact
 * elsewhere). The splice wins when re-parsing it gives exactly the Document's data; in any case the
 * splice can't handle (flow style, block scalars, anchors…) the Document's own text is used.
 */

export interface Context {
  format: PinFormat;
  path?: string | undefined;
}

export type KeyEdit = { key: string; value: string | undefined };

export interface TextEdit {
  start: number;
  end: number;
  text: string;
}

export function documentError(ctx: Context, field: string, message: string, cause?: unknown): PinDocumentError {
  return new PinDocumentError(message, { format: ctx.format, field, path: ctx.path }, cause === undefined ? undefined : { cause });
}

/** Parses one YAML document whose root is a mapping or empty; anything else is a PinDocumentError. */
export function loadDocument(text: string, ctx: Context, options: { schema?: 'core' | 'failsafe' } = {}): Document.Parsed {
  const doc = parseDocument(text, { schema: options.schema ?? 'core', prettyErrors: false });
  const [error] = doc.errors;
  if (error) {
    throw documentError(ctx, '', `not valid YAML (${error.code}: ${error.message.split('\n')[0] ?? ''})`, error);
  }
  if (doc.contents !== null && !isMap(doc.contents)) {
    throw documentError(ctx, '', 'expected a YAML mapping at the top level');
  }
  return doc;
}

export function lineStart(text: string, pos: number): number {
  return text.lastIndexOf('\n', pos - 1) + 1;
}

/** The offset just past the line `pos` is on (or `pos` itself when it already starts a line). */
export function endOfLine(text: string, pos: number): number {
  if (pos > 0 && text[pos - 1] === '\n') return pos;
  const newline = text.indexOf('\n', pos);
  return newline === -1 ? text.length : newline + 1;
}

export function eolOf(text: string): string {
  return text.includes('\r\n') ? '\r\n' : '\n';
}

/** The indentation unit the file uses for nested mappings (2 when it can't tell). */
export function indentUnit(text: string): number {
  const match = /^[^\s#-][^\n]*:[ \t]*(?:#[^\n]*)?\r?\n( +)[^\s-]/m.exec(text);
  return match?.[1]?.length ?? 2;
}

/** Whether block sequences are indented under their key (`key:\n  - a`) or not (`key:\n- a`, kubectl style). */
export function indentsSequences(text: string): boolean {
  const match = /^( *)[^\s#-][^\n]*:[ \t]*\r?\n( *)- /m.exec(text);
  if (!match) return true;
  return (match[2]?.length ?? 0) > (match[1]?.length ?? 0);
}

/** A scalar as YAML text: the original quoting style when there was one, plain when safe, else quoted. */
export function scalarText(value: string, style?: string): string {
  if (style === 'QUOTE_DOUBLE') return JSON.stringify(value);
  if (style === 'QUOTE_SINGLE') return `'${value.replace(/'/g, "''")}'`;
  return stringify(value, { lineWidth: 0 }).trimEnd();
}

function range(node: Node | null | undefined): [number, number, number] | undefined {
  const r = (node as { range?: [number, number, number] | null } | null | undefined)?.range;
  return r ?? undefined;
}

function splicableScalar(node: unknown): boolean {
  return isScalar(node) && (node.type === 'PLAIN' || node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE' || node.value === null) && !node.anchor && !node.tag;
}

function keyName(pair: Pair): string | undefined {
  return isScalar(pair.key) ? String(pair.key.value) : undefined;
}

function findPair(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((pair) => keyName(pair) === key) as Pair | undefined;
}

/** The present key that `key` should follow in canonical `order`, if any. */
function predecessor(map: YAMLMap, key: string, order: readonly string[], skip: ReadonlySet<string>): Pair | undefined {
  const index = order.indexOf(key);
  for (let i = index - 1; i >= 0; i--) {
    const name = order[i];
    if (name === undefined || skip.has(name)) continue;
    const pair = findPair(map, name);
    if (pair) return pair;
  }
  return undefined;
}

/** Text splices for `edits` on a block mapping, or undefined when the shape is beyond simple splicing. */
export function planMapEdits(text: string, map: YAMLMap, edits: readonly KeyEdit[], order: readonly string[]): TextEdit[] | undefined {
  if (map.flow || map.items.length === 0) return undefined;
  const firstKey = range(map.items[0]?.key as Node);
  if (!firstKey) return undefined;
  const column = firstKey[0] - lineStart(text, firstKey[0]);
  const eol = eolOf(text);
  const out: TextEdit[] = [];
  const deleted = new Set(edits.filter((e) => e.value === undefined).map((e) => e.key));
  const remaining = map.items.filter((pair) => !deleted.has(keyName(pair) ?? '')).length;
  if (remaining === 0 && edits.every((e) => e.value === undefined)) return undefined;

  for (const edit of edits) {
    const pair = findPair(map, edit.key);
    if (pair) {
      const keyRange = range(pair.key as Node);
      const valueNode = pair.value as Node | null;
      if (!keyRange || !splicableScalar(valueNode)) return undefined;
      const valueRange = range(valueNode);
      if (!valueRange) return undefined;
      if (edit.value === undefined) {
        const from = lineStart(text, keyRange[0]);
        // A key sharing its line with a sequence dash (`- newTag: x`) can't be cut out line-wise.
        if (text.slice(from, keyRange[0]).trim() !== '') return undefined;
        out.push({ start: from, end: endOfLine(text, valueRange[1]), text: '' });
      } else {
        const style = isScalar(valueNode) && valueNode.value !== null ? valueNode.type : undefined;
        let replacement = scalarText(edit.value, style);
        if (text[valueRange[0] - 1] === ':') replacement = ` ${replacement}`;
        out.push({ start: valueRange[0], end: valueRange[1], text: replacement });
      }
      continue;
    }
    if (edit.value === undefined) continue;
    const after = predecessor(map, edit.key, order, deleted) ?? (map.items[map.items.length - 1] as Pair | undefined);
    const anchor = after ? (range(after.value as Node) ?? range(after.key as Node)) : undefined;
    if (!anchor) return undefined;
    const at = endOfLine(text, anchor[1]);
    const lead = at === text.length && !text.endsWith('\n') ? eol : '';
    out.push({ start: at, end: at, text: `${lead}${' '.repeat(column)}${edit.key}: ${scalarText(edit.value)}${eol}` });
  }
  return out;
}

/** The same edits on the Document: existing scalars keep their style and comments, new keys go in canonical order. */
export function applyMapEdits(doc: Document, map: YAMLMap, edits: readonly KeyEdit[], order: readonly string[]): void {
  for (const edit of edits) {
    if (edit.value === undefined) {
      map.delete(edit.key);
      continue;
    }
    const pair = findPair(map, edit.key);
    if (pair && isScalar(pair.value)) {
      pair.value.value = edit.value;
    } else if (pair) {
      pair.value = doc.createNode(edit.value);
    } else {
      const before = predecessor(map, edit.key, order, new Set());
      const index = before ? map.items.indexOf(before) + 1 : map.items.length;
      map.items.splice(index, 0, doc.createPair(edit.key, edit.value));
    }
  }
}

/** The root mapping, or null for an empty document (loadDocument refuses every other root). */
export function rootMap(doc: Document.Parsed): YAMLMap | null {
  return isMap(doc.contents) ? doc.contents : null;
}

/** Replaces the whole (empty) document with `value`. */
export function setRoot(doc: Document.Parsed, value: unknown): void {
  doc.contents = doc.createNode(value) as unknown as Document.Parsed['contents'];
}

/** Lines for a new block mapping: `key: value` at `column`. */
export function blockLines(entries: readonly KeyEdit[], column: number, eol: string): string {
  return entries
    .filter((entry): entry is { key: string; value: string } => entry.value !== undefined)
    .map((entry) => `${' '.repeat(column)}${entry.key}: ${scalarText(entry.value)}${eol}`)
    .join('');
}

/** Appends `block` at the end of the file, on a line of its own. */
export function appendAtEnd(text: string, block: string): TextEdit {
  const lead = text.length > 0 && !text.endsWith('\n') ? eolOf(text) : '';
  return { start: text.length, end: text.length, text: `${lead}${block}` };
}

export function applyTextEdits(text: string, edits: readonly TextEdit[]): string | undefined {
  const sorted = [...edits].sort((a, b) => a.start - b.start || a.end - b.end);
  let out = '';
  let cursor = 0;
  for (const edit of sorted) {
    if (edit.start < cursor) return undefined;
    out += text.slice(cursor, edit.start) + edit.text;
    cursor = edit.end;
  }
  return out + text.slice(cursor);
}

function data(doc: Document): string {
  return JSON.stringify(doc.toJS({ maxAliasCount: -1 }));
}

/** The spliced text when it means exactly what the edited Document means, otherwise the Document's text. */
export function finish(original: string, doc: Document, edits: readonly TextEdit[] | undefined): string {
  if (edits) {
    const spliced = applyTextEdits(original, edits);
    if (spliced !== undefined) {
      const check = parseDocument(spliced);
      if (check.errors.length === 0 && data(check) === data(doc)) return spliced;
    }
  }
  const text = doc.toString({ lineWidth: 0, indent: indentUnit(original), indentSeq: indentsSequences(original) });
  return eolOf(original) === '\r\n' ? text.replace(/\r?\n/g, '\r\n') : text;
}

/**
 * A scalar read under the failsafe schema (every scalar a string, so `tag: 1.10` stays "1.10"), with
 * YAML's plain nulls (``, `~`, `null`) read as absent. Collections read as undefined.
 */
export function stringValue(node: unknown): string | undefined {
  if (!isScalar(node) || typeof node.value !== 'string') return undefined;
  if (node.type === 'PLAIN' && /^(?:|~|null|Null|NULL)$/.test(node.value)) return undefined;
  return node.value;
}
