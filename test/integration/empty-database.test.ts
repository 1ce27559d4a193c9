import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveKeyOf } from '../../src/archive/store-keys.js';
import { readBack } from '../../src/backup/read-back.js';
import { isLifeboatError } from '../../src/errors.js';
import { MemoryLog } from '../../src/log.js';
import { createToolFinder } from '../../src/postgres/tools.js';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { runLifeboat } from '../helpers/lifeboat.js';
import { backupFixture, type BackupFixture } from '../helpers/world.js';

/**
 * Day one: a team adds Lifeboat before its first migration, so the first backup is of a
 * database with nothing in it. pg_dump's table of contents is then empty, which for any other
 * database would mean a broken dump.
 */
let cluster: Cluster;
let fx: BackupFixture;
let url: string;

beforeAll(async () => {
  cluster = await startCluster();
  url = await cluster.createDatabase('fresh');
  fx = await backupFixture();
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  await fx?.cleanup();
});

describe('a database with nothing in it', () => {
  it('backs up verified, saying the backup is empty, and the drill restores it', async () => {
    const backup = await runLifeboat(
      { mode: 'backup', 'database-url': url, store: fx.dir, 'encryption-identity': fx.identity },
      { store: fx.store },
    );
    expect(backup.error).toBeUndefined();
    expect(backup.manifest!.verification.level).toBe('readable');
    expect(backup.manifest!.archive.tocEntries).toBe(0);
    expect(backup.log.lines).toContainEqual({
      level: 'warning',
      message: expect.stringMatching(/holds no objects .*this backup is empty/) as string,
    });

    const drill = await runLifeboat(
      { mode: 'drill', store: fx.dir, 'target-url': cluster.url(), 'encryption-identity': fx.identity },
      { store: fx.store, runnerTemp: true },
    );
    expect(drill.error).toBeUndefined();

    // The same archive read back for a database that held objects is refused: an empty
    // table of contents is right only when the catalog says there was nothing to dump.
    const { archive } = backup.manifest!;
    const refused = await readBack({
      store: fx.store,
      key: archiveKeyOf(backup.manifest!.name, backup.manifest!.backupId, 1, 1),
      sha256: archive.sha256,
      sizeBytes: archive.sizeBytes,
      keys: { identities: [fx.identity] },
      pgRestore: (await createToolFinder().candidates('pg_restore'))[0],
      log: new MemoryLog(),
    }).catch((error: unknown) => error);
    expect(isLifeboatError(refused, 'integrity')).toBe(true);
    expect((refused as Error).message).toMatch(/empty table of contents/);
  }, 120_000);
});
