export { redact } from './redact.js';
export { concatBytes, readBoundedBody } from './bounded-body.js';
export type { BodySource, BoundedBodyOptions } from './bounded-body.js';
