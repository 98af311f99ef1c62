import { inspectTag } from '@slipway/tag';
import type { Handler } from '../context.js';
import { table } from '../output.js';
import { loadWorkspaceConfig } from '../workspace-config.js';

/** `slipway tag inspect <tag>`: what a tag means under the workspace's scheme (CONTRACT §3). */
export const tagInspect: Handler = async ({ args }, ctx) => {
  // Only services.json: not openWorkspace, whose git and project-graph adapters this command never uses.
  const { config } = await loadWorkspaceConfig(ctx);
  const tag = String(args['tag']);
  const inspection = inspectTag(tag, { scheme: config.scheme, services: config.services });
  const rows = Object.entries(inspection).map(([key, value]) => [key, value === null ? '-' : String(value)]);
  return { data: inspection, human: table(['field', 'value'], rows) };
};
