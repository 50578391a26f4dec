import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './circuit-breaker.ts';

describe('CircuitBreaker', () => {
  it('opens after N failures in a row, probes once after openMs, and closes on a success', () => {
    let now = 0;
    const breaker = new CircuitBreaker({ failures: 3, openMs: 1_000 }, () => now);
    breaker.failed();
    breaker.failed();
    breaker.succeeded();
    breaker.failed();
    breaker.failed();
    expect(breaker.tryPass()).toBe(true);
    breaker.failed();
    expect(breaker.isOpen).toBe(true);
    expect(breaker.tryPass()).toBe(false);
    now = 999;
    expect(breaker.tryPass()).toBe(false);
    now = 1_000;
    expect(breaker.tryPass()).toBe(true); // the probe
    expect(breaker.tryPass()).toBe(false); // one probe at a time
    breaker.failed(); // the probe failed: open for another openMs
    expect(breaker.tryPass()).toBe(false);
    now = 2_000;
    expect(breaker.tryPass()).toBe(true);
    breaker.succeeded();
    expect(breaker.isOpen).toBe(false);
    expect(breaker.tryPass()).toBe(true);
    expect(breaker.tryPass()).toBe(true);
  });
});
