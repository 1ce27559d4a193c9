import { confirmFor, type Cluster } from '../helpers/cluster.js';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest } from '../../src/archive/manifests.js';
import { totalStoredBytes, type Manifest } from '../../src/archive/manifest.js';
import { readExpectedCatalog } from '../../src/archive/fetch.js';
import { sideSchemaName } from '../../src/restore/plan.js';
import { listBackupIds } from '../../src/stores/store.js';
import { backupFixture, startWorld, type BackupFixture, type World } from '../helpers/world.js';
import { rowCounts, databaseState } from '../helpers/fixtures.js';
import { runLifeboat } from '../helpers/lifeboat.js';

const run = promisify(execFile);

/**
 * A backup dumped by several pg_dump processes into several encrypted parts, end to end:
 * what each part holds, read back with the age and zstd CLIs; a drill and a full restore
 * that put the parts back together; a selective restore of a table a part carries; the
 * gate and retention seeing the parts as part of the backup.
 */
let world: World;
let source: Cluster;
let target: Cluster;
let fx: BackupFixture;
let appUrl: string;
let manifest: Manifest;
let original: unknown;
/** Every table's exact row count when the backup was taken. */
let originalCounts: Record<string, number>;
let summary: string;

/** Rows enough to make the big tables worth a part each; FKs across parts; awkward names. */
const BIG_TABLES = `
  CREATE TABLE public.accounts (id bigint PRIMARY KEY, email text NOT NULL UNIQUE);
  CREATE TABLE public.invoices (id bigserial PRIMARY KEY, account_id bigint NOT NULL REFERENCES public.accounts(id),
    total numeric(12,2), note text);
  CREATE TABLE "Mixed Case"."big ""quoted"".*name" (id int PRIMARY KEY, body jsonb);
  INSERT INTO public.accounts SELECT g, 'user' || g || '@example.com' FROM generate_series(1, 20000) g;
  INSERT INTO public.invoices (account_id, total, note)
    SELECT 1 + g % 20000, g / 7.0, repeat(md5(g::text), 4) FROM generate_series(1, 40000) g;
  INSERT INTO "Mixed Case"."big ""quoted"".*name" SELECT g, jsonb_build_object('n', g, 's', md5(g::text))
    FROM generate_series(1, 15000) g;
  ALTER TABLE public.invoices ENABLE ROW LEVEL SECURITY;
  CREATE POLICY invoices_own ON public.invoices USING (EXISTS (SELECT 1 FROM public.accounts a WHERE a.id = account_id));
`;

beforeAll(async () => {
  world = await startWorld({ targets: 1 });
  [source, target, appUrl] = [world.cluster, world.others[0]!, world.appUrl];
  await source.exec(BIG_TABLES, 'app');
  fx = await backupFixture();
  const backup = await runLifeboat(
    {
      mode: 'backup',
      'database-url': appUrl,
      store: fx.dir,
      'encryption-identity': fx.identity,
      'dump-jobs': '3',
    },
    { store: fx.store },
  );
  if (backup.error) throw backup.error;
  manifest = backup.manifest!;
  summary = backup.summary;
  original = await databaseState(appUrl);
  originalCounts = await rowCounts(source, 'app');
}, 120_000);

afterAll(async () => {
  await world?.close();
  await fx?.cleanup();
});

/** An archive of the store decrypted by the age CLI and decompressed by the zstd CLI, as `pg_restore --list` sees it. */
async function listWithClis(key: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'lifeboat-parts-'));
  try {
    const identity = path.join(dir, 'key.txt');
    await run('sh', ['-c', `umask 077; printf '%s\\n' "$1" > "$2"`, 'sh', fx.identity, identity]);
    const dump = path.join(dir, 'dump');
    await run('sh', [
      '-c',
      'age --decrypt -i "$1" "$2" | zstd -d -q -o "$3"',
      'sh',
      identity,
      path.join(fx.dir, key),
      dump,
    ]);
    return (await run(path.join(source.clientBinDir, 'pg_restore'), ['--list', dump])).stdout;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const dataEntries = (listing: string) =>
  listing
    .split('\n')
    .filter((l) => / TABLE DATA /.test(l) && !l.startsWith(';'))
    .map((l) => l.replace(/^.* TABLE DATA /, ''));

/** A drill of the newest backup into the target server, in a runner temp directory removed after. */
async function drill() {
  const run = await runLifeboat(
    { mode: 'drill', store: fx.dir, 'target-url': target.url(), 'encryption-identity': fx.identity },
    { store: fx.store, runnerTemp: true },
  );
  await rm(run.runnerTemp!, { recursive: true, force: true });
  return { ...run, report: run.report! };
}

/** A restore of the newest backup over the app database, confirmed, as the action runs it. */
const restoreApp = (inputs: Record<string, string>) =>
  runLifeboat(
    {
      mode: 'restore',
      store: fx.dir,
      'target-url': appUrl,
      'encryption-identity': fx.identity,
      confirm: confirmFor(source, 'app'),
      ...inputs,
    },
    { store: fx.store, unmasked: true },
  );

describe('a backup dumped in parallel parts', () => {
  it('stores three encrypted parts, each read back, and a manifest that lists them (version 3: it records roles too)', async () => {
    expect(manifest.formatVersion).toBe(3);
    expect(manifest.verification.level).toBe('readable');
    const parts = manifest.archive.parts!;
    expect(parts.map((p) => p.key)).toEqual([
      `production/${manifest.backupId}.part-2.dump.zst.age`,
      `production/${manifest.backupId}.part-3.dump.zst.age`,
    ]);
    for (const part of parts) {
      expect(part.tocEntries).toBeGreaterThan(0);
      expect(part.dumpBytes).toBeGreaterThan(0);
      const bytes = await readFile(path.join(fx.dir, part.key));
      expect(bytes.length).toBe(part.sizeBytes);
    }
    const ids = await listBackupIds(fx.store, 'production');
    expect(ids).toEqual([manifest.backupId]);
  });

  it('puts every table’s rows in exactly one part, and only rows in the data parts', async () => {
    const main = await listWithClis(manifest.archive.key);
    const partListings = await Promise.all(manifest.archive.parts!.map((p) => listWithClis(p.key)));
    for (const listing of partListings) {
      const kinds = listing
        .split('\n')
        .filter((l) => /^\d+;/.test(l))
        .map((l) => /^\d+; \d+ \d+ (TABLE DATA|SEQUENCE SET|\w+)/.exec(l)?.[1]);
      expect(kinds).toContain('TABLE DATA');
      expect(kinds.filter((k) => k !== 'TABLE DATA' && k !== 'SEQUENCE SET')).toEqual([]);
    }
    const everywhere = [main, ...partListings].flatMap(dataEntries);
    expect(everywhere.length).toBe(new Set(everywhere).size);
    expect(main).toMatch(/\d+; \d+ \d+ TABLE public accounts /);
    const catalog = await readExpectedCatalog(manifest, { identities: [fx.identity] });
    const inParts = catalog.tables.filter((t) => t.part);
    expect(new Set(inParts.map((t) => t.part))).toEqual(new Set([2, 3]));
    for (const t of inParts) {
      const listing = partListings[t.part! - 2]!;
      expect(dataEntries(listing)).toContainEqual(expect.stringContaining(`${t.schema} ${t.name} `));
      expect(dataEntries(main)).not.toContainEqual(expect.stringContaining(`${t.schema} ${t.name} `));
    }
    expect(inParts.map((t) => t.name)).toEqual(expect.arrayContaining(['invoices', 'big "quoted".*name']));
    // The plain manifest names no table: names belong in the encrypted catalog.
    const plain = await readFile(path.join(fx.dir, `production/${manifest.backupId}.manifest.json`), 'utf8');
    expect(plain).not.toContain('invoices');
  });

  it("restores by hand with the summary's commands: age, zstd and pg_restore alone", async () => {
    expect(summary).toMatch(/in 3 parts dumped in parallel/);
    const commands = /```sh\n([\s\S]*?)```/.exec(summary)![1]!;
    const dir = await mkdtemp(path.join(tmpdir(), 'lifeboat-by-hand-'));
    try {
      await run('sh', ['-c', `umask 077; printf '%s\\n' "$1" > key.txt`, 'sh', fx.identity], { cwd: dir });
      for (const a of [manifest.archive, ...manifest.archive.parts!]) {
        await run('cp', [path.join(fx.dir, a.key), dir]);
      }
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PG')));
      await run('sh', ['-e', '-c', commands.replace(/\brestored\b/g, 'by_hand')], {
        cwd: dir,
        env: {
          ...env,
          PGHOST: source.host,
          PGPORT: String(source.port),
          PGUSER: source.superuser,
          PGPASSWORD: source.password,
        },
      });
      expect(await rowCounts(source, 'by_hand')).toEqual(originalCounts);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('drills back: one pg_restore --jobs reads every part through named pipes, every table verified', async () => {
    const { report, log, error } = await drill();
    expect(error).toBeUndefined();
    expect(report.status).toBe('passed');
    expect(log.text()).toMatch(/entries in 3 archives; .* stored, streamed to pg_restore/);
    expect(log.text()).toMatch(/3 archives, every archive streamed and its SHA-256 checked/);
    // Each part is a stream of its own, read once; the main archive's rows share what jobs are left.
    expect(log.text()).toMatch(
      /Restoring with pg_restore --jobs=\d+, the rows of \d+ tables through named pipes from [3-9] streams of the backup…/,
    );
    expect(log.text()).toMatch(/Restored in /);
    const catalog = await readExpectedCatalog(manifest, { identities: [fx.identity] });
    expect(report.compared.rows).toBe(catalog.tables.filter((t) => t.kind === 'r').length);
    expect(report.checks.filter((c) => c.severity === 'error')).toEqual([]);
    expect(report.backup).toMatchObject({ parts: 3, sizeBytes: totalStoredBytes(manifest) });
  });

  it('fails the drill on a part altered in the store, naming it, and leaves no drill database', async () => {
    const part = manifest.archive.parts![1]!.key;
    const file = path.join(fx.dir, part);
    const saved = await readFile(file);
    const altered = Buffer.from(saved);
    altered[altered.length >> 1]! ^= 0x01;
    await writeFile(file, altered);
    try {
      const run = await drill();
      expect(run.report.status).toBe('failed');
      expect(run.error?.message).toContain(`Reading ${part}: Authentication failed for chunk`);
      // Found by whichever read reaches the damage first: the one of its table of contents (a
      // stream runs ahead of its reader) or the one of its rows.
      expect(['Read the table of contents from the store', 'pg_restore']).toContain(run.report.failure?.step);
      const left = await target.query(
        `SELECT datname FROM pg_database WHERE datname LIKE 'lifeboat_drill_%'`,
      );
      expect(left).toEqual([]);
    } finally {
      await writeFile(file, saved);
    }
  });

  it('restores over the live database in one transaction, exactly as backed up', async () => {
    await source.exec(
      `DELETE FROM public.invoices WHERE id % 3 = 0; UPDATE public.accounts SET email = email || '.old' WHERE id < 100;`,
      'app',
    );
    const before = await rowCounts(source, 'app');
    const restore = await restoreApp({});
    expect(restore.error).toBeUndefined();
    expect(await databaseState(appUrl)).toEqual(original);
    expect((await rowCounts(source, 'app'))['public.invoices']).toBeGreaterThan(before['public.invoices']!);
  });

  it('restores one table whose rows a part carries into a side schema', async () => {
    const restore = await restoreApp({ tables: 'public.invoices' });
    expect(restore.error).toBeUndefined();
    const rows = await source.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${sideSchemaName(manifest.backupId)}.invoices`,
      [],
      'app',
    );
    expect(Number(rows[0]!.n)).toBe(40000);
    // Reviewed and dropped, as its note asks: the database is the backup's again for the other tests.
    await source.exec(`DROP SCHEMA ${sideSchemaName(manifest.backupId)} CASCADE`, 'app');
  });

  it('dumps in one part, and says so, when too few tables hold rows to share out', async () => {
    const url = await source.createDatabase('one_table');
    await source.exec(
      'CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 1000);',
      'one_table',
    );
    const backup = await runLifeboat(
      {
        mode: 'backup',
        'database-url': url,
        store: fx.dir,
        name: 'one-table',
        'encryption-recipient': fx.recipient,
        'dump-jobs': '4',
      },
      { store: fx.store },
    );
    expect(backup.error).toBeUndefined();
    expect(backup.manifest!.formatVersion).toBe(3);
    expect(backup.manifest!.archive.parts).toBeUndefined();
    expect(backup.log.text()).toMatch(
      /dump-jobs is 4, but too few tables hold rows to share them out: dumping in one part\./,
    );
  });

  it('gate: a missing part fails the gate by name; retention removes every part', async () => {
    // A set of its own: retention here must not take the backup the other tests read.
    const name = 'gate-parts';
    const own = await runLifeboat(
      {
        mode: 'backup',
        'database-url': appUrl,
        store: fx.dir,
        name,
        'encryption-identity': fx.identity,
        'dump-jobs': '3',
      },
      { store: fx.store },
    );
    expect(own.error).toBeUndefined();
    const manifest = own.manifest!;
    expect(manifest.archive.parts?.length).toBeGreaterThan(0);
    const gate = () => runLifeboat({ mode: 'gate', store: fx.dir, name }, { store: fx.store });
    expect((await gate()).outputs.fresh).toBe('true');
    const part = manifest.archive.parts![1]!.key;
    const saved = await readFile(path.join(fx.dir, part));
    await rm(path.join(fx.dir, part));
    const failed = await gate();
    expect(failed.outputs.fresh).toBe('false');
    expect(failed.error?.message).toContain(`its archive part ${part} is missing from the store`);
    await fx.store.put(part, (await import('node:stream')).Readable.from([saved]));

    const next = await runLifeboat(
      {
        mode: 'backup',
        'database-url': appUrl,
        store: fx.dir,
        name,
        'encryption-identity': fx.identity,
        keep: '1',
      },
      { store: fx.store },
    );
    expect(next.error).toBeUndefined();
    expect(next.manifest!.formatVersion).toBe(3);
    const keys = await fx.store.list(`${name}/`);
    expect(keys.filter((k) => k.includes(manifest.backupId))).toEqual([]);
    await expect(readManifest(fx.store, name, manifest.backupId)).rejects.toThrow();
  });
});
