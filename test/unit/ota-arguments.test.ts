import { describe, expect, it } from 'vitest';
import { parseCommand, usageOf } from '../../agent/cli/command.js';
import { parseHistoryLimit, parseVersionArgument } from '../../agent/control/arguments.js';
import { InvalidArgumentError } from '../../agent/errors.js';

function refusal(parse: () => unknown): InvalidArgumentError {
  try {
    parse();
  } catch (err) {
    if (err instanceof InvalidArgumentError) return err;
    throw err;
  }
  throw new Error('expected an InvalidArgumentError');
}

describe('version arguments', () => {
  it.each([
    ['1.2.0', '1.2.0'],
    ['v1.2.0', '1.2.0'],
    ['1.5.0-beta.2', '1.5.0-beta.2'],
    ['v2.0.0-rc.1+build.7', '2.0.0-rc.1'],
  ])('%s is the version %s', (input, canonical) => {
    expect(parseVersionArgument(input, 'VERSION')).toBe(canonical);
  });

  it.each([
    ['../../etc/passwd'],
    ['1.2'],
    ['latest'],
    ['1.2.0/../x'],
    ['01.2.0'],
    [''],
    [` 1.2.0`],
    [`1.0.0-${'a'.repeat(200)}`],
  ])('%j is refused with a message naming the argument and the value', (input) => {
    const err = refusal(() => parseVersionArgument(input, 'VERSION'));
    expect(err.argument).toBe('VERSION');
    expect(err.message).toMatch(
      /^VERSION: expected a version such as 1\.2\.0 or v1\.2\.0-beta\.1, got "/,
    );
    expect(err.message.length).toBeLessThan(200);
  });

  it('refuses what is not a string, saying what came', () => {
    expect(refusal(() => parseVersionArgument(5, 'version')).message).toMatch(/, got 5$/);
    expect(refusal(() => parseVersionArgument(undefined, 'version')).message).toMatch(
      /got nothing$/,
    );
    expect(refusal(() => parseVersionArgument(null, 'version')).message).toMatch(/got null$/);
  });
});

describe('history limits', () => {
  it.each([
    ['1', 1],
    ['20', 20],
    ['1000', 1000],
  ])('%s is %d', (input, n) => {
    expect(parseHistoryLimit(input, 'N')).toBe(n);
  });

  it.each([
    ['-5'],
    ['abc'],
    ['0'],
    ['1001'],
    ['2.5'],
    ['1e3'],
    [''],
    [' 5'],
    ['0x10'],
    ['99999999'],
  ])('%j is refused', (input) => {
    expect(refusal(() => parseHistoryLimit(input, 'N')).message).toBe(
      `N: expected a whole number from 1 to 1000, got ${JSON.stringify(input)}`,
    );
  });
});

describe('ota command lines', () => {
  it('parses every command into typed values', () => {
    expect(parseCommand([])).toEqual({ name: 'help' });
    expect(parseCommand(['--help'])).toEqual({ name: 'help' });
    expect(parseCommand(['status', '--json'])).toEqual({ name: 'status', json: true });
    expect(parseCommand(['history'])).toEqual({
      name: 'history',
      json: false,
      limit: 20,
      verbose: false,
    });
    expect(parseCommand(['history', '5', '--json'])).toEqual({
      name: 'history',
      json: true,
      limit: 5,
      verbose: false,
    });
    expect(parseCommand(['history', '--verbose'])).toEqual({
      name: 'history',
      json: false,
      limit: 20,
      verbose: true,
    });
    expect(parseCommand(['actions'])).toEqual({ name: 'actions', json: false, limit: 20 });
    expect(parseCommand(['actions', '5', '--json'])).toEqual({
      name: 'actions',
      json: true,
      limit: 5,
    });
    expect(() => parseCommand(['actions', '-1'])).toThrow(/N: expected a whole number/);
    expect(() => parseCommand(['actions', '--verbose'])).toThrow(/option: expected --json/);
    expect(parseCommand(['rollback'])).toEqual({
      name: 'rollback',
      json: false,
      version: undefined,
    });
    expect(parseCommand(['rollback', 'v1.0.0'])).toEqual({
      name: 'rollback',
      json: false,
      version: '1.0.0',
    });
    expect(parseCommand(['pin', '1.1.0'])).toEqual({ name: 'pin', json: false, version: '1.1.0' });
    expect(parseCommand(['retry', '1.1.0'])).toEqual({
      name: 'retry',
      json: false,
      version: '1.1.0',
    });
    expect(parseCommand(['unpin'])).toEqual({ name: 'unpin', json: false });
  });

  it.each([
    [['pin', '../../etc/passwd'], 'VERSION'],
    [['rollback', '../../etc/passwd'], 'VERSION'],
    [['pin'], 'VERSION'],
    [['retry'], 'VERSION'],
    [['history', '-5'], 'N'],
    [['history', 'abc'], 'N'],
    [['history', '5', '6'], 'extra argument'],
    [['unpin', '1.0.0'], 'extra argument'],
    [['status', '--verbos'], 'option'],
    [['status', '--verbose'], 'option'],
    [['history', '--verbos'], 'option'],
    [['rolback'], 'command'],
    [['toString'], 'command'],
  ])('%j is refused, naming %s', (argv, argument) => {
    expect(refusal(() => parseCommand(argv)).argument).toBe(argument);
  });

  it('gives each command its usage line', () => {
    expect(usageOf('pin')).toBe('usage: ota pin VERSION [--json]');
    expect(usageOf('history')).toBe('usage: ota history [N] [--verbose] [--json]');
    expect(usageOf('rollback')).toBe('usage: ota rollback [VERSION] [--json]');
  });
});
