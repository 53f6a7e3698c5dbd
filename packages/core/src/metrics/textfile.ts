/**
 * The Prometheus text exposition format (version 0.0.4), written by its specification: one
 * `# HELP` and one `# TYPE` line per family, then its samples, label values escaped (`\`, `"` and
 * newline), the help text escaped (`\` and newline). Hand-written rather than prom-client's: a file
 * written once per run from the catalog needs no registry of live metrics, and this is the whole
 * of the format batt uses (gauges only).
 */

export interface Sample {
  labels?: Record<string, string>;
  value: number;
}

export interface Family {
  /** [a-zA-Z_:][a-zA-Z0-9_:]*, starting `batt_`. */
  name: string;
  help: string;
  type: 'gauge';
  samples: Sample[];
}

export const escapeLabel = (value: string): string => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapeHelp = (text: string): string => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

/** A sample value as the format writes it: Go-style NaN and infinities. */
function number(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** The families as a textfile; a family without samples is left out. */
export function exposition(families: readonly Family[]): string {
  const lines: string[] = [];
  for (const f of families) {
    if (f.samples.length === 0) continue;
    lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const labels = Object.entries(s.labels ?? {})
        .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
        .join(',');
      lines.push(`${f.name}${labels ? `{${labels}}` : ''} ${number(s.value)}`);
    }
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}
