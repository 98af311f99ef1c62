import { describe, expect, it } from 'vitest';
import { readBoundedBody } from './bounded-body.js';

/** A body of `pieces` pieces of `size` bytes, made as they are read; counts the pieces pulled. */
function endless(size: number, pieces = Number.POSITIVE_INFINITY, headers: Record<string, string> = {}) {
  const pulled = { count: 0 };
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent++ >= pieces) return controller.close();
      pulled.count++;
      controller.enqueue(new Uint8Array(size).fill(0x61));
    },
  });
  return { response: new Response(body, { headers }), pulled };
}

describe('readBoundedBody', () => {
  it('reads a body within the bound whole', async () => {
    const { response } = endless(10, 3);
    expect(await readBoundedBody(response, { maxBytes: 30 })).toHaveLength(30);
  });

  it('stops an endless body just past the bound: the error, or the first maxBytes without one', async () => {
    const refused = endless(1024);
    await expect(readBoundedBody(refused.response, { maxBytes: 4096, tooLarge: () => new Error('too large') })).rejects.toThrow('too large');
    expect(refused.pulled.count).toBeLessThanOrEqual(6);

    const cut = endless(1000);
    const bytes = await readBoundedBody(cut.response, { maxBytes: 2500 });
    expect(bytes).toHaveLength(2500);
    expect(cut.pulled.count).toBeLessThanOrEqual(5);
  });

  it('refuses by Content-Length before reading a byte', async () => {
    const { response, pulled } = endless(1024, 1, { 'content-length': '999999' });
    await expect(readBoundedBody(response, { maxBytes: 1000, tooLarge: () => new Error('declared too large') })).rejects.toThrow('declared too large');
    expect(pulled.count).toBeLessThanOrEqual(1);
  });
});
