/**
 * What `readBoundedBody` needs of a fetch `Response` (a structural type, so these declarations
 * need neither DOM nor Node typings).
 */
export interface BodySource {
  readonly headers: { get(name: string): string | null };
  readonly body: {
    getReader(): { read(): Promise<{ done: boolean; value?: Uint8Array | undefined }>; cancel(): Promise<void> };
    cancel(): Promise<void>;
  } | null;
}

export interface BoundedBodyOptions {
  /** The most bytes read into memory. */
  maxBytes: number;
  /**
   * The error for a body larger than `maxBytes` (by its Content-Length, or as it arrives). Without
   * one, the first `maxBytes` bytes are returned and the rest is dropped unread (an error body is
   * only read for its message).
   */
  tooLarge?: (() => Error) | undefined;
}

/**
 * A response body read into memory, never more than `maxBytes` of it: a peer answering an
 * endless or huge body costs at most that much. The stream is cancelled as soon as the bound is
 * passed, so nothing past it is downloaded.
 */
export async function readBoundedBody(response: BodySource, { maxBytes, tooLarge }: BoundedBodyOptions): Promise<Uint8Array> {
  if (response.body === null) return new Uint8Array();
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (tooLarge !== undefined && declared > maxBytes) {
    await response.body.cancel();
    throw tooLarge();
  }
  const pieces: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done || value === undefined) break;
    if (total + value.length > maxBytes) {
      await reader.cancel();
      if (tooLarge !== undefined) throw tooLarge();
      pieces.push(value.subarray(0, maxBytes - total));
      total = maxBytes;
      break;
    }
    total += value.length;
    pieces.push(value);
  }
  return concatBytes(pieces, total);
}

/** The pieces as one array; the piece itself when there is only one (no copy). */
export function concatBytes(pieces: readonly Uint8Array[], total = pieces.reduce((sum, piece) => sum + piece.length, 0)): Uint8Array {
  if (pieces.length === 1) return pieces[0] as Uint8Array;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const piece of pieces) {
    out.set(piece, offset);
    offset += piece.length;
  }
  return out;
}
