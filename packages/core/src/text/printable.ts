/**
 * Text from outside batt (a path, a database name, a tool's stderr, a value from a config file or
 * the environment) made safe to print: it cannot start a line of its own, move the cursor, clear
 * the screen or colour the terminal. Control characters are written as escapes instead: \n, \r,
 * \t, \x1b, \x9b, and the invisible Unicode line separators and direction overrides as \u2028,
 * \u202e. Applied where text is written (log lines, messages, tables, `batt show`), not where it
 * is kept: the catalog and the manifests keep names exactly as they are.
 */

// C0 controls, DEL and C1 controls; Unicode's line and paragraph separators and the
// bidirectional overrides and isolates that reorder what a terminal shows ("Trojan Source").
// eslint-disable-next-line no-control-regex
const unsafe = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

const escape = (c: string): string => {
  const code = c.charCodeAt(0);
  return named[c] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`);
};

/** `text` with every control character escaped; text without any comes back as it is. */
export function printable(text: string): string {
  return text.replace(unsafe, escape);
}

/** `text` cut to `max` characters (with a note of how much was left out), for values repeated in messages. */
export function shortened(text: string, max = 200): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}
