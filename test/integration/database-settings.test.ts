import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confirmFor, startCluster, type Cluster } from '../helpers/cluster.js';
import { runLifeboat } from '../helpers/lifeboat.js';
import { backupFixture, type BackupFixture } from '../helpers/world.js';

/**
 * A database whose own settings would stop Lifeboat's sessions: a statement_timeout shorter
 * than a content fingerprint of its table takes (teams set one on whole databases; a drill
 * replays it onto the drill database), and a read-only default, as a database is set to stop
 * an application's writes during an incident, before the restore that ends it.
 */
let cluster: Cluster;
let fx: BackupFixture;
let url: string;

const SETTINGS = `ALTER DATABASE app SET statement_timeout = '50ms';
  ALTER DATABASE app SET default_transaction_read_only = on;`;

beforeAll(async () => {
  cluster = await startCluster();
  url = await cluster.createDatabase('app');
  await cluster.exec(
    `CREATE TABLE public.events (id bigint PRIMARY KEY, body text);
     INSERT INTO public.events SELECT g, md5(g::text) FROM generate_series(1, 300000) g;
     ${SETTINGS}`,
    'app',
  );
  fx = await backupFixture();
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
  await fx?.cleanup();
});

/** A value as a new session of the app database sees it. */
const shown = async (setting: string) =>
  (await cluster.query<{ v: string }>(`SELECT current_setting($1) AS v`, [setting], 'app'))[0]!.v;

describe("a database whose settings would stop Lifeboat's own sessions", () => {
  it('backs up with content fingerprints, drills, and restores in full and selectively, its settings kept', async () => {
    expect(await shown('default_transaction_read_only')).toBe('on');
    const backup = await runLifeboat(
      {
        mode: 'backup',
        'database-url': url,
        store: fx.dir,
        'encryption-identity': fx.identity,
        'verify-content': 'true',
      },
      { store: fx.store },
    );
    expect(backup.error).toBeUndefined();

    const drill = await runLifeboat(
      { mode: 'drill', store: fx.dir, 'target-url': cluster.url(), 'encryption-identity': fx.identity },
      { store: fx.store, runnerTemp: true },
    );
    expect(drill.error).toBeUndefined();
    // statement_timeout before the restore, the read-only default once the rows are in.
    expect(drill.summary).toMatch(/1 of 1 settings; 1 read-only setting once the rows are in/);

    const restore = (inputs: Record<string, string>) =>
      runLifeboat(
        {
          mode: 'restore',
          store: fx.dir,
          'target-url': url,
          'encryption-identity': fx.identity,
          confirm: confirmFor(cluster, 'app'),
          ...inputs,
        },
        { store: fx.store, unmasked: true },
      );
    const full = await restore({});
    expect(full.error).toBeUndefined();
    const selective = await restore({ tables: 'public.events' });
    expect(selective.error).toBeUndefined();
    // The database is as read-only by default as it was.
    expect(await shown('default_transaction_read_only')).toBe('on');
    expect(await shown('statement_timeout')).toBe('50ms');
  }, 240_000);
});
