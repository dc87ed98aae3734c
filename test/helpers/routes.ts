/** The routes of a running appliance, read from fastify's router. */
import type { Appliance } from '../../appliance/app/app.js';

/** Parse `printRoutes({ commonPrefix: false })` into "METHOD /path" entries. */
export function listRoutes(app: Appliance): string[] {
  const tree = app.http.printRoutes({ commonPrefix: false });
  const stack: string[] = [];
  const out: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)[└├]── (\S+)(?: \(([^)]*)\))?/.exec(line);
    if (m === null) continue;
    const depth = m[1]!.length / 4;
    const parent = depth === 0 ? '' : stack[depth - 1]!;
    const seg = m[2]!;
    const root = seg.startsWith('/') ? seg : `/${seg}`;
    // a radix node continues its parent's text: '/x' a new segment, ':id' after a '/', '.csv' the same segment
    const full = depth === 0 ? root : parent + seg;
    stack[depth] = full;
    stack.length = depth + 1;
    for (const method of (m[3] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean))
      out.push(`${method} ${full}`);
  }
  return out;
}

/** A concrete path for a route pattern: parameters become `1`, a wildcard `x`. */
export function concretePath(route: string): string {
  return route.replace(/:[A-Za-z]+/g, '1').replace(/\*/g, 'x');
}
