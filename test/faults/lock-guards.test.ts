import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLifeboatError } from '../../src/errors.js';
import { MemoryLog } from '../../src/log.js';
import { connectClient } from '../../src/postgres/client.js';
import { parseConnectionUrl } from '../../src/postgres/connection.js';
import { explainDumpFailure, openSnapshotSession, startPgDump } from '../../src/postgres/pg-dump.js';
import { inspectDatabase } from '../../src/postgres/inspect.js';
import { createToolFinder } from '../../src/postgres/tools.js';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { loadFixture } from '../helpers/fixtures.js';
import { holdLock } from './inject.js';

/**
 * A backup behind a DDL lock gives up within a bounded wait on each of its two paths, and
 * each guard is proven alone: pg_dump's `--lock-wait-timeout`, and the `lock_timeout` of the
 * transaction that reads the catalog snapshot. (The end-to-end fault row runs both at once,
 * and either may give up first.) Without its guard, each of these waits for the lock until
 * the test's own limit fails it.
 */
let cluster: Cluster;
let url: string;
const LIMIT_MS = 1500;

beforeAll(async () => {
  cluster = await startCluster();
  url = await cluster.createDatabase('app');
  await loadFixture(cluster, 'app', 'supabase');
  process.env.LIFEBOAT_LOCK_WAIT_TIMEOUT_MS = String(LIMIT_MS);
});

afterAll(async () => {
  delete process.env.LIFEBOAT_LOCK_WAIT_TIMEOUT_MS;
  await cluster?.stop();
});

describe('a backup behind a DDL lock', () => {
  it('pg_dump alone gives up within --lock-wait-timeout, and the failure is named a lock', async () => {
    const lock = await holdLock(cluster, 'app', 'public.clips');
    try {
      const tool = await createToolFinder({ binDir: cluster.clientBinDir }).forServer('pg_dump', 15, '15');
      const started = Date.now();
      const dump = startPgDump(tool, parseConnectionUrl(url, 'database-url'), undefined, (t) => t);
      dump.process.stdout!.resume();
      const error = await dump.done.then(
        () => undefined,
        (e: unknown) => explainDumpFailure(e),
      );
      expect(isLifeboatError(error, 'lock')).toBe(true);
      expect((error as Error).message).toMatch(/pg_dump gave up waiting for a lock/);
      expect(Date.now() - started).toBeLessThan(LIMIT_MS + 8000);
    } finally {
      await lock.release();
    }
  }, 20_000);

  it('the catalog snapshot alone gives up within lock_timeout, and the failure is named a lock', async () => {
    const client = await connectClient(parseConnectionUrl(url, 'database-url'));
    const lock = await holdLock(cluster, 'app', 'public.clips');
    try {
      const session = await openSnapshotSession(client, new MemoryLog());
      const started = Date.now();
      const error = await inspectDatabase(client, {}).then(
        () => undefined,
        (e: unknown) => explainDumpFailure(e),
      );
      await session.close();
      expect(isLifeboatError(error, 'lock')).toBe(true);
      expect((error as Error).message).toMatch(/Gave up waiting for a lock while reading the catalog/);
      expect(Date.now() - started).toBeLessThan(LIMIT_MS + 8000);
    } finally {
      await lock.release();
      await client.end();
    }
  }, 20_000);
});
