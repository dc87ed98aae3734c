import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SipHeaders, type SipRequest } from '../../../appliance/sip/message.js';
import { negotiateSessionTimer, SessionTimer } from '../../../appliance/telephony/session-timer.js';

function req(headers: Record<string, string>): SipRequest {
  const h = new SipHeaders();
  for (const [k, v] of Object.entries(headers)) h.append(k, v);
  return { kind: 'request', method: 'INVITE', uri: 'sip:x@y', headers: h, body: Buffer.alloc(0) };
}

describe('RFC 4028 negotiation', () => {
  it('no timer when the UAC neither supports nor asks', () => {
    expect(negotiateSessionTimer(req({}), 1800, 90)).toEqual({ type: 'none' });
  });
  it('inserts our interval with refresher=uac when the UAC supports timers but did not ask', () => {
    expect(negotiateSessionTimer(req({ Supported: 'timer' }), 1800, 90)).toEqual({
      type: 'active',
      intervalSec: 1800,
      refresher: 'uac',
      requireTimer: true,
    });
  });
  it('keeps the UAC interval and refresher choice', () => {
    expect(negotiateSessionTimer(req({ k: 'timer', x: '600;refresher=uas' }), 1800, 90)).toEqual({
      type: 'active',
      intervalSec: 600,
      refresher: 'uas',
      requireTimer: false,
    });
  });
  it('we refresh when the UAC lacks timer support', () => {
    expect(negotiateSessionTimer(req({ 'Session-Expires': '300;refresher=uac' }), 1800, 90)).toMatchObject({
      refresher: 'uas',
      requireTimer: false,
    });
  });
  it('422 below our Min-SE; a larger peer Min-SE raises the floor; bad values are malformed', () => {
    expect(negotiateSessionTimer(req({ 'Session-Expires': '60' }), 1800, 90)).toEqual({ type: 'too_small', minSe: 90 });
    expect(negotiateSessionTimer(req({ Supported: 'timer', 'Min-SE': '2000' }), 1800, 90)).toMatchObject({ intervalSec: 2000 });
    expect(negotiateSessionTimer(req({ 'Session-Expires': 'soon' }), 1800, 90)).toEqual({ type: 'bad_header' });
    expect(negotiateSessionTimer(req({ 'Session-Expires': '300;refresher=me' }), 1800, 90)).toEqual({ type: 'bad_header' });
  });
});

describe('session timer clock', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('refresher=uac: expires at SE - min(32, SE/3) unless refreshed', () => {
    const expired = vi.fn();
    const t = new SessionTimer(90, 'uac', () => {}, expired);
    vi.advanceTimersByTime(59_000);
    t.refreshed();
    vi.advanceTimersByTime(59_000);
    expect(expired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1_000);
    expect(expired).toHaveBeenCalledTimes(1);
    t.stop();
  });

  it('refresher=uas: asks for a refresh at SE/2; stop() cancels', () => {
    const due = vi.fn();
    const t = new SessionTimer(1800, 'uas', due, () => {});
    expect(t.headerValue).toBe('1800;refresher=uas');
    vi.advanceTimersByTime(900_000);
    expect(due).toHaveBeenCalledTimes(1);
    t.refreshed();
    t.stop();
    vi.advanceTimersByTime(2_000_000);
    expect(due).toHaveBeenCalledTimes(1);
  });
});
