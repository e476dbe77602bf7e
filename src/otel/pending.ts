/** Measurements held before the SDK loads; past this many, more are dropped and counted. */
export const PENDING_MEASUREMENT_LIMIT = 100_000;
/** Held measurements that make the SDK load at once: the app is recording, so it is running. */
export const PENDING_MEASUREMENT_PRESSURE = 1_000;

type Op = () => void;

/**
 * Everything done through the deferred provider before the OTel SDK has loaded (instrument
 * creations, callback registrations, measurements), kept in call order and replayed once onto the
 * real provider, so the SDK ends up exactly as if it had been there from the start.
 */
export class PendingOps {
  #ops: Op[] | undefined = [];
  #measurements = 0;
  #dropped = 0;

  constructor(private readonly onPressure: () => void) {}

  /** Instrument creations and callback registrations: few, and never dropped. */
  setup(op: Op): void {
    this.#ops?.push(op);
  }

  measurement(op: Op): void {
    if (this.#ops === undefined) return;
    if (this.#measurements === PENDING_MEASUREMENT_LIMIT) {
      this.#dropped++;
      return;
    }
    this.#ops.push(op);
    if (++this.#measurements === PENDING_MEASUREMENT_PRESSURE) this.onPressure();
  }

  /**
   * Runs every op in order, once; later pushes are ignored (a replayed op calls the instrument
   * again, which by then forwards). Returns how many measurements were dropped and how many ops threw.
   */
  replay(): { dropped: number; failed: number } {
    const ops = this.#ops ?? [];
    this.#ops = undefined;
    let failed = 0;
    for (const op of ops) {
      try {
        op();
      } catch {
        failed++;
      }
    }
    return { dropped: this.#dropped, failed };
  }

  /** Forgets everything (shutdown, or the SDK failed to load); later pushes are ignored. */
  discard(): void {
    this.#ops = undefined;
  }
}
