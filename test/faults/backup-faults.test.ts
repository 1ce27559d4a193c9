/**
 * Faults while taking a backup: the dump, the server, the network. Each row names the fault,
 * injects it for real, and requires the four properties of assertions.ts.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStore } from '../../src/stores/local.js';
import {
  faultWorld,
  expectFaultCaught,
  expectWorldIntact,
  snapshot,
  type Expected,
  type FaultWorld,
} from './assertions.js';
import {
  holdLock,
  KILLED_DATA_PART,
  KILLED_PG_DUMP,
  recordingTool,
  withDnsAnswer,
  wrapperBinDir,
} from './inject.js';
import { expectNoSecrets, runLifeboat, type LifeboatRun } from '../helpers/lifeboat.js';
import { startWorld, type SandboxedWorld } from '../helpers/world.js';
import { postgresPlan } from '../helpers/find-postgres.js';

// A server newer than every pg_dump here (often the embedded one); its row runs only where one exists.
const { newer } = await postgresPlan();

let a: SandboxedWorld;
let store: LocalStore;
let world: FaultWorld;

beforeAll(async () => {
  a = await startWorld({ sandbox: true, more: newer ? [newer.major] : [] });
  store = await a.sandbox.localStore('main');
  // Two good backups of the set the rows write to, so retention has something to delete.
  const good = [await a.goodBackup(store), await a.goodBackup(store)];
  world = faultWorld(a, [store], good);
  await a.cluster.createRole('no_bypass', { password: 'no-bypass-pw-4f1d' });
  a.extraSecrets.push({ label: "the no_bypass role's password", value: 'no-bypass-pw-4f1d' });
  await a.cluster.exec(
    `GRANT USAGE ON SCHEMA public, auth, "Mixed Case", "données" TO no_bypass;
     GRANT SELECT ON ALL TABLES IN SCHEMA public, auth, "Mixed Case", "données" TO no_bypass;`,
    'app',
  );
  a.extraSecrets.push({ label: 'the password in hand-written URLs', value: 'n0t-a-real-pw-7c2e' });
});

afterAll(async () => {
  await a?.close();
});

interface Injected {
  inputs?: Record<string, string>;
  /** Runs the backup inside a context (a held lock, a DNS answer). */
  around?: (go: () => Promise<LifeboatRun>) => Promise<LifeboatRun>;
  undo?: () => Promise<void>;
}

interface Row {
  fault: string;
  inject: () => Promise<Injected>;
  expected: Expected;
}

const PW = 'n0t-a-real-pw-7c2e';

/** A hung run fails its row, and its `undo` (releasing a lock) still runs. */
function bounded<T>(work: Promise<T>, seconds = 60): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Lifeboat did not finish within ${seconds}s`)), seconds * 1000);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

const rows: Row[] = [
  {
    fault: 'pg_dump killed mid-stream',
    inject: async () => {
      const bin = await wrapperBinDir(a.sandbox.root, { pg_dump: KILLED_PG_DUMP });
      return { inputs: { 'pg-bin-dir': bin }, undo: () => rm(bin, { recursive: true }) };
    },
    expected: {
      code: 'dump',
      message: /pg_dump \S+ was killed by SIGKILL[\s\S]*killed after partial output/,
    },
  },
  {
    fault: 'one part of a parallel dump killed mid-stream, the others stored already',
    inject: async () => {
      const bin = await wrapperBinDir(a.sandbox.root, { pg_dump: KILLED_DATA_PART });
      return { inputs: { 'pg-bin-dir': bin, 'dump-jobs': '3' }, undo: () => rm(bin, { recursive: true }) };
    },
    expected: {
      code: 'dump',
      message: /pg_dump \S+ \(part [23] of 3\) was killed by SIGKILL[\s\S]*data part killed/,
    },
  },
  {
    fault: 'retention run after a failed backup',
    inject: async () => {
      const bin = await wrapperBinDir(a.sandbox.root, { pg_dump: KILLED_PG_DUMP });
      return { inputs: { 'pg-bin-dir': bin, keep: '1' }, undo: () => rm(bin, { recursive: true }) };
    },
    expected: { code: 'dump', message: /killed by SIGKILL/ },
  },
  {
    fault: 'a dump role without BYPASSRLS on tables with row-level security',
    inject: async () => ({
      inputs: {
        'database-url': a.cluster.url({ database: 'app', user: 'no_bypass', password: 'no-bypass-pw-4f1d' }),
      },
    }),
    expected: {
      code: 'permission',
      message: /row-level security hides rows of .*public\.workspaces.* from role "no_bypass"/,
      hint: /BYPASSRLS/,
    },
  },
  {
    fault: 'a DDL lock held during the dump',
    inject: async () => {
      const lock = await holdLock(a.cluster, 'app', 'public.clips');
      process.env.LIFEBOAT_LOCK_WAIT_TIMEOUT_MS = '2000';
      return {
        undo: async () => {
          delete process.env.LIFEBOAT_LOCK_WAIT_TIMEOUT_MS;
          await lock.release();
        },
      };
    },
    expected: { code: 'lock', message: /lock/i, hint: /holds an exclusive lock[\s\S]*at most 2s/ },
  },
  ...(newer
    ? [
        {
          fault: `a server newer than every available pg_dump (PostgreSQL ${newer.major})`,
          inject: async () => ({ inputs: { 'database-url': a.others[0]!.url() } }),
          expected: {
            code: 'tools',
            message: new RegExp(
              `server runs PostgreSQL ${newer.major}\\.\\d+, but no pg_dump of major version ${newer.major} or newer was found`,
            ),
            hint: new RegExp(`postgresql-client-${newer.major}`),
          },
        } satisfies Row,
      ]
    : []),
  {
    fault: 'an unreachable host',
    inject: async () => ({ inputs: { 'database-url': `postgresql://postgres:${PW}@127.0.0.1:1/app` } }),
    expected: { code: 'connection', message: /Cannot connect to 127\.0\.0\.1:1\/app/ },
  },
  {
    fault: 'an IPv6-only host name on a machine without an IPv6 route',
    inject: async () => {
      const host = 'db.lifeboatfaultsref.supabase.co';
      return {
        inputs: { 'database-url': `postgresql://postgres:${PW}@${host}:5432/postgres?connect_timeout=3` },
        // Documentation range: no route leads there, from any machine.
        around: (go) => withDnsAnswer(host, '2001:db8::5', go),
      };
    },
    expected: { code: 'ipv6', message: /resolves only to IPv6/, hint: /session pooler/ },
  },
  {
    fault: 'a transaction-mode pooler',
    inject: async () => ({
      inputs: {
        'database-url': `postgresql://postgres.ref:${PW}@aws-0-eu-central-1.pooler.supabase.com:6543/postgres`,
      },
    }),
    expected: { code: 'pooler', message: /transaction-mode pooler/, hint: /session pooler/ },
  },
];

describe('backup faults', () => {
  it.each(rows)('$fault', async ({ inject, expected }) => {
    const before = await snapshot(world);
    const keys = new Set(await store.list(''));
    const injected = await inject();
    let outcome: LifeboatRun;
    try {
      const go = () =>
        runLifeboat(
          {
            mode: 'backup',
            'database-url': a.appUrl,
            store: 'given',
            'encryption-recipient': a.recipient,
            'encryption-identity': a.identity,
            ...injected.inputs,
          },
          { store },
        );
      outcome = await bounded(injected.around ? injected.around(go) : go());
    } finally {
      await injected.undo?.();
    }
    await expectFaultCaught(world, before, outcome, expected);
    // No archive outlives its failed backup: not the main one, not a part stored before another failed.
    expect((await store.list('')).filter((k) => !keys.has(k))).toEqual([]);
  });

  it('passes the password to pg_dump through the environment, never the command line', async () => {
    const log = await mkdtemp(path.join(a.sandbox.root, 'argv-'));
    const bin = await wrapperBinDir(a.sandbox.root, { pg_dump: recordingTool(log) });
    const before = await snapshot(world);
    const outcome = await runLifeboat(
      {
        mode: 'backup',
        'database-url': a.appUrl,
        store: 'given',
        name: 'argv',
        'encryption-recipient': a.recipient,
        'encryption-identity': a.identity,
        'pg-bin-dir': bin,
      },
      { store },
    );
    expect(outcome.message).toBe('');
    const argv = await readFile(path.join(log, 'argv'), 'utf8');
    const env = await readFile(path.join(log, 'env'), 'utf8');
    await rm(log, { recursive: true });
    await rm(bin, { recursive: true });
    expect(argv).toMatch(/--format=custom/);
    expectNoSecrets(argv, [a.cluster.password]);
    expect(env).toContain(`PGPASSWORD=${a.cluster.password}`);
    // The new backup is the row's purpose, so only properties 3 and 4 apply.
    await expectWorldIntact(world, before, outcome, { verifiedAllowed: true });
  });

  it('leaves the good backups taken before every fault restorable by hand, every row back', async () => {
    await a.expectGoodRestorable(world.good);
  });
});
