import { tagPrefixIssue } from '@slipway/config';
import { tagPrefixProblem } from '@slipway/tag';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

// services.json validates tagPrefix without depending on @slipway/tag (config is an adapter with
// zod only); the tag grammar must accept exactly the prefixes the config lets through.
describe('tagPrefix: services.json and the tag grammar agree', () => {
  const prefix = fc.oneof(
    fc.stringMatching(/^[A-Za-z0-9._@/-]{1,20}$/),
    fc.stringMatching(/^(?:[a-z0-9._-]{1,8}\/){1,4}$/),
    fc.stringMatching(/^(?:@[a-z0-9._~-]{1,6}\/)?[a-z0-9._~-]{1,8}@$/),
  );
  it.each(['image', 'npm'] as const)('for kind %s', (kind) => {
    fc.assert(
      fc.property(prefix, (p) => {
        expect({ p, config: tagPrefixIssue(p, kind) === undefined }).toEqual({ p, config: tagPrefixProblem(p, kind) === null });
      }),
      { numRuns: 3000 },
    );
  });
});
