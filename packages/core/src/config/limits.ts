/**
 * Limits on a config file, so that no file can take batt's time or memory (batt runs as root):
 * a regular file (not a FIFO or a device that never ends) of at most 1 MiB, checked before it is
 * read; and, once parsed, nested at most 16 levels deep and holding at most 10 000 values and
 * 4 MiB of text with YAML aliases expanded: a "billion laughs" file is a few lines of aliases
 * that expand to billions of values, and is refused after 10 000.
 */
import { statSync } from 'node:fs';
import { BattError } from '../errors/errors.js';
import { humanBytes } from '../text/names.js';

export const configLimits = { bytes: 1024 * 1024, depth: 16, values: 10_000, text: 4 * 1024 * 1024 };

const hint = 'a batt config is a few KiB and a few levels deep: check that this is the right file (docs/configuration.md shows the shape)';

/** Refuses a config file that is not a regular file or is over 1 MiB, before anything reads it; a missing file passes. */
export function checkConfigFile(file: string): void {
  let stat;
  try {
    stat = statSync(file);
  } catch {
    return;
  }
  if (!stat.isFile()) throw new BattError('CONFIG', `${file} is not a regular file`, { hint: 'a config file is a YAML or JSON file: check the --config path' });
  if (stat.size > configLimits.bytes) throw new BattError('CONFIG', `${file} is ${humanBytes(stat.size)}: a config file may be at most 1 MiB`, { hint });
}

/**
 * Refuses parsed config data nested more than 16 levels deep, or holding more than 10 000 values
 * or 4 MiB of text, counting a value reached through a YAML alias each time it is reached. The
 * walk has no recursion and stops at the first limit, so it is quick whatever the data.
 */
export function checkConfigShape(data: unknown, file: string): void {
  let values = 0;
  let text = 0;
  const stack: [unknown, number][] = [[data, 0]];
  while (stack.length) {
    const [value, depth] = stack.pop()!;
    if (typeof value === 'string') text += value.length;
    if (++values > configLimits.values || text > configLimits.text) {
      throw new BattError('CONFIG', `${file}: the configuration holds more than ${configLimits.values} values or 4 MiB of text once its YAML aliases are expanded`, { hint });
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= configLimits.depth) throw new BattError('CONFIG', `${file}: the configuration is nested more than ${configLimits.depth} levels deep`, { hint });
    for (const child of Object.values(value)) stack.push([child, depth + 1]);
  }
}
