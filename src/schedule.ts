import { LifeboatError } from './errors.js';

/**
 * Runs tasks that wait for a condition and lock names, at most `limit` at once: a task starts
 * once it is `ready` and no running task holds a name it locks. Tasks start in array order
 * whenever they can, so the caller lists the most urgent first. Readiness is checked again
 * whenever a task ends and whenever the caller rings `bell` (work inside a running task
 * made progress). After a failure no new task starts; the ones running finish (no child
 * process outlives the error), then the first failure is thrown.
 *
 * A parallel restore uses it the way `pg_restore --jobs` schedules its items: two processes
 * never work on one table at once (so they never wait on each other's locks, and never
 * deadlock), and a foreign key is added as soon as both its tables are complete.
 */
export interface ScheduledTask {
  /**
   * Names this task locks while it runs; `all` locks everything (it runs alone). A running
   * task may drop names from its set as it finishes with them.
   */
  locks: ReadonlySet<string> | 'all';
  ready: () => boolean;
  run: () => Promise<void>;
}

/** Wakes the scheduler when something a task's readiness depends on changed. */
export class Bell {
  private waiting: (() => void)[] = [];

  ring(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const wake of waiting) wake();
  }

  next(): Promise<void> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}

export async function runScheduled(
  limit: number,
  tasks: readonly ScheduledTask[],
  bell = new Bell(),
): Promise<void> {
  const state = tasks.map(() => 'waiting' as 'waiting' | 'running' | 'done' | 'failed');
  const running = new Map<number, Promise<void>>();
  let failure: { error: unknown } | undefined;
  const clash = (a: ScheduledTask['locks'], b: ScheduledTask['locks']) =>
    a === 'all' || b === 'all' || [...a].some((name) => b.has(name));
  const startable = (i: number) =>
    state[i] === 'waiting' &&
    [...running.keys()].every((j) => !clash(tasks[i]!.locks, tasks[j]!.locks)) &&
    tasks[i]!.ready();
  for (;;) {
    for (let i = 0; i < tasks.length && running.size < Math.max(1, limit) && !failure; i++) {
      if (!startable(i)) continue;
      state[i] = 'running';
      const settled = (async () => {
        try {
          await tasks[i]!.run();
          state[i] = 'done';
        } catch (error) {
          state[i] = 'failed';
          failure ??= { error };
        } finally {
          running.delete(i);
        }
      })();
      running.set(i, settled);
    }
    if (running.size === 0) break;
    await Promise.race([...running.values(), bell.next()]);
  }
  if (failure) throw failure.error;
  const stuck = state.findIndex((s) => s !== 'done');
  if (stuck >= 0) {
    throw new LifeboatError(
      'internal',
      `Task ${stuck} never became ready: what it waits for never happened.`,
    );
  }
}
