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
