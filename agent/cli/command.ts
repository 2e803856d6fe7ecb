import { HISTORY_DEFAULT, parseHistoryLimit, parseVersionArgument } from '../control/arguments.js';
import { InvalidArgumentError } from '../errors.js';

export const USAGE = `usage: ota <command> [--json]
  status              device, running and previous version, activity, last poll, failed versions
  history [N] [--verbose]
                      the last N deployments (default ${HISTORY_DEFAULT}), one line each;
                      --verbose adds every line of each reason (e.g. a failed build's output);
                      then the last N remote actions
  actions [N]         the last N remote actions (id, action, outcome, time)
  check               poll for a new release now
  rollback [VERSION]  back to the previous version, or to a kept VERSION
  pin VERSION         stay on VERSION (switching to it if it is kept); ignore new releases
  unpin               follow releases again
  retry VERSION       clear VERSION's failed mark so it may be deployed again
  fleet               all devices by version and group, and each rollout's outcomes
                      (read from the central database)
  health              exit 0 if this container's agent answers on its own socket (the
                      health check of agents the agent started itself)`;

/** The usage line of one command, e.g. "usage: ota pin VERSION [--json]". */
export function usageOf(name: string): string {
  const line = USAGE.split('\n').find((l) => l.startsWith(`  ${name} `));
  const synopsis = line?.trim().split(/\s{2,}/)[0] ?? name;
  return `usage: ota ${synopsis} [--json]`;
}

/** A command line of `ota`, every argument parsed into its type. */
export type Command =
  | { readonly name: 'help' }
  | {
      readonly name: 'status' | 'check' | 'unpin' | 'fleet' | 'health';
      readonly json: boolean;
    }
  | {
      readonly name: 'history';
      readonly json: boolean;
      readonly limit: number;
      /** Every line of each reason (a failed build's output), not only the first. */
      readonly verbose: boolean;
    }
  | { readonly name: 'actions'; readonly json: boolean; readonly limit: number }
  | { readonly name: 'rollback'; readonly json: boolean; readonly version: string | undefined }
  | { readonly name: 'pin' | 'retry'; readonly json: boolean; readonly version: string };

export type CommandName = Exclude<Command['name'], 'help'>;

/** What each command takes after its name, for the checks and the error messages. */
const POSITIONAL: Record<CommandName, readonly string[]> = {
  status: [],
  check: [],
  unpin: [],
  fleet: [],
  health: [],
  history: ['N'],
  actions: ['N'],
  rollback: ['VERSION'],
  pin: ['VERSION'],
  retry: ['VERSION'],
};

const isCommandName = (name: string): name is CommandName => Object.hasOwn(POSITIONAL, name);

/**
 * Parses `ota`'s arguments (after the program name). Throws InvalidArgumentError naming the
 * argument for an unknown command or option, a missing or extra argument, or a value that
 * does not parse, so that nothing malformed is ever sent to the agent.
 */
export function parseCommand(argv: readonly string[]): Command {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    return { name: 'help' };
  }
  if (!isCommandName(name)) {
    throw new InvalidArgumentError('command', `one of ${Object.keys(POSITIONAL).join(', ')}`, name);
  }
  // "--" starts an option; "-5" is a value (and fails as one), so `history -5` names N.
  const options = rest.filter((a) => a.startsWith('--'));
  const values = rest.filter((a) => !a.startsWith('--'));
  const allowed = name === 'history' ? ['--json', '--verbose'] : ['--json'];
  for (const option of options) {
    if (!allowed.includes(option)) {
      throw new InvalidArgumentError('option', allowed.join(' or '), option);
    }
  }
  const json = options.includes('--json');
  const names = POSITIONAL[name];
  if (values.length > names.length) {
    const extra = values[names.length];
    const takes = names.length ? `only ${names.join(' ')}` : 'no argument';
    throw new InvalidArgumentError('extra argument', takes, extra);
  }
  const [value] = values;
  switch (name) {
    case 'history':
      return {
        name,
        json,
        limit: value === undefined ? HISTORY_DEFAULT : parseHistoryLimit(value, 'N'),
        verbose: options.includes('--verbose'),
      };
    case 'actions':
      return {
        name,
        json,
        limit: value === undefined ? HISTORY_DEFAULT : parseHistoryLimit(value, 'N'),
      };
    case 'rollback':
      return {
        name,
        json,
        version: value === undefined ? undefined : parseVersionArgument(value, 'VERSION'),
      };
    case 'pin':
    case 'retry':
      return { name, json, version: parseVersionArgument(value, 'VERSION') };
    default:
      return { name, json };
  }
}
