import { describe, expect, it } from 'vitest';
import { RampPlan } from '../../../tools/bench/rampPlan.js';

/** The steps a ramp runs on a machine that carries `capacity` calls in real time. */
function ramp(steps: number[], capacity: number, stopAtFirstFailure = true): number[] {
  const plan = new RampPlan(steps, { stopAtFirstFailure });
  const ran: number[] = [];
  for (let calls = plan.next(); calls !== undefined; calls = plan.next()) {
    ran.push(calls);
    plan.record(calls, calls <= capacity);
  }
  return ran;
}

describe('load ramp steps', () => {
  it('runs upward and stops at the first step that is not real-time', () => {
    expect(ramp([44, 56, 68, 80, 92], 80)).toEqual([44, 56, 68, 80, 92]);
    expect(ramp([44, 56, 68, 80, 92], 60)).toEqual([44, 56, 68]);
  });

  it('halves a failed first step until one passes and bisects up to the failure, instead of reporting no capacity', () => {
    // 44 fails, 22 passes; then 33 and 38 pass, 41 fails: 38 is within an eighth of the capacity
    expect(ramp([44, 56, 68], 40)).toEqual([44, 22, 33, 38, 41]);
    expect(ramp([44, 56, 68], 30)).toEqual([44, 22, 33, 27, 30]);
    expect(ramp([44, 56, 68], 10)).toEqual([44, 22, 11, 5, 8, 9, 10]);
  });

  it('gives up below the floor', () => {
    expect(ramp([44, 56], 0)).toEqual([44, 22, 11, 5]);
  });

  it('does not step down once a step has passed', () => {
    expect(ramp([16, 44, 56], 30)).toEqual([16, 44]);
  });

  it('runs every step without stopAtFirstFailure', () => {
    expect(ramp([8, 16, 32], 10, false)).toEqual([8, 16, 32]);
  });
});
