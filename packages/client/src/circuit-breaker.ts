export interface CircuitBreakerOptions {
  /** Consecutive failures (network errors, timeouts, 5xx) that open the circuit. @defaultValue 5 */
  readonly failures?: number;
  /** How long an open circuit fails calls at once before one probe call is let through. @defaultValue 5000 */
  readonly openMs?: number;
}

/**
 * Stops asking a keyfence that does not answer: after `failures` failures in a row, calls fail at once for
 * `openMs`; then one call probes, and its success closes the circuit again. So a hung keyfence costs a few
 * callers one verify timeout each, not every caller.
 */
export class CircuitBreaker {
  private consecutiveFailures = 0;
  private openUntil = 0;
  private probing = false;
  private readonly failures: number;
  private readonly openMs: number;

  constructor(
    options: CircuitBreakerOptions,
    private readonly now: () => number,
  ) {
    this.failures = options.failures ?? 5;
    this.openMs = options.openMs ?? 5_000;
  }

  /** Whether a call may go out now (claims the single probe of a half-open circuit). */
  tryPass(): boolean {
    if (this.consecutiveFailures < this.failures) return true;
    if (this.now() < this.openUntil || this.probing) return false;
    this.probing = true;
    return true;
  }

  succeeded(): void {
    this.consecutiveFailures = 0;
    this.probing = false;
  }

  failed(): void {
    this.consecutiveFailures += 1;
    this.probing = false;
    if (this.consecutiveFailures >= this.failures) this.openUntil = this.now() + this.openMs;
  }

  /** Whether calls are being failed at once. */
  get isOpen(): boolean {
    return this.consecutiveFailures >= this.failures;
  }
}
