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
