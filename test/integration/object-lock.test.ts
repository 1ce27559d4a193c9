/**
 * S3 Object Lock, against the test S3 peer's stand-in that stores each object's retain-until
 * date and refuses to delete it before then (s3-object-lock.ts): backups put locked, a
 * bucket without Object Lock refused before any dump, other stores refused as input, and
 * retention that reports locked backups instead of failing on them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { newBackupId } from '../../src/archive/backup-id.js';
import { archiveKey, manifestKey, pinKey } from '../../src/archive/store-keys.js';
import { createS3Store } from '../../src/stores/s3.js';
import { expectNoSecrets, runLifeboat, startCli, warmCli } from '../helpers/lifeboat.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';
import { seedBackups } from '../helpers/manifest.js';
import { startWorld, type World } from '../helpers/world.js';

let world: World;
let s3: S3TestServer;

beforeAll(async () => {
  world = await startWorld({ fixtures: ['supabase'] });
  s3 = await startS3Server();
  world.extraSecrets.push({ label: 'the S3 secret key', value: s3.secretAccessKey });
  await warmCli(process.env);
});

afterAll(async () => {
  await s3?.stop();
  await world?.close();
});

const lifeboat = (args: string[], prefix: string) =>
  startCli([...args, '--store', `s3://${s3.bucket}/${prefix}`], { ...process.env, ...s3.env }).done;

const backup = (prefix: string, inputs: Record<string, string>) =>
  runLifeboat(
    {
      mode: 'backup',
      'database-url': world.appUrl,
      store: `s3://${s3.bucket}/${prefix}`,
      'encryption-recipient': world.recipient,
      'encryption-identity': world.identity,
      ...inputs,
    },
    { env: { ...process.env, ...s3.env } },
  );

describe('S3 Object Lock', () => {
  it('puts the archive and the manifest with a retain-until date, in the mode asked for', async () => {
    s3.objectLock.enabled = true;
    const started = Date.now();
    const run = await backup('locked', { 'object-lock-days': '30', 'object-lock-mode': 'compliance' });
    expect(run.message).toBe('');
    const id = run.outputs['backup-id']!;
    for (const key of [archiveKey('production', id), manifestKey('production', id)]) {
      const held = s3.objectLock.retained.get(`locked/${key}`);
      expect(held?.mode).toBe('COMPLIANCE');
      const days = (held!.until.getTime() - started) / 86_400_000;
      expect(days).toBeGreaterThan(29.99);
      expect(days).toBeLessThan(30.01);
    }
    // And the store reads the date back, as retention does before it deletes.
    const store = createS3Store(`s3://${s3.bucket}/locked`, s3.env);
    expect((await store.lockedUntil(manifestKey('production', id)))?.toISOString()).toBe(
      s3.objectLock.retained.get(`locked/${manifestKey('production', id)}`)!.until.toISOString(),
    );
    await store.close();
    expectNoSecrets(run, world.secrets());
  });

  it('fails a backup into a bucket without Object Lock before dumping anything, saying how to fix it', async () => {
    s3.objectLock.enabled = false;
    s3.operations.length = 0;
    const run = await backup('unlocked', { 'object-lock-days': '7' });
    expect(run.code).toBe(2);
    expect(run.message).toMatch(
      /Inputs `object-lock-days`\/`object-lock-mode` need Object Lock on the bucket, but .* has no Object Lock configuration/,
    );
    expect(run.message).toMatch(/put-object-lock-configuration/);
    expect(s3.operations).toEqual(['GetObjectLockConfiguration']);
    expect(run.log.text()).not.toMatch(/Backing up \(compressed/);
  });

  it('refuses object-lock inputs for stores that cannot lock, and bad values, naming the input', async () => {
    const local = await runLifeboat({
      mode: 'backup',
      'database-url': world.appUrl,
      store: './backups-never-written',
      'encryption-recipient': world.recipient,
      'object-lock-days': '7',
    });
    expect(local.code).toBe(2);
    expect(local.message).toMatch(
      /`object-lock-days` needs an S3 store; the store here is a local directory/,
    );
    for (const [inputs, message] of [
      [{ 'object-lock-days': '0' }, /`object-lock-days` is "0"; accepted values: a whole number of days/],
      [
        { 'object-lock-days': '7', 'object-lock-mode': 'legal' },
        /`object-lock-mode` is "legal"; accepted values: `governance`, `compliance`/,
      ],
      [{ 'object-lock-mode': 'compliance' }, /`object-lock-mode` is set but `object-lock-days` is not/],
    ] as const) {
      const run = await backup('never', inputs);
      expect({ code: run.code, message: run.message }).toEqual({
        code: 2,
        message: expect.stringMatching(message),
      });
    }
  });

  it('retention reports locked backups and keeps them instead of failing; once the lock ends they go', async () => {
    s3.objectLock.enabled = true;
    const store = createS3Store(`s3://${s3.bucket}/retained`, s3.env);
    const ids = await seedBackups(
      store,
      'production',
      [1, 2, 3].map((d) => new Date(Date.UTC(2026, 0, d))),
    );
    await store.close();
    // The two older ones are locked until a day from now, as a backup with object-lock-days: 1 puts them.
    const until = new Date(Date.now() + 86_400_000);
    for (const id of ids.slice(0, 2))
      for (const key of [archiveKey('production', id), manifestKey('production', id)])
        s3.objectLock.retained.set(`retained/${key}`, { mode: 'GOVERNANCE', until });
    const prune = () =>
      startCli(['prune', '--store', `s3://${s3.bucket}/retained`, '--keep', '1'], {
        ...process.env,
        ...s3.env,
      }).done;

    s3.operations.length = 0;
    const locked = await prune();
    expect(locked.code, locked.stderr).toBe(0);
    expect(locked.stderr).toContain('Retention of "production": 3 backup(s), deleted 0, 2 locked.');
    expect(locked.stderr).toContain(
      `${ids[0]}  locked until ${until.toISOString()} (no rule keeps it; Object Lock does)`,
    );
    expect(s3.operations).not.toContain('DeleteObject');

    for (const id of ids.slice(0, 2))
      for (const key of [archiveKey('production', id), manifestKey('production', id)])
        s3.objectLock.retained.set(`retained/${key}`, {
          mode: 'GOVERNANCE',
          until: new Date(Date.now() - 1000),
        });
    const expired = await prune();
    expect(expired.stderr).toContain('Retention of "production": 3 backup(s), deleted 2.');
    const left = await createS3Store(`s3://${s3.bucket}/retained`, s3.env).list('production/');
    expect(left.sort()).toEqual(
      [archiveKey('production', ids[2]!), manifestKey('production', ids[2]!)].sort(),
    );
  });

  it('never locks a pin (unpin works), and keeps a locked orphan past the grace period, saying so', async () => {
    s3.objectLock.enabled = true;
    const run = await backup('pinned', { 'object-lock-days': '1', pin: 'true' });
    expect(run.message).toBe('');
    const id = run.outputs['backup-id']!;
    expect(s3.objectLock.retained.has(`pinned/${archiveKey('production', id)}`)).toBe(true);
    expect(s3.objectLock.retained.has(`pinned/${pinKey('production', id)}`)).toBe(false);
    const unpin = await lifeboat(['unpin', id], 'pinned');
    expect(unpin.stderr).toContain(`Unpinned production/${id}`);

    // What a backup killed after its locked archive was stored leaves: an archive without a manifest.
    const stray = newBackupId(new Date(Date.now() - 2 * 86_400_000));
    const store = createS3Store(`s3://${s3.bucket}/pinned`, s3.env);
    await store.put(archiveKey('production', stray), Readable.from(['stray archive']));
    await store.close();
    const until = new Date(Date.now() + 3_600_000);
    s3.objectLock.retained.set(`pinned/${archiveKey('production', stray)}`, { mode: 'GOVERNANCE', until });
    const prune = await lifeboat(['prune', '--orphan-grace', '1h'], 'pinned');
    expect(prune.code, prune.stderr).toBe(0);
    expect(prune.stderr).toContain(
      `Kept the orphan ${archiveKey('production', stray)} (archive without a manifest, 13 B, 2d old): Object Lock holds it until ${until.toISOString()}.`,
    );
  });
});
