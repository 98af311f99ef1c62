import { inspectTag } from '@slipway/tag';
import type { Handler } from '../context.js';
import { table } from '../output.js';
import { openWorkspace } from '../workspace.js';

/** `slipway tag inspect <tag>`: what a tag means under the workspace's scheme (CONTRACT §3). */
export const tagInspect: Handler = async ({ args }, ctx) => {
  const ws = await openWorkspace(ctx);
  const tag = String(args['tag']);
  const inspection = inspectTag(tag, { scheme: ws.config.scheme, services: ws.config.services });
  const rows = Object.entries(inspection).map(([key, value]) => [key, value === null ? '-' : String(value)]);
  return { data: inspection, human: table(['field', 'value'], rows) };
};
