/**
 * Retention as a user runs it: tiered rules over a year of nightly backups (seeded as
 * manifests, a pg_dump each would take an hour), pins, orphans left in the store, and
 * real backups whose runs apply retention and list the plan in the job summary.
 */
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newBackupId } from '../../src/archive/backup-id.js';
import { archiveKey, drillRecordKey, manifestKey, pinKey } from '../../src/archive/store-keys.js';
import { backupFixture, startWorld, type BackupFixture, type World } from '../helpers/world.js';
import { seedBackups } from '../helpers/manifest.js';
import { expectNoSecrets, runLifeboat, startCli, warmCli } from '../helpers/lifeboat.js';

let fx: BackupFixture;
let world: World;

beforeAll(async () => {
  fx = await backupFixture();
  world = await startWorld({ fixtures: ['supabase'] });
  await warmCli(process.env);
});

afterAll(async () => {
  await fx?.cleanup();
  await world?.close();
});

const lifeboat = (args: string[]) => startCli([...args, '--store', fx.dir], process.env).done;
const day = 86_400_000;
/** One backup a night at 02:00 UTC through 2025. */
const nights = Array.from({ length: 365 }, (_, i) => new Date(Date.UTC(2025, 0, 1, 2) + i * day));
const on = (ids: string[], date: string) => ids[nights.findIndex((n) => n.toISOString().startsWith(date))]!;
const manifestIds = async (name: string) =>
  (await fx.store.list(`${name}/`))
    .filter((k) => k.endsWith('.manifest.json'))
    .map((k) => k.slice(name.length + 1, -'.manifest.json'.length))
    .sort();

describe('tiered retention over a year of nightly backups', () => {
  it('prune --dry-run names the rule that keeps each backup or "delete"; prune keeps exactly that set and the pins', async () => {
    const ids = await seedBackups(fx.store, 'year', nights);
    const pinned = on(ids, '2025-02-14');
    const pin = await lifeboat([
      'pin',
      pinned,
      '--name',
      'year',
      '--reason',
      'last backup before migration 0042',
    ]);
    expect(pin.code, pin.stderr).toBe(0);
    const rules = ['--keep-daily', '7', '--keep-weekly', '4', '--keep-monthly', '12', '--keep-yearly', '2'];

    const dry = await lifeboat(['prune', '--name', 'year', ...rules, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toContain('Retention of "year": 365 backup(s), would delete 344.');
    const verdict = (date: string) => new RegExp(`${on(ids, date)}  (.*)`).exec(dry.stderr)?.[1];
    expect(verdict('2025-12-31')).toBe(
      'kept by newest verified, keep-daily, keep-weekly, keep-monthly, keep-yearly',
    );
    expect(verdict('2025-12-28')).toBe('kept by keep-daily, keep-weekly');
    expect(verdict('2025-12-21')).toBe('kept by keep-weekly');
    expect(verdict('2025-06-30')).toBe('kept by keep-monthly');
    expect(verdict('2025-02-14')).toBe('kept by pinned');
    expect(verdict('2025-06-29')).toBe('delete (dry run: not deleted)');
    expect(await manifestIds('year')).toHaveLength(365);

    const prune = await lifeboat(['prune', '--name', 'year', ...rules]);
    expect(prune.code, prune.stderr).toBe(0);
    const monthEnds = ['01-31', '02-28', '03-31', '04-30', '05-31', '06-30', '07-31', '08-31', '09-30'];
    const kept = [
      ...[...monthEnds, '10-31', '11-30', '12-14', '12-21', '02-14'].map((d) => `2025-${d}`),
      ...[25, 26, 27, 28, 29, 30, 31].map((d) => `2025-12-${d}`),
    ].map((date) => on(ids, date));
    expect(await manifestIds('year')).toEqual(kept.sort());
    // Every key of a deleted backup went with its manifest; nothing else was touched.
    const keys = (await fx.store.list('year/')).sort();
    expect(keys).toEqual(
      [
        ...kept.flatMap((id) => [archiveKey('year', id), manifestKey('year', id)]),
        pinKey('year', pinned),
      ].sort(),
    );
    const list = await lifeboat(['list', '--name', 'year']);
    expect(list.stdout).toMatch(new RegExp(`${pinned} .* yes: last backup before migration 0042`));
  });
});

describe('pins', () => {
  it('pin and unpin by id or latest; list shows the reason; pinned backups survive every prune', async () => {
    const ids = await seedBackups(
      fx.store,
      'pins',
      [1, 2, 3].map((d) => new Date(Date.UTC(2026, 5, d, 2))),
    );
    // A reason with a terminal escape, a line break and table syntax stays one line of text.
    const hostile = 'before \u001b[2J\u001b]0;owned\u0007 migration\nrm -rf / | x |';
    expect((await lifeboat(['pin', ids[0]!, '--name', 'pins', '--reason', hostile])).code).toBe(0);
    const list = await lifeboat(['list', '--name', 'pins']);
    // No control character but the line ends.
    expect([...list.stdout].filter((c) => c !== '\n' && (c < ' ' || c === '\u007f'))).toEqual([]);
    const row = list.stdout.split('\n').find((l) => l.startsWith(ids[0]!))!;
    expect(row).toMatch(/yes: before \[2J ]0;owned migration rm -rf \/ \| x \|$/);
    expect((await lifeboat(['list', '--name', 'pins', '--json'])).stdout).toContain('"pinned": true');
    // The pin is one object under its derived key, whatever the reason said.
    expect((await fx.store.list('pins/')).filter((k) => k.includes('.pin.'))).toEqual([
      pinKey('pins', ids[0]!),
    ]);

    expect((await lifeboat(['prune', '--name', 'pins', '--keep', '1'])).code).toBe(0);
    expect(await manifestIds('pins')).toEqual([ids[0], ids[2]]);
    const unpin = await lifeboat(['unpin', ids[0]!, '--name', 'pins']);
    expect(unpin.stderr).toContain(`Unpinned pins/${ids[0]}`);
    expect((await lifeboat(['prune', '--name', 'pins', '--keep', '1'])).code).toBe(0);
    expect(await manifestIds('pins')).toEqual([ids[2]]);

    const latest = await lifeboat(['pin', 'latest', '--name', 'pins']);
    expect(latest.stderr).toContain(`Pinned pins/${ids[2]}: pinned by hand.`);
  });

  it('refuses to pin a backup that is not there, or no backup at all, and says how to find one', async () => {
    const missing = await lifeboat(['pin', newBackupId(), '--name', 'pins-missing']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/has no pins-missing\/.*\.manifest\.json/);
    const none = await lifeboat(['pin', '--name', 'pins-missing']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/pin needs the backup to pin: `lifeboat pin BACKUP-ID`[\s\S]*lifeboat list/);
    const bad = await lifeboat(['unpin', '../../etc', '--name', 'pins-missing']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Input `backup-id` is "..\/..\/etc"/);
  });
});

describe('orphans', () => {
  it('list --all shows incomplete objects with age and size; prune removes only those past orphan-grace, inside the set', async () => {
    const [kept] = await seedBackups(fx.store, 'strays', [new Date(Date.now() - 5 * day)]);
    const old = newBackupId(new Date(Date.now() - 3 * day));
    const young = newBackupId(new Date(Date.now() - 60_000));
    const put = (key: string, text = `bytes of ${key}`) => fx.store.put(key, Readable.from([text]));
    await put(archiveKey('strays', old), 'x'.repeat(3000));
    await put(drillRecordKey('strays', old));
    await put(archiveKey('strays', young));
    // Not keys of the set: never listed as its orphans, never removed.
    await put('strays/notes.txt');
    await put(`strays/${old}.dump.zst.age.bak`);
    await put(archiveKey('other', old));
    // Temp files of writes killed mid-way, one two days old and one still fresh.
    const dir = path.join(fx.dir, 'strays');
    await mkdir(dir, { recursive: true });
    const staleTemp = path.join(dir, `.${old}.manifest.json.0a1b2c3d.tmp`);
    await writeFile(staleTemp, 'y'.repeat(1500));
    await utimes(staleTemp, new Date(Date.now() - 2 * day), new Date(Date.now() - 2 * day));
    await writeFile(path.join(dir, `.${young}.dump.zst.age.4e5f6a7b.tmp`), 'z');

    const listed = await lifeboat(['list', '--all', '--name', 'strays', '--json']);
    const incomplete = (JSON.parse(listed.stdout) as { incomplete: { key: string; what: string }[] })
      .incomplete;
    expect(incomplete.map((o) => `${o.key} ${o.what}`).sort()).toEqual(
      [
        `${archiveKey('strays', old)} archive without a manifest`,
        `${drillRecordKey('strays', old)} drill record without a manifest`,
        `${archiveKey('strays', young)} archive without a manifest`,
        `${manifestKey('strays', old)} temp file`,
        `${archiveKey('strays', young)} temp file`,
      ].sort(),
    );
    const table = await lifeboat(['list', '--all', '--name', 'strays']);
    expect(table.stdout).toMatch(
      new RegExp(`strays/${old}\\.dump\\.zst\\.age +incomplete: archive without a manifest +3d +2\\.9 KiB`),
    );

    const prune = await lifeboat(['prune', '--name', 'strays']);
    expect(prune.code, prune.stderr).toBe(0);
    expect(prune.stderr).toContain('No retention rule given');
    expect(prune.stderr).toContain(
      `Removed the orphan ${archiveKey('strays', old)} (archive without a manifest, 2.9 KiB, 3d old).`,
    );
    expect(prune.stderr).toMatch(/Left 2 incomplete object\(s\) younger than the grace period of 1d alone/);
    expect((await fx.store.list('strays/')).sort()).toEqual(
      [
        archiveKey('strays', kept!),
        manifestKey('strays', kept!),
        archiveKey('strays', young),
        'strays/notes.txt',
        `strays/${old}.dump.zst.age.bak`,
      ].sort(),
    );
    expect(await fx.store.list('other/')).toEqual([archiveKey('other', old)]);
    const after = JSON.parse((await lifeboat(['list', '--all', '--name', 'strays', '--json'])).stdout) as {
      incomplete: { key: string; what: string }[];
    };
    expect(after.incomplete.map((o) => o.what).sort()).toEqual(['archive without a manifest', 'temp file']);
  });
});

describe('retention after real backups', () => {
  it('a pinned backup (pin: true) outlives keep-daily; the job summary lists the plan', async () => {
    const inputs = {
      mode: 'backup',
      'database-url': world.appUrl,
      store: fx.dir,
      name: 'real',
      'encryption-recipient': world.recipient,
      'encryption-identity': world.identity,
    };
    const first = await runLifeboat({ ...inputs, pin: 'true' });
    expect(first.message).toBe('');
    expect(first.log.text()).toContain(`Pinned ${first.outputs['backup-id']}`);
    const second = await runLifeboat({ ...inputs, 'keep-daily': '1' });
    expect(second.message).toBe('');
    const third = await runLifeboat({ ...inputs, 'keep-daily': '1' });
    expect(third.message).toBe('');
    const [a, b, c] = [first, second, third].map((r) => r.outputs['backup-id']!);
    expect(await manifestIds('real')).toEqual([a, c]);
    expect(third.summary).toContain('### Retention of `real`');
    expect(third.summary).toMatch(
      new RegExp(`\\| \`${c}\` \\| .* \\| kept by newest verified, keep-daily \\|`),
    );
    expect(third.summary).toMatch(new RegExp(`\\| \`${a}\` \\| .* \\| kept by pinned \\|`));
    expect(third.summary).toMatch(new RegExp(`\\| \`${b}\` \\| .* \\| delete \\|`));
    expect(await fx.store.list('real/')).not.toContain(archiveKey('real', b!));
    for (const run of [first, second, third]) expectNoSecrets(run, world.secrets());
  });

  it('lifeboat backup --pin pins the backup it takes, and list says so', async () => {
    const run = await startCli(['backup', '--store', fx.dir, '--name', 'cli-pin', '--pin', '--json'], {
      ...process.env,
      DATABASE_URL: world.appUrl,
      LIFEBOAT_RECIPIENT: world.recipient,
    }).done;
    expect(run.code, run.stderr).toBe(0);
    const id = (JSON.parse(run.stdout) as Record<string, string>)['backup-id']!;
    const list = await lifeboat(['list', '--name', 'cli-pin']);
    expect(list.stdout).toMatch(new RegExp(`${id} .* yes: pinned when taken \\(input pin: true\\)`));
    expectNoSecrets([run.stdout, run.stderr, list.stdout, list.stderr], world.secrets());
  });
});
