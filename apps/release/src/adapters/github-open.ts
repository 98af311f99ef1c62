// The GitHub adapter (Octokit and its plugins), for workspace.ts to import dynamically, on the first
// command that talks to GitHub: a module of our own rather than `import('@slipway/github')`, so that
// other modules may keep importing the library statically (Nx's module-boundary rule forbids mixing
// both for one library) and the bundle keeps Octokit in chunks small commands never read.
export { createGitHub } from '@slipway/github';
