/**
 * Staffing: Erlang C against published worked examples and large-traffic reference values, and
 * Erlang A (M/M/n+M) against a seeded discrete-event simulation of the same queue and its
 * patience → ∞ limit (Erlang C).
 */
import { describe, expect, it } from 'vitest';
import {
  erlangAFigures,
  erlangB,
  erlangC,
  erlangCFigures,
  staffErlangA,
  staffErlangC,
  type StaffingInput,
} from '../../../appliance/forecast/erlang.js';

describe('Erlang C', () => {
  it('matches the Call Centre Helper worked example (100 calls / 30 min, AHT 180 s, 80/20, max occupancy 85%, shrinkage 30%)', () => {
    // "Erlang C Formula – Made Simple With an Easy Worked Example" (callcentrehelper.com): A = 10 Erl,
    // 13 agents give SL 79.6 % (just short), 14 agents P(wait) 17.41 %, SL 88.84 %, ASA 7.8 s,
    // occupancy 71.4 %, and 14 / (1 - 0.3) = 20 scheduled. The same figures follow by hand from
    // P(w) = X / (X + Y), X = A^N/N! · N/(N-A), Y = Σ_{i<N} A^i/i!.
    expect(erlangC(13, 10)).toBeCloseTo(0.2853, 4);
    expect(erlangC(14, 10)).toBeCloseTo(0.1741, 4);
    expect(erlangCFigures(13, 10, 180, 20).serviceLevel).toBeCloseTo(0.7956, 4);
    const r = staffErlangC({
      callsPerInterval: 100,
      intervalSec: 1800,
      ahtSec: 180,
      serviceLevel: 0.8,
      targetSec: 20,
      maxOccupancy: 0.85,
      shrinkage: 0.3,
    });
    expect(r).toMatchObject({ model: 'erlang-c', agents: 14, scheduled: 20, abandonRate: 0 });
    expect(r.trafficErlangs).toBeCloseTo(10, 10);
    expect(r.serviceLevel).toBeCloseTo(0.8884, 4);
    expect(r.asaSec).toBeCloseTo(7.84, 2);
    expect(r.occupancy).toBeCloseTo(10 / 14, 10);
  });

  it('matches the Westbay Engineers example (360 calls / 30 min, 4 min calls, 55 agents, 15 s target)', () => {
    // "The Erlang-C Formula" (Westbay Engineers): A = 48 Erl, occupancy 87.3 %, P(wait) 23.87 %,
    // ASA 8.18 s, 84.6 % answered within 15 s.
    const f = erlangCFigures(55, 48, 240, 15);
    expect(f.pWait).toBeCloseTo(0.2387, 4);
    expect(f.asaSec).toBeCloseTo(8.18, 2);
    expect(f.serviceLevel).toBeCloseTo(0.8459, 4);
    expect(f.occupancy).toBeCloseTo(0.8727, 4);
  });

  it('stays exact for thousands of erlangs (reference values from a log-space sum of A^k/k!)', () => {
    expect(erlangC(1050, 1000)).toBeCloseTo(0.0744017740374, 10);
    expect(erlangC(1030, 1000)).toBeCloseTo(0.2489087858435, 10);
    expect(erlangC(5100, 5000)).toBeCloseTo(0.1028814136012, 10);
    expect(erlangC(300, 280)).toBeCloseTo(0.1638141692929, 10);
    expect(erlangC(10, 12)).toBe(1);
    expect(erlangB(0, 5)).toBe(1);
  });

  it('adds agents for an ASA target and for an occupancy cap, none for no calls', () => {
    const base: StaffingInput = { callsPerInterval: 100, intervalSec: 1800, ahtSec: 180, serviceLevel: 0.8, targetSec: 20, shrinkage: 0 };
    expect(staffErlangC(base).agents).toBe(14);
    expect(staffErlangC({ ...base, asaTargetSec: 5 }).agents).toBe(15); // ASA 7.84 s at 14, 3.67 s at 15
    expect(staffErlangC({ ...base, maxOccupancy: 0.6 }).agents).toBe(17); // 10/16 = 0.625 > 0.6
    const none = staffErlangC({ ...base, callsPerInterval: 0 });
    expect(none).toMatchObject({ agents: 0, scheduled: 0, serviceLevel: 1 });
    expect(() => staffErlangC({ ...base, shrinkage: 1 })).toThrow(RangeError);
  });

  it('staffs 1000 erlangs without overflow', () => {
    const r = staffErlangC({ callsPerInterval: 5000, intervalSec: 900, ahtSec: 180, serviceLevel: 0.9, targetSec: 15, shrinkage: 0.35 });
    expect(r.agents).toBeGreaterThan(1000);
    expect(r.agents).toBeLessThan(1060);
    expect(r.serviceLevel).toBeGreaterThanOrEqual(0.9);
    expect(erlangCFigures(r.agents - 1, 1000, 180, 15).serviceLevel).toBeLessThan(0.9);
  });
});

/** mulberry32. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * M/M/n+M, first come first served, simulated call by call: a call takes the earliest free agent
 * unless its patience runs out first (then it leaves without taking an agent). Later calls never
 * change an earlier call's fate under FCFS, so this is exact. Batch means give the standard error.
 */
function simulate(n: number, a: number, ahtSec: number, patienceSec: number, targetSec: number, calls: number, seed: number) {
  const u = rng(seed);
  const exp = (mean: number) => -mean * Math.log(1 - u());
  const lambda = a / ahtSec;
  const free = new Float64Array(n);
  let t = 0;
  const warm = Math.floor(calls / 20);
  const batches = 20;
  const per = Math.floor((calls - warm) / batches);
  const sl: number[] = [];
  const ab: number[] = [];
  const asa: number[] = [];
  let inSl = 0;
  let nAb = 0;
  let nServed = 0;
  let wait = 0;
  for (let i = 0; i < warm + per * batches; i++) {
    t += exp(1 / lambda);
    let k = 0;
    for (let j = 1; j < n; j++) if (free[j]! < free[k]!) k = j;
    const start = Math.max(t, free[k]!);
    const w = start - t;
    const patience = exp(patienceSec);
    const served = w <= patience;
    if (served) free[k] = start + exp(ahtSec);
    if (i < warm) continue;
    if (served) {
      nServed++;
      wait += w;
      if (w <= targetSec) inSl++;
    } else nAb++;
    if ((i - warm + 1) % per === 0) {
      sl.push(inSl / per);
      ab.push(nAb / per);
      asa.push(wait / nServed);
      inSl = nAb = nServed = 0;
      wait = 0;
    }
  }
  const stat = (xs: number[]) => {
    const m = xs.reduce((s, x) => s + x, 0) / xs.length;
    const v = xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1);
    return { mean: m, se: Math.sqrt(v / xs.length) };
  };
  return { sl: stat(sl), ab: stat(ab), asa: stat(asa) };
}

describe('Erlang A (M/M/n+M)', () => {
  // 400,000 calls after a 5 % warm-up, 20 batches. Tolerance: 4 batch-means standard errors
  // (a false failure about 1 in 16,000 per figure), and the standard errors themselves must be
  // small (SL and abandonment within 0.006, ASA within 3 %), so the check has teeth.
  for (const c of [
    { n: 11, a: 10, aht: 180, patience: 60, t: 20, seed: 1 },
    { n: 13, a: 10, aht: 180, patience: 300, t: 20, seed: 2 },
    { n: 48, a: 50, aht: 240, patience: 120, t: 30, seed: 3 },
  ]) {
    it(`matches a simulation: ${c.n} agents, ${c.a} Erl, AHT ${c.aht} s, patience ${c.patience} s`, () => {
      const exact = erlangAFigures(c.n, c.a, c.aht, c.patience, c.t);
      const sim = simulate(c.n, c.a, c.aht, c.patience, c.t, 420_000, c.seed);
      expect(sim.sl.se).toBeLessThan(0.006);
      expect(sim.ab.se).toBeLessThan(0.006);
      expect(sim.asa.se).toBeLessThan(0.03 * sim.asa.mean);
      expect(Math.abs(exact.serviceLevel - sim.sl.mean)).toBeLessThan(4 * sim.sl.se);
      expect(Math.abs(exact.abandonRate - sim.ab.mean)).toBeLessThan(4 * sim.ab.se);
      expect(Math.abs(exact.asaSec - sim.asa.mean)).toBeLessThan(4 * sim.asa.se);
    });
  }

  it('agrees to 1e-7 with the chain solved independently (stationary distribution by balance, each waiting caller by RK4)', () => {
    for (const [n, a, aht, patience, t] of [
      [11, 10, 180, 60, 20],
      [48, 50, 240, 120, 30],
      [5, 3, 300, 30, 45],
    ] as const) {
      const mu = 1 / aht;
      const th = 1 / patience;
      const lambda = a * mu;
      // Stationary distribution of the number in system, truncated far out.
      const K = n + 400;
      const p = [1];
      for (let k = 1; k <= K; k++) p.push((p[k - 1]! * lambda) / (Math.min(k, n) * mu + Math.max(0, k - n) * th));
      const z = p.reduce((x, y) => x + y, 0);
      // A caller finding j ahead (state n + j): position i drains at n·mu + i·theta, served from 0 at n·mu,
      // abandons at theta. Integrate P(served by t) for every starting j at once, backwards in the
      // starting state: u_j(s) = P(served within s | j ahead).
      const J = K - n;
      let u = new Float64Array(J + 1);
      const steps = 4000;
      const dt = t / steps;
      const deriv = (v: Float64Array) => {
        const d = new Float64Array(J + 1);
        for (let j = 0; j <= J; j++) {
          const move = n * mu + j * th;
          const next = j === 0 ? 1 : v[j - 1]!;
          d[j] = move * (next - v[j]!) - th * v[j]!;
        }
        return d;
      };
      for (let k = 0; k < steps; k++) {
        const k1 = deriv(u);
        const k2 = deriv(u.map((v, j) => v + (dt / 2) * k1[j]!));
        const k3 = deriv(u.map((v, j) => v + (dt / 2) * k2[j]!));
        const k4 = deriv(u.map((v, j) => v + dt * k3[j]!));
        u = u.map((v, j) => v + (dt / 6) * (k1[j]! + 2 * k2[j]! + 2 * k3[j]! + k4[j]!));
      }
      let sl = 0;
      let queued = 0;
      for (let k = 0; k <= K; k++) {
        if (k < n) sl += p[k]! / z;
        else {
          sl += (p[k]! / z) * u[k - n]!;
          queued += ((k - n) * p[k]!) / z;
        }
      }
      const f = erlangAFigures(n, a, aht, patience, t);
      expect(Math.abs(f.serviceLevel - sl)).toBeLessThan(1e-7);
      // Abandonment = theta · E[queue] / lambda.
      expect(Math.abs(f.abandonRate - (th * queued) / lambda)).toBeLessThan(1e-9);
    }
  });

  it('tends to Erlang C as patience grows', () => {
    const c = erlangCFigures(13, 10, 180, 20);
    const a = erlangAFigures(13, 10, 180, 1e9, 20);
    expect(a.pWait).toBeCloseTo(c.pWait, 5);
    expect(a.serviceLevel).toBeCloseTo(c.serviceLevel, 5);
    expect(a.asaSec).toBeCloseTo(c.asaSec, 3);
    expect(a.abandonRate).toBeLessThan(1e-5);
  });

  it('stays finite when the traffic exceeds the agents (abandonment keeps the queue stable)', () => {
    const f = erlangAFigures(40, 60, 180, 90, 20);
    expect(f.abandonRate).toBeGreaterThan(0.2);
    expect(f.occupancy).toBeLessThanOrEqual(1);
    expect(Number.isFinite(f.asaSec)).toBe(true);
    // Overloaded with very patient callers: the tail is rescaled (no overflow to NaN) and, beyond
    // the truncation, the fluid limit (served wait ln(A/n)/θ, abandonment 1 - n/A) is returned.
    for (const patience of [1e4, 1e12]) {
      const g = erlangAFigures(900, 1000, 180, patience, 20);
      expect(g.abandonRate).toBeCloseTo(0.1, 6);
      expect(g.asaSec / (Math.log(1000 / 900) * patience)).toBeCloseTo(1, 2);
      expect(g.serviceLevel).toBeLessThan(1e-6);
    }
  });

  it('finds the smallest agent count meeting every target, from light to heavy traffic and short to long patience', () => {
    for (const calls of [1, 7, 40, 300, 5000]) {
      for (const patienceSec of [30, 120, 600]) {
        const input = {
          callsPerInterval: calls,
          intervalSec: 900,
          ahtSec: 180,
          serviceLevel: 0.8,
          targetSec: 20,
          asaTargetSec: 20,
          maxOccupancy: 0.95,
          shrinkage: 0.3,
          patienceSec,
        };
        const r = staffErlangA(input);
        const ok = (n: number) => {
          const f = erlangAFigures(n, r.trafficErlangs, 180, patienceSec, 20);
          return f.serviceLevel >= 0.8 && f.asaSec <= 20 && f.occupancy <= 0.95;
        };
        expect(ok(r.agents)).toBe(true);
        if (r.agents > 1) expect(ok(r.agents - 1)).toBe(false);
      }
    }
  });

  it('staffs no more than Erlang C for the worked example and meets the targets', () => {
    const input = {
      callsPerInterval: 100,
      intervalSec: 1800,
      ahtSec: 180,
      serviceLevel: 0.8,
      targetSec: 20,
      shrinkage: 0.3,
      patienceSec: 120,
      asaTargetSec: 15,
    };
    const a = staffErlangA(input);
    const c = staffErlangC(input);
    expect(a.model).toBe('erlang-a');
    expect(a.agents).toBeLessThanOrEqual(c.agents);
    expect(a.serviceLevel).toBeGreaterThanOrEqual(0.8);
    expect(a.asaSec).toBeLessThanOrEqual(15);
    expect(
      erlangAFigures(a.agents - 1, 10, 180, 120, 20).serviceLevel < 0.8 || erlangAFigures(a.agents - 1, 10, 180, 120, 20).asaSec > 15,
    ).toBe(true);
    expect(a.scheduled).toBe(Math.ceil(a.agents / 0.7));
  });
});
