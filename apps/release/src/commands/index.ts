import type { Handler } from '../context.js';
import { affected } from './affected.js';
import { check } from './check.js';
import { ci } from './ci.js';
import { history } from './history.js';
import { imageCopy, imageResolve, imageTags } from './image.js';
import { plan } from './plan.js';
import { promote } from './promote.js';
import { publish } from './publish.js';
import { release } from './release.js';
import { reserve } from './reserve.js';
import { rollback } from './rollback.js';
import { status } from './status.js';
import { tagInspect } from './tag-inspect.js';
import { verify } from './verify.js';

/** Handlers by command name. A command of CONTRACT §3 without one here says "not built yet" and exits 2. */
export const handlers: Partial<Record<string, Handler>> = {
  'tag inspect': tagInspect,
  plan,
  release,
  check,
  affected,
  'image resolve': imageResolve,
  'image copy': imageCopy,
  'image tags': imageTags,
  publish,
  verify,
  ci,
  reserve,
  promote,
  rollback,
  status,
  history,
};
