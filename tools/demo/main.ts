// `npm run demo`: tells one release end to end on the embedded defaults (see src/demo.ts).
import { runDemo } from './src/demo.js';

const { exitCode } = await runDemo({ out: process.stdout, color: process.stdout.isTTY === true && !process.env['NO_COLOR'] });
process.exitCode = exitCode;
