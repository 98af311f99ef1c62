/**
 * The JSON object in `bytes`, or undefined when they are not JSON or not an object. Registries
 * are untrusted: `null`, `[]` or `"x"` are valid JSON that would crash a plain property access.
 */
export function parseJsonObject(bytes: Uint8Array): Record<string, unknown> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
  return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
}
