// Admission: a model's slots (continuations decoded at once) and its bounded queue; past both, a request is refused.

/** What happened to a submitted job. */
export type Admission = 'started' | 'queued' | 'full';

/**
 * Slots and a bounded FIFO queue: a job starts at once while fewer than `slots` run, waits while fewer than
 * `maxQueue` wait, and is refused past that (the server answers 429 with Retry-After). A job that ends (or is
 * cancelled while running) frees its slot for the oldest waiting one; a waiting job can be withdrawn.
 *
 * @example
 * const s = new Scheduler<Job>(16, 64, (job) => host.start(job));
 * if (s.submit(job) === 'full') reply.code(429);
 * s.finish(job); // when it is done: the next waiting job starts
 */
export class Scheduler<J> {
  private readonly queue: J[] = [];
  private readonly runningJobs = new Set<J>();

  constructor(readonly slots: number, readonly maxQueue: number, private readonly start: (job: J) => void) {}

  /** Jobs running. */
  get running(): number {
    return this.runningJobs.size;
  }

  /** Jobs waiting for a slot. */
  get waiting(): number {
    return this.queue.length;
  }

  submit(job: J): Admission {
    if (this.runningJobs.size < this.slots) {
      this.runningJobs.add(job);
      this.start(job);
      return 'started';
    }
    if (this.queue.length < this.maxQueue) {
      this.queue.push(job);
      return 'queued';
    }
    return 'full';
  }

  /** A job ended (done, failed or cancelled): its slot, or its place in the queue, is given up. Idempotent. */
  finish(job: J): void {
    const i = this.queue.indexOf(job);
    if (i >= 0) {
      this.queue.splice(i, 1);
      return;
    }
    if (!this.runningJobs.delete(job)) return;
    while (this.runningJobs.size < this.slots && this.queue.length > 0) {
      const next = this.queue.shift()!;
      this.runningJobs.add(next);
      this.start(next);
    }
  }

  /** Whether a job is running (false: waiting, or gone). */
  isRunning(job: J): boolean {
    return this.runningJobs.has(job);
  }
}
