import { describe, expect, it } from 'vitest';
import { Bell, runScheduled, type ScheduledTask } from '../../src/schedule.js';

/** Tasks that record when they start and end; each waits until the test lets it finish. */
function recorder() {
  const events: string[] = [];
  const finish = new Map<number, () => void>();
  const running = new Set<number>();
  const ended = new Set<number>();
  let most = 0;
  const task = (
    i: number,
    locks: ScheduledTask['locks'],
    after: number[] = [],
    fail = false,
  ): ScheduledTask => ({
    locks,
    ready: () => after.every((j) => ended.has(j)),
    run: () =>
      new Promise<void>((resolve, reject) => {
        events.push(`start ${i}`);
        running.add(i);
        most = Math.max(most, running.size);
        finish.set(i, () => {
          running.delete(i);
          ended.add(i);
          events.push(`end ${i}`);
          if (fail) reject(new Error(`task ${i} failed`));
          else resolve();
        });
      }),
  });
  /** Lets every running task end, in index order, until all tasks are done. */
  const drain = async (done: Promise<unknown>) => {
    let settled = false;
    void done.then(
      () => (settled = true),
      () => (settled = true),
    );
    while (!settled) {
      await new Promise((r) => setImmediate(r));
      const [first] = [...finish.keys()].filter((i) => running.has(i)).sort((a, b) => a - b);
      if (first !== undefined) finish.get(first)!();
    }
  };
  return { events, task, drain, most: () => most };
}

describe('running tasks that wait for others and lock tables', () => {
  it('never runs two tasks that lock one name at once, nor more than the limit', async () => {
    const r = recorder();
    const tasks = [
      r.task(0, new Set(['a'])),
      r.task(1, new Set(['a', 'b'])),
      r.task(2, new Set(['c'])),
      r.task(3, new Set(['d'])),
    ];
    const done = runScheduled(2, tasks);
    await r.drain(done);
    await done;
    // 1 shares "a" with 0, so 2 starts beside 0; 1 only once 0 ended.
    expect(r.events.slice(0, 2)).toEqual(['start 0', 'start 2']);
    expect(r.events.indexOf('start 1')).toBeGreaterThan(r.events.indexOf('end 0'));
    expect(r.most()).toBe(2);
    expect(r.events.filter((e) => e.startsWith('end'))).toHaveLength(4);
  });

  it('starts a task only after the tasks it waits for, and a task locking everything alone', async () => {
    const r = recorder();
    const tasks = [
      r.task(0, new Set(['a'])),
      r.task(1, new Set(['b'])),
      r.task(2, new Set(['c']), [1]),
      r.task(3, 'all', []),
    ];
    const done = runScheduled(3, tasks);
    await r.drain(done);
    await done;
    expect(r.events.indexOf('start 2')).toBeGreaterThan(r.events.indexOf('end 1'));
    const start3 = r.events.indexOf('start 3');
    // Nothing else runs while 3 does.
    expect(r.events[start3 + 1]).toBe('end 3');
    expect(r.events.slice(0, start3).filter((e) => e.startsWith('start')).length).toBe(
      r.events.slice(0, start3).filter((e) => e.startsWith('end')).length,
    );
  });

  it('starts nothing new after a failure, lets the running finish, then throws the first failure', async () => {
    const r = recorder();
    const tasks = [r.task(0, new Set(['a']), [], true), r.task(1, new Set(['b'])), r.task(2, new Set(['c']))];
    const done = runScheduled(2, tasks);
    await r.drain(done);
    await expect(done).rejects.toThrow('task 0 failed');
    expect(r.events).not.toContain('start 2');
    expect(r.events).toContain('end 1');
  });

  it('says so when tasks wait for each other in a circle instead of hanging', async () => {
    const r = recorder();
    const done = runScheduled(2, [r.task(0, new Set(), [1]), r.task(1, new Set(), [0])]);
    await expect(done).rejects.toThrow(/never became ready/);
  });

  it('starts a waiting task when the bell rings, while another still runs', async () => {
    const bell = new Bell();
    let open = false;
    const order: string[] = [];
    let release = () => {};
    const long: ScheduledTask = {
      locks: new Set(['a']),
      ready: () => true,
      run: () =>
        new Promise<void>((resolve) => {
          order.push('long starts');
          release = resolve;
        }),
    };
    const waiting: ScheduledTask = {
      locks: new Set(['b']),
      ready: () => open,
      run: async () => {
        order.push('waiting runs');
        release();
      },
    };
    const done = runScheduled(2, [long, waiting], bell);
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['long starts']);
    open = true;
    bell.ring();
    await done;
    // It ran before the long task ended: the bell, not an ending, started it.
    expect(order).toEqual(['long starts', 'waiting runs']);
  });
});
