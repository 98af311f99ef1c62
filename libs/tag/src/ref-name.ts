/**
 * Why `refs/tags/<name>` would be refused by `git check-ref-format`, or `null` when git accepts it.
 * The rules are git's own (git-check-ref-format(1), refs.c `check_refname_component`), without
 * `--allow-onelevel`/`--refspec-pattern`/`--normalize`: a tag name is checked as it is pushed.
 * (git's "not the single character @" rule is about whole ref names; `refs/tags/@` is valid.)
 */
export function refNameProblem(name: string): string | null {
  if (name === '') return 'it is empty';
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    const char = name[i] as string;
    if (code < 0x20 || code === 0x7f) return `control character ${describeChar(char)} at position ${i} is not allowed in a git ref name`;
    if (' ~^:?*[\\'.includes(char)) return `${describeChar(char)} at position ${i} is not allowed in a git ref name`;
  }
  if (name.includes('..')) return '".." is not allowed in a git ref name';
  if (name.includes('@{')) return '"@{" is not allowed in a git ref name';
  if (name.startsWith('/')) return 'a git ref name cannot start with "/"';
  if (name.endsWith('/')) return 'a git ref name cannot end with "/"';
  if (name.includes('//')) return '"//" (an empty path component) is not allowed in a git ref name';
  if (name.endsWith('.')) return 'a git ref name cannot end with "."';
  for (const component of name.split('/')) {
    if (component.startsWith('.')) return `path component "${component}" starts with ".", which git ref names forbid`;
    if (component.endsWith('.lock')) return `path component "${component}" ends with ".lock", which git ref names forbid`;
  }
  return null;
}

/** True when git would accept `refs/tags/<name>`. */
export function isValidRefName(name: string): boolean {
  return refNameProblem(name) === null;
}

/** OCI/Docker tag limit (distribution spec: `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`). */
export const MAX_IMAGE_TAG_LENGTH = 128;
const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

export function isValidImageTag(tag: string): boolean {
  return IMAGE_TAG.test(tag);
}

/**
 * A branch name as an image tag, like docker/metadata-action's `type=ref,event=branch`: every run
 * of characters outside `[A-Za-z0-9_.-]` becomes "-", leading "." and "-" are dropped (a tag must
 * start with a word character) and the result is cut to 128 characters. `null` if nothing is left.
 */
export function sanitizeImageTag(text: string): string | null {
  const replaced = text.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[.-]+/, '');
  const cut = replaced.slice(0, MAX_IMAGE_TAG_LENGTH);
  return cut === '' ? null : cut;
}

export function describeChar(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  if (code === 0x20) return `${hex} (space)`;
  if (code < 0x20 || code === 0x7f || (code >= 0x80 && code < 0xa0)) return hex;
  return `${hex} "${char}"`;
}
