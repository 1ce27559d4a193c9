/**
 * Notifications and heartbeats around real runs, to receivers on 127.0.0.1: each body held
 * to its service's schema, a receiver that fails or hangs only ever a warning, and no body
 * carrying a secret, a connection string or a table name.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schemaErrors, startReceiver, type Receiver } from '../helpers/webhook-receivers.js';
import { DB_PASSWORD, SECRET_TABLES, startWatchWorld, type WatchWorld } from '../helpers/watch-world.js';

let w: WatchWorld;
let store: string;
const receivers: Receiver[] = [];
/** The workflow run a notification links to. */
const RUNNER = {
  GITHUB_REPOSITORY: 'acme/shop',
  GITHUB_RUN_ID: '4242',
  GITHUB_SERVER_URL: 'https://github.com',
};
/** Short timeouts so a hanging receiver costs a second, not thirty. */
const QUICK = { ...RUNNER, LIFEBOAT_NOTIFY_TIMEOUT_MS: '300', LIFEBOAT_NOTIFY_RETRY_DELAY_MS: '50' };

const receiver = async (behaviour?: 'ok' | 'fail' | 'hang') => {
  const r = await startReceiver(behaviour);
  receivers.push(r);
  return r;
};

beforeAll(async () => {
  w = await startWatchWorld();
  store = await w.newStore();
});

afterAll(async () => {
  // Everything any receiver was ever sent, by every test: no secret, URL or table name.
  const everything = receivers.flatMap((r) => r.received.map((x) => x.body)).join('\n');
  expect(everything.length).toBeGreaterThan(0);
  for (const secret of [
    ...SECRET_TABLES,
    DB_PASSWORD,
    w.databaseUrl,
    w.identity,
    ...receivers.map((r) => r.secret),
  ])
    expect(everything).not.toContain(secret);
  await Promise.all(receivers.map((r) => r.stop()));
  await w?.stop();
});

describe('notifications', () => {
  for (const format of ['slack', 'discord', 'teams', 'generic'] as const) {
    it(`sends a ${format} body that its documented schema accepts, with mode, set, result, backup id and link`, async () => {
      const hook = await receiver();
      const run = await w.backup(
        store,
        { 'notify-url': hook.url, 'notify-on': 'always', 'notify-format': format },
        RUNNER,
      );
      expect(run.error).toBeUndefined();
      expect(hook.received).toHaveLength(1);
      const sent = hook.received[0]!;
      expect(sent.contentType).toMatch(/^application\/json/);
      const body = JSON.parse(sent.body) as unknown;
      expect(schemaErrors(format, body)).toEqual([]);
      expect(sent.body).toContain('backup');
      expect(sent.body).toContain('production');
      expect(sent.body).toContain(run.outputs['backup-id']!);
      expect(sent.body).toContain('https://github.com/acme/shop/actions/runs/4242');
    });
  }

  it('by default notifies a failure only, never a success', async () => {
    const hook = await receiver();
    const ok = await w.backup(store, { 'notify-url': hook.url }, RUNNER);
    expect(ok.error).toBeUndefined();
    expect(hook.received).toHaveLength(0);
    const failed = await w.drill(
      store,
      { 'notify-url': hook.url, 'notify-format': 'generic', 'rto-target': '0.001s' },
      RUNNER,
    );
    expect(failed.error).toBeDefined();
    expect(hook.received).toHaveLength(1);
    expect(JSON.parse(hook.received[0]!.body)).toMatchObject({
      mode: 'drill',
      result: 'failure',
      reason: 'the restore drill failed',
    });
  });

  it('sends nothing with notify-on never, to every URL of a list otherwise', async () => {
    const [a, b] = [await receiver(), await receiver()];
    await w.watch(
      store,
      { 'notify-url': `${a.url}\n${b.url}`, 'notify-on': 'never', 'drill-max-age': 'off' },
      RUNNER,
    );
    expect(a.received.length + b.received.length).toBe(0);
    await w.watch(
      store,
      { 'notify-url': `${a.url}\n${b.url}`, 'notify-on': 'always', 'drill-max-age': 'off' },
      RUNNER,
    );
    expect([a.received.length, b.received.length]).toEqual([1, 1]);
  });

  it('carries no table name when a drill fails on a check that names one', async () => {
    const checks = path.join(await mkdtemp(path.join(w.work, 'checks-')), 'checks.sql');
    await writeFile(
      checks,
      `-- name: ${SECRET_TABLES[0]} is empty\nSELECT count(*) = 0 FROM public.${SECRET_TABLES[0]};\n`,
    );
    expect((await w.backup(store)).error).toBeUndefined();
    const hook = await receiver();
    const run = await w.drill(
      store,
      { 'notify-url': hook.url, 'notify-format': 'slack', 'verify-sql': checks },
      RUNNER,
    );
    expect(run.outputs.status).toBe('failed');
    // The run's own log names the table (it is the user's log); the notification does not.
    expect(run.log.text() + (run.error?.message ?? '')).toContain(SECRET_TABLES[0]);
    expect(hook.received).toHaveLength(1);
    expect(hook.received[0]!.body).not.toContain(SECRET_TABLES[0]);
  });

  it('masks webhook URLs in the log', async () => {
    const hook = await receiver('fail');
    const run = await w.backup(store, { 'notify-url': hook.url, 'notify-on': 'always' }, QUICK);
    expect(run.log.text()).not.toContain(hook.secret);
  });
});

describe('a receiver that fails or hangs', () => {
  it('answering 500 is retried twice, then a warning; the backup passes', async () => {
    const hook = await receiver('fail');
    const run = await w.backup(store, { 'notify-url': hook.url, 'notify-on': 'always' }, QUICK);
    expect(run.error).toBeUndefined();
    expect(run.outputs.verified).toBe('readable');
    expect(hook.attempts()).toBe(3);
    expect(run.log.lines).toContainEqual({
      level: 'warning',
      message: expect.stringMatching(
        /notification to 127\.0\.0\.1:\d+ did not get through \(HTTP 500, 3 attempt/,
      ),
    });
  });

  it('that never answers costs at most the timeout per attempt; the backup passes', async () => {
    const hook = await receiver('hang');
    const beat = await receiver('hang');
    const started = performance.now();
    const run = await w.backup(
      store,
      { 'notify-url': hook.url, 'notify-on': 'always', 'heartbeat-url': beat.url },
      QUICK,
    );
    const seconds = (performance.now() - started) / 1000;
    expect(run.error).toBeUndefined();
    expect(hook.attempts()).toBe(3);
    expect(run.log.lines.filter((l) => l.level === 'warning').map((l) => l.message)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/notification .*no answer within 0\.3s, 3 attempt/),
        expect.stringMatching(/start heartbeat .*no answer within 0\.3s/),
        expect.stringMatching(/success heartbeat .*no answer within 0\.3s/),
      ]),
    );
    // The backup itself (under a second here) plus 3 × 0.3 s and two short pauses for the end signals.
    expect(seconds).toBeLessThan(6);
  });
});

describe('heartbeats', () => {
  it('pings /start, then the URL itself on success, with a short plain body', async () => {
    const beat = await receiver();
    const run = await w.backup(store, { 'heartbeat-url': beat.url }, RUNNER);
    expect(run.error).toBeUndefined();
    const base = new URL(beat.url).pathname;
    expect(beat.received.map((r) => r.path)).toEqual([`${base}/start`, base]);
    for (const r of beat.received) {
      expect(r.contentType).toMatch(/^text\/plain/);
      expect(r.body.length).toBeLessThan(500);
    }
    expect(beat.received[1]!.body).toContain(run.outputs['backup-id']!);
  });

  it('pings /fail when the run fails, and when the watch finds a problem', async () => {
    const beat = await receiver();
    const empty = await w.newStore();
    const run = await w.watch(empty, { 'heartbeat-url': beat.url, 'fail-on-problem': 'false' }, RUNNER);
    expect(run.error).toBeUndefined();
    const base = new URL(beat.url).pathname;
    expect(beat.received.map((r) => r.path)).toEqual([`${base}/start`, `${base}/fail`]);
    expect(beat.received[1]!.body).toMatch(/No backup of "production"/);
  });
});
