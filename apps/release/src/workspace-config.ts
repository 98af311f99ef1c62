import { resolve } from 'node:path';
import { loadConfig, type LoadedConfig } from '@slipway/config';
import type { CommandContext } from './context.js';

/**
 * The workspace's services.json, validated, found as every command finds it: in --cwd when given,
 * else in the nearest folder above where slipway started. Commands that need only the
 * configuration (`tag inspect`) call this instead of {@link openWorkspace} in ./workspace.ts, so
 * their start never loads the git adapter, the project graph or child_process (issue 19, goal 4).
 */
export function loadWorkspaceConfig(ctx: Pick<CommandContext, 'cwd' | 'processCwd'>): Promise<LoadedConfig> {
  return loadConfig({ cwd: ctx.cwd === undefined ? undefined : resolve(ctx.processCwd, ctx.cwd), start: ctx.processCwd });
}
