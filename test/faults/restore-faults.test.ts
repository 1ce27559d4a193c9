/**
 * Faults a restore must refuse before it changes anything: a damaged or foreign archive, the
 * wrong key, a role the target lacks, an archive newer than its tools. Each row restores over
 * a live target database, which must come out of the row exactly as it went in.
 */
import { decryptBytes, encryptBytes, recipientOf, generateIdentity } from '../../src/archive/age/index.js';
import type { CatalogSnapshot } from '../../src/postgres/catalog.js';
import { tableContents, loadFixture, databaseState } from '../helpers/fixtures.js';
import { confirmFor } from '../helpers/cluster.js';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/archive/manifest.js';
import type { LocalStore } from '../../src/stores/local.js';
import type { Cluster } from '../helpers/cluster.js';
import {
  faultWorld,
  expectFaultCaught,
  expectWorldIntact,
  snapshot,
  type Expected,
  type FaultWorld,
} from './assertions.js';
import {
  AGE_SEALED_CHUNK,
  ageHeaderLength,
  copyBackup,
  flipByte,
  newerArchiveFormat,
  resealed,
  type CopyChanges,
} from './damage.js';
import { runLifeboat } from '../helpers/lifeboat.js';
import { startWorld, type SandboxedWorld } from '../helpers/world.js';
import type { GoodBackup } from '../helpers/good-backups.js';
import { forgetRoleRecords } from '../helpers/older-backup.js';

let a: SandboxedWorld;
let target: Cluster;
let store: LocalStore;
let world: FaultWorld;
let good: GoodBackup;

beforeAll(async () => {
  a = await startWorld({ sandbox: true, fixtures: ['supabase'] });
  target = a.cluster;
  // A live database a restore would replace.
  await target.createDatabase('live');
  await loadFixture(target, 'live', 'supabase');
  // Dense two-byte characters: every pipe chunk boundary in this table's data splits one.
  await a.cluster.exec(
    `CREATE TABLE public.accents (id int PRIMARY KEY, body text NOT NULL);
     INSERT INTO public.accents SELECT n, repeat('é', 300) || n FROM generate_series(1, 2000) AS n;`,
    'app',
  );
  store = await a.sandbox.localStore('restore');
  good = await a.goodBackup(store);
  world = faultWorld(a, [store], [good]);
});

afterAll(async () => {
  await a?.close();
});

/** The target's catalog with a content fingerprint of every table: what "unchanged" means. */
const targetState = () => databaseState(target.url({ database: 'live' }));

interface Row {
  fault: string;
  inject: () => Promise<{ backupId: string; inputs?: Record<string, string> }>;
  expected: Expected;
}

const damaged = async (changes: CopyChanges) => ({
  backupId: await copyBackup(store, good.manifest, changes),
});

const rows: Row[] = [
  {
    fault: 'archive truncated at 50%',
    inject: () => damaged({ archive: (b) => b.subarray(0, Math.floor(b.length / 2)) }),
    expected: { code: 'integrity', message: /archive ends early|truncated/ },
  },
  {
    fault: 'one flipped byte in the archive payload (manifest rewritten to match)',
    inject: () =>
      damaged({ archive: (b) => flipByte(b, ageHeaderLength(b) + 16 + AGE_SEALED_CHUNK / 2), rehash: true }),
    expected: { code: 'integrity', message: /Authentication failed for chunk 1/ },
  },
  {
    fault: 'the wrong identity',
    inject: async () => ({
      backupId: good.backupId,
      inputs: { 'encryption-identity': generateIdentity().identity },
    }),
    expected: { code: 'crypto', message: /identity/ },
  },
  {
    fault: 'an archive written by a newer pg_dump than any pg_restore here',
    inject: async () => {
      const original = await buffer(await store.get(good.manifest.archive.key));
      const archive = await resealed(original, a, newerArchiveFormat, a.sandbox.root);
      return damaged({
        archive: () => archive,
        manifest: (m: Manifest) => ({ ...m, source: { ...m.source, pgDumpVersion: '17.6' } }),
        rehash: true,
      });
    },
    expected: { code: 'tools', message: /written by pg_dump 17\.6; reading it needs pg_restore 17 or newer/ },
  },
  {
    fault:
      'a role missing on the restore target (a backup that recorded no roles; profile postgres creates none)',
    inject: async () => {
      await a.cluster.createRole('reporting');
      await a.cluster.exec(
        `CREATE POLICY "reporting reads jobs" ON public.jobs FOR SELECT TO reporting USING (true);`,
        'app',
      );
      const taken = await a.goodBackup(store, 'with-role');
      // A backup that records its roles creates them: only one from an older Lifeboat meets this fault.
      await forgetRoleRecords(store, 'with-role', taken.backupId, a.identity);
      await a.cluster.exec(`DROP POLICY "reporting reads jobs" ON public.jobs; DROP ROLE reporting;`, 'app');
      return { backupId: taken.backupId, inputs: { name: 'with-role', profile: 'postgres' } };
    },
    expected: { code: 'restore', message: /roles the target server lacks: reporting\. Nothing was changed/ },
  },
];

describe('restore faults', () => {
  it.each(rows)('$fault', async ({ inject, expected }) => {
    const { backupId, inputs } = await inject();
    const live = await targetState();
    const before = await snapshot(world);
    const outcome = await runLifeboat(
      {
        mode: 'restore',
        store: 'given',
        'backup-id': backupId,
        'target-url': target.url({ database: 'live' }),
        confirm: confirmFor(target, 'live'),
        'encryption-identity': a.identity,
        ...inputs,
      },
      { store },
    );
    await expectFaultCaught(world, before, outcome, expected);
    expect(await targetState()).toEqual(live);
  });
});

/** `md5` of a table's rows in key order: equal only when every value is. */
async function tableDigest(database: string, table: string): Promise<string> {
  const [row] = await a.cluster.query<{ d: string }>(
    `SELECT md5(string_agg(t::text, E'\\n' ORDER BY id)) AS d FROM ${table} t`,
    [],
    database,
  );
  return row!.d;
}

describe('a restore whose result differs from what the backup recorded', () => {
  it('fails when a table has its rows but other values, names the table, and says how to roll back', async () => {
    // The backup's catalog says one table held other values than its archive holds: same
    // row counts, another content fingerprint. Only the fingerprint comparison can tell.
    const catalogOf = async (m: Manifest) =>
      JSON.parse(
        (await decryptBytes(Buffer.from(m.catalog, 'base64'), { identities: [a.identity] })).toString(),
      ) as CatalogSnapshot;
    const catalog = await catalogOf(good.manifest);
    const altered = catalog.tables.find(
      (t) => t.schema === 'public' && t.name === 'accents' && t.fingerprint,
    )!;
    altered.fingerprint = `${altered.rows}:1`;
    const sealed = await encryptBytes(Buffer.from(JSON.stringify(catalog)), {
      recipients: [recipientOf(a.identity)],
    });
    const { backupId } = await damaged({ manifest: (m) => ({ ...m, catalog: sealed.toString('base64') }) });
    await target.exec('DROP DATABASE IF EXISTS fingerprinted WITH (FORCE); CREATE DATABASE fingerprinted;');
    const outcome = await runLifeboat(
      {
        mode: 'restore',
        store: 'given',
        'backup-id': backupId,
        'target-url': target.url({ database: 'fingerprinted' }),
        confirm: confirmFor(target, 'fingerprinted'),
        'encryption-identity': a.identity,
      },
      { store },
    );
    expect(outcome.code).not.toBe(0);
    expect(outcome.message).toMatch(/target differs from the backup in 1 way: .*public\.accents/s);
    expect(outcome.message).toMatch(/content/i);
    expect(outcome.outputs.status).toBe('failed');
  });
});

describe('restores that must bring every value back', () => {
  it('a full restore into an empty database, multi-byte text split across pipe chunks included', async () => {
    await a.cluster.createDatabase('copy');
    const before = await snapshot(world);
    const outcome = await runLifeboat(
      {
        mode: 'restore',
        store: 'given',
        'backup-id': good.backupId,
        'target-url': target.url({ database: 'copy' }),
        confirm: confirmFor(target, 'copy'),
        'encryption-identity': a.identity,
      },
      { store },
    );
    expect(outcome.message).toBe('');
    expect(await tableDigest('copy', 'public.accents')).toBe(await tableDigest('app', 'public.accents'));
    // Every table, not only the one with the split characters: rows and content as the backup holds them.
    expect(await tableContents(target, 'copy')).toEqual(good.source);
    await expectWorldIntact(world, before, outcome, { verifiedAllowed: true });
  });

  it('a selective restore into a side schema, multi-byte text split across pipe chunks included', async () => {
    const before = await snapshot(world);
    const outcome = await runLifeboat(
      {
        mode: 'restore',
        store: 'given',
        'backup-id': good.backupId,
        'target-url': target.url({ database: 'live' }),
        confirm: confirmFor(target, 'live'),
        tables: 'public.accents',
        'encryption-identity': a.identity,
      },
      { store },
    );
    expect(outcome.message).toBe('');
    const [side] = await target.query<{ schema: string }>(
      `SELECT table_schema AS schema FROM information_schema.tables WHERE table_name = 'accents' AND table_schema LIKE 'lifeboat_restore_%'`,
      [],
      'live',
    );
    expect(await tableDigest('live', `"${side!.schema}".accents`)).toBe(
      await tableDigest('app', 'public.accents'),
    );
    await target.exec(`DROP SCHEMA "${side!.schema}" CASCADE;`, 'live');
    await expectWorldIntact(world, before, outcome, { verifiedAllowed: true });
  });
});

describe('after every fault', () => {
  it('the good backup still restores by hand, every row back', async () => {
    await a.expectGoodRestorable(world.good);
  });
});
