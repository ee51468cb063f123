/**
 * The decoded segments of a request's raw path (before any `..` is resolved); undefined when one
 * does not decode or is `.`/`..` or holds NUL. An encoded slash stays inside its segment (a run id
 * `tenant/42` is `/runs/tenant%2F42`). The inspector maps no path to a file: its routes match
 * these segments, so no request names a file on disk.
 */
export function pathSegments(pathname: string): string[] | undefined {
  const segments: string[] = [];
  for (const raw of pathname.split('/')) {
    if (raw === '') continue;
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (segment === '.' || segment === '..' || segment.includes('\0')) return undefined;
    segments.push(segment);
  }
  return segments;
}
