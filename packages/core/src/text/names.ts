/** A file-name-safe rendering of a target: `/var/www` → `var_www`, `/` → `root`. */
export function artifactBase(target: string): string {
  const name = target
    .replace(/^\/+|\/+$/g, '')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[.-]+/, '_');
  return name === '' ? 'root' : name;
}

/** Bytes for people: 1536 → "1.5 KiB". */
export function humanBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
