/**
 * Agents needed per interval: Erlang C (M/M/n, callers wait as long as it takes) and Erlang A
 * (M/M/n+M, callers abandon after an exponential patience), with a service-level target, an
 * optional ASA target, an optional occupancy cap and shrinkage.
 *
 * Erlang C goes through the Erlang B recursion B(k) = A·B(k-1) / (k + A·B(k-1)), which never forms
 * A^n or n! and so stays exact for thousands of erlangs. Erlang A is solved exactly on its
 * birth-death chain (truncated where the tail is below 1e-15 of the mass); the service level,
 * ASA and abandonment of a caller who finds j callers ahead come in closed form from the time the
 * queue ahead of it takes to drain (at n·μ + i·θ), a hypoexponential with evenly spaced rates.
 */

export interface StaffingInput {
  callsPerInterval: number;
  intervalSec: number;
  ahtSec: number;
  /** Target fraction answered within targetSec, e.g. 0.8. */
  serviceLevel: number;
  /** e.g. 20. */
  targetSec: number;
  /** Optional average-speed-of-answer target (answered calls, zero waits included). */
  asaTargetSec?: number;
  /** Mean caller patience; required for Erlang A. */
  patienceSec?: number;
  /** 0..1, e.g. 0.3. */
  shrinkage: number;
  /** Optional cap, e.g. 0.9. */
  maxOccupancy?: number;
}

export interface StaffingResult {
  model: 'erlang-c' | 'erlang-a';
  /** Agents on the phones needed (integer). */
  agents: number;
  /** ceil(agents / (1 - shrinkage)). */
  scheduled: number;
  serviceLevel: number;
  asaSec: number;
  abandonRate: number;
  occupancy: number;
  trafficErlangs: number;
}

/** Queue figures of one model at a given agent count. */
export interface QueueFigures {
  /** Probability that an arriving call waits at all. */
  pWait: number;
  /** Fraction of offered calls answered within targetSec. */
  serviceLevel: number;
  /** Mean wait of answered calls (zero waits included), seconds. */
  asaSec: number;
  /** Fraction of offered calls that abandon (0 for Erlang C). */
  abandonRate: number;
  /** Busy fraction of the agents. */
  occupancy: number;
}

/** Erlang B blocking probability for n servers and A erlangs (the stable recursion). */
export function erlangB(agents: number, trafficErlangs: number): number {
  checkCount(agents);
  let b = 1;
  for (let k = 1; k <= agents; k++) b = (trafficErlangs * b) / (k + trafficErlangs * b);
  return b;
}

/** P(wait) of Erlang C; 1 when the agents cannot carry the traffic (A >= n). */
export function erlangC(agents: number, trafficErlangs: number): number {
  checkCount(agents);
  if (trafficErlangs <= 0) return 0;
  if (agents <= trafficErlangs) return 1;
  return fromErlangB(agents, trafficErlangs, erlangB(agents, trafficErlangs));
}

function fromErlangB(n: number, a: number, b: number): number {
  return (n * b) / (n - a * (1 - b));
}

/** Erlang C service level, ASA and occupancy at n agents. */
export function erlangCFigures(agents: number, trafficErlangs: number, ahtSec: number, targetSec: number): QueueFigures {
  return cFigures(
    agents,
    trafficErlangs,
    ahtSec,
    targetSec,
    trafficErlangs > 0 && agents > trafficErlangs ? erlangC(agents, trafficErlangs) : 1,
  );
}

function cFigures(n: number, a: number, ahtSec: number, targetSec: number, pWait: number): QueueFigures {
  if (a <= 0) return { pWait: 0, serviceLevel: 1, asaSec: 0, abandonRate: 0, occupancy: 0 };
  if (n <= a) return { pWait: 1, serviceLevel: 0, asaSec: Infinity, abandonRate: 0, occupancy: 1 };
  return {
    pWait,
    serviceLevel: 1 - pWait * Math.exp((-(n - a) * targetSec) / ahtSec),
    asaSec: (pWait * ahtSec) / (n - a),
    abandonRate: 0,
    occupancy: a / n,
  };
}

/** Smallest agent count meeting the service level, the ASA target and the occupancy cap (Erlang C). */
export function staffErlangC(input: StaffingInput): StaffingResult {
  checkInput(input);
  const a = traffic(input);
  if (a <= 0) return result('erlang-c', 0, input, a, { pWait: 0, serviceLevel: 1, asaSec: 0, abandonRate: 0, occupancy: 0 });
  let n = Math.max(1, Math.floor(a) + 1);
  let b = erlangB(n, a);
  for (;;) {
    const f = cFigures(n, a, input.ahtSec, input.targetSec, fromErlangB(n, a, b));
    if (meets(f, input)) return result('erlang-c', n, input, a, f);
    n++;
    b = (a * b) / (n + a * b);
  }
}

/** Erlang A (M/M/n+M) figures at n agents, exact on the truncated birth-death chain. */
export function erlangAFigures(
  agents: number,
  trafficErlangs: number,
  ahtSec: number,
  patienceSec: number,
  targetSec: number,
): QueueFigures {
  checkCount(agents);
  if (!(patienceSec > 0)) throw new RangeError('erlang A: patienceSec must be > 0');
  const a = trafficErlangs;
  if (a <= 0) return { pWait: 0, serviceLevel: 1, asaSec: 0, abandonRate: 0, occupancy: 0 };
  const n = agents;
  const mu = 1 / ahtSec;
  const theta = 1 / patienceSec;
  const lambda = a * mu;
  // Mass of states 0..n-1 relative to sum(0..n) = 1 comes from Erlang B: w_n = B(n, A).
  const bn = n === 0 ? 1 : erlangB(n, a);
  let below = 1 - bn; // states 0..n-1
  // Tail w_{n+j}, j >= 0: w_{n+j+1} = w_{n+j} · λ / (nμ + (j+1)θ); rescaled while it grows.
  const tail: number[] = [bn];
  let tailSum = bn;
  let decayed = false;
  for (let j = 0; j < MAX_QUEUE; j++) {
    const next = (tail[j]! * lambda) / (n * mu + (j + 1) * theta);
    tail.push(next);
    tailSum += next;
    if (next < 1e-15 * tailSum && j > 2) {
      decayed = true;
      break;
    }
    if (next > 1e200) {
      for (let i = 0; i < tail.length; i++) tail[i] = tail[i]! * 1e-200;
      tailSum *= 1e-200;
      below *= 1e-200;
    }
  }
  if (!decayed) return overloaded(n, a, theta);
  const z = below + tailSum;
  const pWait = tailSum / z;
  // Per caller who finds j ahead: served with probability L_j = Π r_i/(r_i+θ), r_i = nμ + iθ;
  // E[V; served] = L_j · Σ 1/(r_i+θ).
  let served = below / z;
  let waitServed = 0;
  let L = 1;
  let s = 0;
  for (let j = 0; j < tail.length; j++) {
    const r = n * mu + j * theta;
    L *= r / (r + theta);
    s += 1 / (r + theta);
    const q = tail[j]! / z;
    served += q * L;
    waitServed += q * L * s;
  }
  const abandonRate = Math.max(0, 1 - served);
  const sl = below / z + servedWithin(tail, z, n * mu, theta, targetSec);
  return {
    pWait,
    serviceLevel: Math.min(1, sl),
    asaSec: served > 0 ? waitServed / served : Infinity,
    abandonRate,
    occupancy: n > 0 ? Math.min(1, (a * (1 - abandonRate)) / n) : 1,
  };
}

/**
 * Far more traffic than agents with a patience so long the queue does not settle within MAX_QUEUE
 * places: the fluid limit (everyone waits, the excess abandons, the served wait ln(A/n)/θ).
 */
function overloaded(n: number, a: number, theta: number): QueueFigures {
  return {
    pWait: 1,
    serviceLevel: 0,
    asaSec: Math.log(a / Math.max(n, 1e-9)) / theta,
    abandonRate: Math.max(0, 1 - n / a),
    occupancy: 1,
  };
}

/** Queue positions the Erlang A tail may grow to before it is cut (patience → ∞ with A ≥ n). */
const MAX_QUEUE = 200_000;

/**
 * Σ_j q_j · P(caller with j ahead is answered within t). The caller's position drains from j to 0
 * at rate nμ + iθ, then a server frees at nμ, while the caller abandons at θ throughout. With
 * c = nμ/θ each stage ends at rate θ(c+i+1) (i = 0…j), in progress with probability (c+i)/(c+i+1),
 * independently of when; so P(answered) = c/(c+j+1) and the stage times sum to a hypoexponential
 * with rates θ(c+1)…θ(c+j+1), whose distribution function is the regularized incomplete beta
 * I_x(j+1, c+1) with x = 1 - e^{-θt} (e^{-θT} ~ Beta(c+1, j+1)). I_x(a, b) follows from
 * I_x(1, b) = 1 - (1-x)^b and I_x(a+1, b) = I_x(a, b) - x^a (1-x)^b / (a·B(a, b)), the last term
 * carried in logarithms so that neither factor underflows alone.
 */
function servedWithin(tail: number[], z: number, nMu: number, theta: number, t: number): number {
  if (t <= 0) return 0;
  const c = nMu / theta;
  const b = c + 1;
  const logX = Math.log(-Math.expm1(-theta * t));
  const log1mX = -theta * t;
  let incBeta = -Math.expm1(b * log1mX); // I_x(1, b)
  let logTerm = Math.log(b) + logX + b * log1mX; // x (1-x)^b / (1·B(1, b))
  let sum = 0;
  for (let j = 0; j < tail.length; j++) {
    const a = j + 1;
    sum += (tail[j]! / z) * (c / (c + a)) * Math.max(0, incBeta);
    incBeta -= Math.exp(logTerm);
    logTerm += Math.log((a + b) / (a + 1)) + logX;
    if (incBeta <= 0) break;
  }
  return sum;
}

/** Smallest agent count meeting the targets with abandonment (Erlang A). */
export function staffErlangA(input: StaffingInput & { patienceSec: number }): StaffingResult {
  checkInput(input);
  if (!(input.patienceSec > 0)) throw new RangeError('staffErlangA: patienceSec must be > 0');
  const a = traffic(input);
  const figures = (n: number) => erlangAFigures(n, a, input.ahtSec, input.patienceSec, input.targetSec);
  if (a <= 0) return result('erlang-a', 0, input, a, figures(0));
  // Service level, ASA and occupancy all improve with n. Abandonment usually needs fewer agents
  // than Erlang C: from its answer, gallop down (1, 2, 4 … agents) to one that fails, then bisect.
  let n = staffErlangC(input).agents;
  let f = figures(n);
  if (meets(f, input)) {
    let lo = 0; // fails (no agents answer nobody)
    let step = 1;
    while (n - step >= 1) {
      const g = figures(n - step);
      if (!meets(g, input)) {
        lo = n - step;
        break;
      }
      n -= step;
      f = g;
      step *= 2;
    }
    while (n - lo > 1) {
      const mid = (lo + n) >> 1;
      const g = figures(mid);
      if (meets(g, input)) {
        n = mid;
        f = g;
      } else lo = mid;
    }
  } else {
    do {
      n++;
      f = figures(n);
    } while (!meets(f, input));
  }
  return result('erlang-a', n, input, a, f);
}

function meets(f: QueueFigures, input: StaffingInput): boolean {
  if (f.serviceLevel < input.serviceLevel) return false;
  if (input.asaTargetSec !== undefined && f.asaSec > input.asaTargetSec) return false;
  if (input.maxOccupancy !== undefined && f.occupancy > input.maxOccupancy) return false;
  return true;
}

function traffic(input: StaffingInput): number {
  return (input.callsPerInterval * input.ahtSec) / input.intervalSec;
}

function result(model: StaffingResult['model'], agents: number, input: StaffingInput, a: number, f: QueueFigures): StaffingResult {
  return {
    model,
    agents,
    scheduled: agents === 0 ? 0 : Math.ceil(agents / (1 - input.shrinkage) - 1e-9),
    serviceLevel: f.serviceLevel,
    asaSec: f.asaSec,
    abandonRate: f.abandonRate,
    occupancy: f.occupancy,
    trafficErlangs: a,
  };
}

function checkCount(n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError('erlang: the agent count must be a non-negative integer');
}

function checkInput(i: StaffingInput): void {
  if (!(i.callsPerInterval >= 0) || !(i.intervalSec > 0) || !(i.ahtSec > 0)) {
    throw new RangeError('staffing: calls must be >= 0, interval and handle time > 0');
  }
  if (!(i.serviceLevel >= 0 && i.serviceLevel < 1)) throw new RangeError('staffing: serviceLevel must be in [0, 1)');
  if (!(i.targetSec >= 0)) throw new RangeError('staffing: targetSec must be >= 0');
  if (!(i.shrinkage >= 0 && i.shrinkage < 1)) throw new RangeError('staffing: shrinkage must be in [0, 1)');
  if (i.maxOccupancy !== undefined && !(i.maxOccupancy > 0 && i.maxOccupancy <= 1)) {
    throw new RangeError('staffing: maxOccupancy must be in (0, 1]');
  }
  if (i.asaTargetSec !== undefined && !(i.asaTargetSec > 0)) throw new RangeError('staffing: asaTargetSec must be > 0');
}
