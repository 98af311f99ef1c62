// Builds one layer image from a folder at a commit, straight from git's objects, and pushes it into
// an OCI layout, in a process of its own, so its peak RSS is the build's and nothing else's.
// Prints one JSON line: { digest, layer, maxRssMiB }. Used by layer-build.test.ts and
// bench/layer-build.bench.ts.
//
//   node --conditions=@slipway/source --import tsx layer-build-child.ts <repo> <commit> <path> <layout> <spool>
import { createGit } from '@slipway/git';
import { buildLayerImage, openOciLayout, pushImage } from '@slipway/registry';

const [repo, commit, path, layout, spool] = process.argv.slice(2);
if (!repo || !commit || !path || !layout || !spool) throw new Error('usage: layer-build-child <repo> <commit> <path> <layout> <spool>');
const tree = await createGit({ cwd: repo }).committedTree({ commit, path });
const image = await buildLayerImage({ from: 'scratch', tree, spoolDir: spool, entrypoint: ['/app/run'], sourceDateEpoch: 1_700_000_000 });
await pushImage({ registry: openOciLayout(layout), repository: 'app', image, tags: ['v1'] });
const layer = image.layers.at(-1);
process.stdout.write(`${JSON.stringify({ digest: image.manifest.digest, layer: layer?.digest, layerBytes: layer?.size, maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`);
