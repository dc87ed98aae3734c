/**
 * The cluster as the SIP front sees it: each box of each partition (dispatcher set) of the Kamailio
 * front (provisioning/kamailio, docs/cluster.md) and whether the front sends it new calls, read from
 * the front's JSON-RPC `dispatcher.list`. Read-only; the console's cluster view shows it.
 */

/** One box in one partition, as the front's dispatcher has it. */
export interface FrontBox {
  /** Dispatcher set = partition. */
  readonly set: number;
  /** The box's name (the `name=` attribute of its dispatcher entry), '' when it has none. */
  readonly name: string;
  /** Its SIP address at the front. */
  readonly uri: string;
  /** up: gets new calls; down: failed probes or calls (draining, full, dead); disabled: taken out by hand. */
  readonly state: 'up' | 'down' | 'disabled';
  /** The front keeps probing it with OPTIONS. */
  readonly probing: boolean;
  /** Priority in its set: the home box has the highest. */
  readonly priority: number;
}

interface RpcTarget {
  readonly DEST?: {
    readonly URI?: unknown;
    readonly FLAGS?: unknown;
    readonly PRIORITY?: unknown;
    readonly ATTRS?: { readonly BODY?: unknown };
  };
}

/** dispatcher.list's result as boxes, ordered by set then priority (home box first). */
export function boxesOfDispatcherList(result: unknown): FrontBox[] {
  const records = (result as { RECORDS?: unknown } | null)?.RECORDS;
  if (!Array.isArray(records)) return [];
  const boxes: FrontBox[] = [];
  for (const record of records as { SET?: { ID?: unknown; TARGETS?: unknown } }[]) {
    const set = Number(record.SET?.ID);
    const targets = record.SET?.TARGETS;
    if (!Number.isInteger(set) || !Array.isArray(targets)) continue;
    for (const t of targets as RpcTarget[]) {
      const flags = typeof t.DEST?.FLAGS === 'string' ? t.DEST.FLAGS : '';
      const body = typeof t.DEST?.ATTRS?.BODY === 'string' ? t.DEST.ATTRS.BODY : '';
      boxes.push({
        set,
        name: /(?:^|;)name=([^;\s]+)/.exec(body)?.[1] ?? '',
        uri: typeof t.DEST?.URI === 'string' ? t.DEST.URI : '',
        state: flags.startsWith('A') ? 'up' : flags.startsWith('D') ? 'disabled' : 'down',
        probing: flags.includes('P'),
        priority: Number(t.DEST?.PRIORITY) || 0,
      });
    }
  }
  return boxes.sort((a, b) => a.set - b.set || b.priority - a.priority);
}

/** Ask the front at `rpcUrl` (http://<front>:<port>/RPC) for its boxes; null when it cannot be read. */
export async function readFrontBoxes(rpcUrl: string, timeoutMs = 2000): Promise<FrontBox[] | null> {
  try {
    const res = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'dispatcher.list', id: 1 }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) return null;
    const body = (await res.json()) as { result?: unknown };
    return body.result === undefined ? null : boxesOfDispatcherList(body.result);
  } catch {
    return null;
  }
}
