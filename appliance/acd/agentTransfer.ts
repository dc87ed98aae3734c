/**
 * What an agent's phone asks for when it transfers an ACD call (REFER on the agent's leg, RFC
 * 3515): the Refer-To read as a place on this box. Pure; the ACD (acdCalls.ts) carries it out.
 *
 * Addressing (docs/acd.md):
 * - `sip:<agentId>@<box>`, or the agent's configured `sipUri` exactly: that agent (their registered
 *   phones and softphones are rung);
 * - `sip:queue-<groupId>@<box>`: that skill group's queue;
 * - any other user at `<box>`: 404 (no such agent or group);
 * - any other host: an external target. The box does not dial out for a transfer yet (no trunk
 *   dialer is wired to the ACD), so it is refused with 403, and so is a target outside
 *   `sip.transferTargets` whatever would carry it out.
 * `<box>` is one of the box's own host names or addresses (`boxHosts`); the port and URI parameters
 * are not compared. A Refer-To with URI headers (`?Replaces=...`: an attended transfer) is refused
 * with 403 here; the ACD reads a Replaces naming an agent's consult call first (consultCalls.ts:
 * attended transfer), so this refusal is left for boxes without consult calls.
 */

/** The parts of a configured agent a Refer-To may name. */
export interface TransferAgentRef {
  readonly id: string;
  readonly sipUri: string;
}

export interface TransferPlaces {
  /** The box's own hosts, lower case (sip.host and the addresses phones reach it on). */
  readonly boxHosts: ReadonlySet<string>;
  readonly agents: readonly TransferAgentRef[];
  readonly groupIds: readonly string[];
  /** Why callers may not be sent to `uri` (sip.transferTargets), null when they may. */
  readonly problem: (uri: string) => string | null;
}

/** Why a transfer was refused (audit and metrics; never the target's number). */
export type TransferRefusal =
  | 'attended-unsupported'
  | 'malformed'
  | 'unknown-agent'
  | 'same-agent'
  | 'target-not-allowed'
  | 'external-unsupported'
  /** A REFER with Replaces naming no consult call of the agent's (RFC 3891: 481). */
  | 'unknown-replaces'
  /** A softphone asked to transfer a call it is not on (softphoneControl.ts: 481). */
  | 'not-on-call'
  /** A transfer to a queue whose group is closed now (business hours, holiday: 480). */
  | 'queue-closed'
  /** A transfer to a full queue (`maxQueued`) that no adjacent group takes (486). */
  | 'queue-full';

export type TransferTarget =
  | { readonly kind: 'agent'; readonly agentId: string }
  | { readonly kind: 'group'; readonly groupId: string }
  | { readonly kind: 'refused'; readonly status: 403 | 404; readonly reason: TransferRefusal; readonly external: boolean };

/** The prefix of a queue's user part: `sip:queue-<groupId>@<box>`. */
export const QUEUE_USER_PREFIX = 'queue-';

const URI = /^sips?:(?:([^@;?]+)@)?(\[[^\]]+\]|[^:;?]+)(?::\d+)?([^?]*)(\?.*)?$/i;

/** Read a Refer-To URI as a place on this box, or a refusal. */
export function transferTarget(uri: string, places: TransferPlaces): TransferTarget {
  const m = URI.exec(uri.trim());
  if (m === null) return { kind: 'refused', status: 403, reason: 'malformed', external: false };
  if (m[4] !== undefined) return { kind: 'refused', status: 403, reason: 'attended-unsupported', external: false };
  const user = m[1] === undefined ? '' : decodeUser(m[1]);
  const host = m[2]!.toLowerCase().replace(/^\[|\]$/g, '');
  const configured = places.agents.find((a) => sameUri(a.sipUri, uri));
  if (configured !== undefined) return { kind: 'agent', agentId: configured.id };
  if (!places.boxHosts.has(host)) {
    const reason = places.problem(uri) === null ? 'external-unsupported' : 'target-not-allowed';
    return { kind: 'refused', status: 403, reason, external: true };
  }
  if (user.startsWith(QUEUE_USER_PREFIX)) {
    const groupId = user.slice(QUEUE_USER_PREFIX.length);
    if (places.groupIds.includes(groupId)) return { kind: 'group', groupId };
  } else if (places.agents.some((a) => a.id === user)) {
    return { kind: 'agent', agentId: user };
  }
  return { kind: 'refused', status: 404, reason: 'unknown-agent', external: false };
}

function decodeUser(user: string): string {
  try {
    return decodeURIComponent(user);
  } catch {
    return user;
  }
}

/** Two SIP URIs naming the same place: scheme and host case-insensitive, the user exact. */
function sameUri(a: string, b: string): boolean {
  const norm = (u: string): string => {
    const at = u.indexOf('@');
    return at < 0 ? u.toLowerCase() : `${u.slice(0, at).replace(/^sips?:/i, (s) => s.toLowerCase())}@${u.slice(at + 1).toLowerCase()}`;
  };
  return norm(a.trim()) === norm(b.trim());
}
