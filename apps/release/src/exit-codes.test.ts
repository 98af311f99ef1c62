import { CommanderError } from 'commander';
import { expect, it } from 'vitest';
import { reportError } from './exit-codes.js';

class PolicyError extends Error {
  readonly code = 'E_TAG_NOT_ON_MAIN';
  readonly exitCode = 3;
}

it.each([
  ['a typed policy error', new PolicyError('not on main'), 3, 'E_TAG_NOT_ON_MAIN'],
  ['a usage error from the parser', new CommanderError(1, 'commander.unknownOption', "error: unknown option '--x'"), 2, 'E_USAGE'],
  ['a system error', Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' }), 1, 'E_SYSTEM_EACCES'],
  ['a bug', new TypeError('x is undefined'), 1, 'E_INTERNAL'],
])('maps %s to its exit code', (_what, error, exitCode, code) => {
  expect(reportError(error)).toMatchObject({ exitCode, code });
});

it.each([
  ['a message without a next step gets one for its exit code', new PolicyError('not on main'), 'refused by policy: this needs a decision'],
  ['an operational failure says it is safe to retry', Object.assign(new Error('registry 127.0.0.1:5000 answered 503'), { code: 'E_REGISTRY', exitCode: 1 }), 'safe to retry'],
  ['bad input points at --help', Object.assign(new Error('unknown service "web" (services.json has: api, vault)'), { code: 'E_TAG_INVALID', exitCode: 2 }), 'fix the input named above'],
])('%s', (_what, error, hint) => {
  expect(reportError(error).hint).toContain(hint);
});

it.each([
  'api/v9.0.0 is not reachable from origin/main: tag a commit of main instead.',
  'the first release of api needs an explicit version: run `slipway release api --version 0.1.0`',
  'production needs 1 approval from release-manager (--approved-by); got none',
  'services.json sets "repository", so GitHub releases need a token: set GITHUB_TOKEN.',
])('a message that already says what to do gets no generic hint: %s', (message) => {
  expect(reportError(Object.assign(new Error(message), { code: 'E_X', exitCode: 3 })).hint).toBeUndefined();
});
