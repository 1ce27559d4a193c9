/**
 * Faults a restore drill must catch after pg_restore has said "success": altered values with
 * the same row count, and a restore that quietly loses large objects, a materialized view's
 * data, a trigger's disabled state or a foreign key's validation. And the restore-side faults:
 * a role the target lacks. The lossy restores are real pg_restore runs followed by the damage
 * (a wrapper in `pg-bin-dir`), as a faulty tool or a profile that skips too much would leave it.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStore } from '../../src/stores/local.js';
import { faultWorld, expectFaultCaught, snapshot, type Expected, type FaultWorld } from './assertions.js';
import { copyBackup, resealed } from './damage.js';
import { recordingTool, wrapperBinDir } from './inject.js';
import { expectNoSecrets, runLifeboat } from '../helpers/lifeboat.js';
import { startWorld, type SandboxedWorld } from '../helpers/world.js';
import type { GoodBackup } from '../helpers/good-backups.js';
import { forgetRoleRecords } from '../helpers/older-backup.js';

let a: SandboxedWorld;
let store: LocalStore;
let world: FaultWorld;
let good: GoodBackup;

beforeAll(async () => {
  a = await startWorld({ sandbox: true, fixtures: ['supabase'] });
  // States a restore must bring back exactly: large objects, a disabled trigger.
  await a.cluster.exec(
    `SELECT lo_from_bytea(0, convert_to('large object ' || n, 'UTF8')) FROM generate_series(1, 3) AS n;
     ALTER TABLE public.clips DISABLE TRIGGER clips_updated_at;
     CREATE TABLE public.notes (id int PRIMARY KEY, body text);
     INSERT INTO public.notes VALUES (1, 'first'), (2, 'the one value a flipped byte changes'), (3, 'last');`,
    'app',
  );
  store = await a.sandbox.localStore('drill');
  good = await a.goodBackup(store);
  world = { ...faultWorld(a, [store], [good]) };
});

afterAll(async () => {
  await a?.close();
});

/** A pg_restore that restores for real, then runs `sql` in the restored database. */
async function lossyRestore(sql: string): Promise<string> {
  return wrapperBinDir(a.sandbox.root, {
    // A streamed drill runs several pg_restore: the loss comes after the last one, the one
    // that restores the rest of post-data (not the schema, the rows, the index shares, the
    // schema that waited for the rows or the foreign keys added beside them).
    pg_restore: `db=""
for arg in "$@"; do case "$arg" in --dbname=*) db="\${arg#--dbname=}";; esac; done
"$REAL" "$@" || exit $?
[ -z "$db" ] && exit 0
case "$*" in *--section=pre-data*|*--section=data*|*indexes-*|*schema-after-rows*|*foreign-key-*) exit 0;; esac
"$(dirname "$REAL")/psql" -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL' || exit 1
${sql}
SQL`,
  });
}

interface Row {
  fault: string;
  /** Returns the backup id to drill (a copy of the good backup) and extra inputs. */
  inject: () => Promise<{ backupId: string; inputs?: Record<string, string> }>;
  expected: Expected;
}

const copy = () => copyBackup(store, good.manifest);

const rows: Row[] = [
  {
    fault: 'one flipped byte in the uncompressed dump: same row count, altered data',
    inject: async () => {
      const original = await buffer(await store.get(good.manifest.archive.key));
      const flip = (dump: Buffer) => {
        const at = dump.indexOf('the one value a flipped byte changes');
        if (at < 0 || dump.indexOf('the one value', at + 1) >= 0) throw new Error('value not found once');
        const out = Buffer.from(dump);
        out[at + 4] = out[at + 4]! ^ 0x01;
        return out;
      };
      const archive = await resealed(original, a, flip, a.sandbox.root);
      // Encryption, compression and checksum all agree: only the content can tell.
      return { backupId: await copyBackup(store, good.manifest, { archive: () => archive, rehash: true }) };
    },
    expected: {
      code: 'drill',
      message: /public\.notes: the restored rows differ from the backup's in content/,
    },
  },
  {
    fault: 'a restore that loses the large objects',
    inject: async () => ({
      backupId: await copy(),
      inputs: { 'pg-bin-dir': await lossyRestore('SELECT lo_unlink(oid) FROM pg_largeobject_metadata;') },
    }),
    expected: { code: 'drill', message: /0 large objects restored, 3 expected/ },
  },
  {
    fault: "a restore that leaves a materialized view's data out",
    inject: async () => ({
      backupId: await copy(),
      inputs: {
        'pg-bin-dir': await lossyRestore('REFRESH MATERIALIZED VIEW public.job_stats WITH NO DATA;'),
      },
    }),
    expected: {
      code: 'drill',
      message: /materialized view public\.job_stats: populated is false, expected true/i,
    },
  },
  {
    fault: "a restore that loses a trigger's disabled state",
    inject: async () => ({
      backupId: await copy(),
      inputs: {
        'pg-bin-dir': await lossyRestore('ALTER TABLE public.clips ENABLE TRIGGER clips_updated_at;'),
      },
    }),
    expected: {
      code: 'drill',
      message: /trigger clips_updated_at on public\.clips: enabled state is "O", expected "D"/i,
    },
  },
  {
    fault: "a restore that loses a foreign key's validation",
    inject: async () => ({
      backupId: await copy(),
      inputs: {
        'pg-bin-dir': await lossyRestore(
          `ALTER TABLE public.projects DROP CONSTRAINT projects_workspace_id_fkey;
           ALTER TABLE public.projects ADD CONSTRAINT projects_workspace_id_fkey
             FOREIGN KEY (workspace_id) REFERENCES public.workspaces (id) ON DELETE CASCADE NOT VALID;`,
        ),
      },
    }),
    expected: {
      code: 'drill',
      message: /constraint projects_workspace_id_fkey on public\.projects/i,
      shown: [
        /constraint projects_workspace_id_fkey on public\.projects: validated is false, expected true/i,
      ],
    },
  },
  {
    fault:
      'a role missing on the restore target (a backup that recorded no roles; profile postgres creates none)',
    inject: async () => {
      // Roles live in the server, not the dump: the target lacks this one and no profile makes it.
      await a.cluster.createRole('reporting');
      await a.cluster.exec(
        `CREATE POLICY "reporting reads notes" ON public.notes FOR SELECT TO reporting USING (true);`,
        'app',
      );
      const taken = await a.goodBackup(store, 'with-role');
      // A backup that records its roles creates them: only one from an older Lifeboat meets this fault.
      await forgetRoleRecords(store, 'with-role', taken.backupId, a.identity);
      await a.cluster.exec(
        `DROP POLICY "reporting reads notes" ON public.notes; DROP ROLE reporting;`,
        'app',
      );
      return { backupId: taken.backupId, inputs: { name: 'with-role', profile: 'postgres' } };
    },
    expected: { code: 'drill', message: /role "reporting" does not exist/, hint: /role/ },
  },
];

describe('drill faults', () => {
  it.each(rows)('$fault', async ({ inject, expected }) => {
    const { backupId, inputs } = await inject();
    const before = await snapshot(world);
    const outcome = await runLifeboat(
      {
        mode: 'drill',
        store: 'given',
        'backup-id': backupId,
        'target-url': a.cluster.url(),
        'encryption-identity': a.identity,
        ...inputs,
      },
      { store },
    );
    await expectFaultCaught(world, before, outcome, expected);
  });

  it('passes a drill of the same backup untouched, comparing every table by content, with no password on a command line', async () => {
    const log = await mkdtemp(path.join(a.sandbox.root, 'argv-'));
    const bin = await wrapperBinDir(a.sandbox.root, { pg_restore: recordingTool(log) });
    const outcome = await runLifeboat(
      {
        mode: 'drill',
        store: 'given',
        'backup-id': await copy(),
        'target-url': a.cluster.url(),
        'encryption-identity': a.identity,
        'pg-bin-dir': bin,
      },
      { store },
    );
    const [argv, env] = await Promise.all(['argv', 'env'].map((f) => readFile(path.join(log, f), 'utf8')));
    await rm(log, { recursive: true });
    expect(outcome.message).toBe('');
    expect(outcome.outputs.status).toBe('passed');
    expect(outcome.summaries.join('\n')).toMatch(/Table contents \(fingerprint\) \| \d+ \| ✅/);
    expect(argv).toMatch(/--exit-on-error/);
    expectNoSecrets(argv!, [a.cluster.password]);
    expect(env).toContain(`PGPASSWORD=${a.cluster.password}`);
  });
});

describe('after every fault', () => {
  it('the good backup still restores by hand, every row back', async () => {
    await a.expectGoodRestorable(world.good);
  });
});
