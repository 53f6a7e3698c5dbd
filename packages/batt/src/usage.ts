/**
 * yargs' own failure messages ("Invalid values: Argument: which, Given: …") rewritten in batt's
 * voice: one line that names what was wrong, the valid choices, and a hint naming the command's
 * help. Messages this does not know pass through with the same hint.
 */
import { BattError, didYouMean } from '@batt/core/errors/errors';
import { shortened } from '@batt/core/text/printable';

/** What a command's required positionals are, for "missing" messages. */
const required: Record<string, string> = {
  restore: '<run>: a run id from `batt runs`, or latest',
  show: '<run>: a run id from `batt runs`, or latest',
  accept: '<run>: the run id `batt runs` shows as suspect',
  enable: '<services..>: the services to enable, e.g. batt enable file mysql',
  disable: '<services..>: the services to disable',
  catalog: '<action>: check or rebuild',
};

const list = (text: string): string[] => [...text.matchAll(/"([^"]*)"/g)].map((m) => m[1]);

export interface UsageContext {
  /** The command being run ('' for the backup command). */
  command: string;
  /** Every option and positional the command takes, without dashes. */
  options: readonly string[];
  /** The arguments as given. */
  argv: readonly string[];
}

export function usageError(message: string, ctx: UsageContext): BattError {
  const help = `see \`batt ${ctx.command ? `${ctx.command} ` : ''}--help\``;
  const fail = (text: string, hint = help): BattError => new BattError('USAGE', text, { hint });
  // Printed after "batt: ", so the command's name alone.
  const where = ctx.command || 'batt';
  const prefix = ctx.command ? `${ctx.command}: ` : '';
  const passed = (name: string): boolean => ctx.argv.some((a) => a === `--${name}` || a.startsWith(`--${name}=`));

  const invalid = [...message.matchAll(/Argument: ([\w-]+), Given: (.*?), Choices: (.*)/g)];
  if (invalid.length) {
    const [, name, given, choices] = invalid[0];
    const valid = list(choices);
    const value = list(given)[0] ?? given;
    const guess = didYouMean(value, valid);
    const positional = !passed(name);
    return fail(
      `${positional ? where : `--${name}`}: "${value}" is not one of ${valid.join(', ')}${guess ? `; did you mean "${guess}"?` : ''}`,
      `e.g. batt ${ctx.command ? `${ctx.command} ` : ''}${positional ? '' : `--${name} `}${guess ?? valid[0]}; ${help}`,
    );
  }
  const unknown = /^Unknown arguments?: (.*)$/s.exec(message);
  if (unknown) {
    const words = unknown[1].split(', ').map((w) => w.trim());
    const option = words.find((w) => passed(w) || ctx.argv.some((a) => w.length === 1 && /^-[^-]/.test(a) && a.includes(w)));
    if (option !== undefined) {
      const guess = didYouMean(
        option,
        ctx.options.filter((o) => o.length > 1),
      );
      return fail(`${prefix}unknown option ${option.length === 1 ? '-' : '--'}${option}${guess ? `; did you mean --${guess}?` : ''}`);
    }
    return fail(`${prefix}unexpected argument${words.length > 1 ? 's' : ''} ${words.map((w) => `"${w}"`).join(', ')}`);
  }
  if (/^Not enough non-option arguments/.test(message)) {
    return fail(`${where} needs ${required[ctx.command] ?? 'more arguments'}`);
  }
  const missing = /^Missing required arguments?: (.*)$/.exec(message);
  if (missing) {
    const names = missing[1].split(', ');
    return fail(`${where} needs ${names.map((n) => `--${n}`).join(' and ')}`, `e.g. batt ${ctx.command} ${names.map((n) => `--${n} N`).join(' ')}; ${help}`);
  }
  if (/^Too many non-option arguments/.test(message)) return fail(`${prefix}too many arguments`);
  const following = /^Not enough arguments following: (.*)$/.exec(message);
  if (following) return fail(`--${following[1]} needs a value`);
  return fail(message.replace(/\s*\n\s*/g, ' '));
}

/** A flag that takes one value, given more than once: "--path is given 2 times ("a", "b"): give it once". */
export function givenTwice(name: string, values: readonly unknown[]): never {
  throw new BattError('USAGE', `--${name} is given ${values.length} times (${values.map((v) => JSON.stringify(shortened(String(v), 80))).join(', ')}): give it once`, {
    hint: 'see `batt --help`',
  });
}
