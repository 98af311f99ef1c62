import { BuildError } from './errors.js';

/** `app/`, `/app`, `./app` → `app`; `''`, `/`, `.` → `''` (the archive root). */
export function normalizePrefix(prefix: string): string {
  const parts = prefix.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new BuildError('layer', 'E_BUILD_INPUT', `layer prefix ${prefix} must stay inside the image root`);
  return parts.join('/');
}
