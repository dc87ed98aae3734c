/**
 * A caller who withholds the number has no caller hash: every anonymous call hashing to the same
 * value would make all of them one caller - one profile, one repeat caller, and one customer whose
 * screen-pop shows an agent the other anonymous callers' calls and summaries.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../../appliance/store/database.js';
import { testCallManager } from '../../helpers/calls.js';

describe('caller hash of a withheld number', () => {
  let store: Store | null = null;
  afterEach(() => {
    store?.close();
    store = null;
  });

  it('is null for anonymous, restricted or unknown callers and a From without a user part', () => {
    const t = testCallManager('withheld', { transcribers: null });
    store = t.store;
    const hashOf = (from: string) => {
      const call = t.calls.startCall({ source: 'sip', callerNumber: from });
      return t.store.calls.get(call.id)!.callerHash;
    };
    for (const from of [
      '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=1',
      '<sip:Anonymous@trunk.example>;tag=2',
      '"Restricted" <sip:restricted@10.0.0.1>;tag=3',
      '<sip:unknown@10.0.0.1>',
      '"Withheld" <sip:withheld@pbx.example>;tag=4',
      '<sip:+15550100@anonymous.invalid>',
      '<sip:10.0.0.1>;tag=5',
    ])
      expect(hashOf(from), from).toBeNull();
    // a number, or a named SIP user, still has one
    expect(hashOf('"Test Caller" <sip:+15550100@127.0.0.1>;tag=6')).toMatch(/^[0-9a-f]{32}$/);
    expect(hashOf('<sip:alice@pbx.example>')).toMatch(/^[0-9a-f]{32}$/);
  });
});
