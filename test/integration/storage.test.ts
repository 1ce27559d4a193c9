import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity } from '../../src/archive/age/index.js';
import { readManifest } from '../../src/archive/manifests.js';
import { showBackup } from '../../src/cli/show.js';
import { confirmFor } from '../helpers/cluster.js';
import { expectNoSecrets, runLifeboat, startCli } from '../helpers/lifeboat.js';
import { sha256, startStorageWorld, warningsOf, type StorageWorld } from '../helpers/storage-world.js';

const run = promisify(execFile);

/** Every file under a directory (empty folders a store leaves say nothing). */
const filesIn = async (dir: string) =>
  (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
let sw: StorageWorld;

const FILES: [string, string, string | Buffer][] = [
  ['avatars', 'u1/face.png', Buffer.alloc(10_000, 7)],
  ['avatars', 'u2/a face with spaces.jpg', 'jpeg bytes'],
  // Larger than what is fetched ahead whole: it streams from the bucket into the tar and back.
  ['avatars', 'u1/video.bin', randomBytes(3 * 1024 * 1024 + 17)],
  ['documents', 'deep/er/and/deeper/still/report.pdf', 'pdf bytes'],
  ['documents', 'ünïcødé/日本語/ファイル.txt', 'unicode body'],
];

beforeAll(async () => {
  sw = await startStorageWorld();
  for (const [bucket, key, body] of FILES)
    await sw.upload(bucket, key, body, { contentType: 'image/png', metadata: { owner: 'u1' } });
}, 120_000);

afterAll(async () => {
  await sw?.close();
});

describe('Storage backup', () => {
  it('archives every object of every bucket into a tar that age, zstd and tar recover by hand', async () => {
    const backup = await runLifeboat(sw.backupInputs(['avatars', 'documents', 'empty']), { env: sw.env });
    expect(backup.message).toBe('');
    const m = backup.manifest!;
    expect(m.formatVersion).toBe(4);
    expect(m.storage).toMatchObject({
      objects: 5,
      buckets: 3,
      key: `production/${m.backupId}.storage.tar.zst.age`,
    });
    // Nothing of the user's in the plain manifest: no bucket names, no keys.
    const plain = JSON.stringify({ ...m, catalog: '' });
    for (const [bucket, key] of FILES) {
      expect(plain).not.toContain(bucket);
      expect(plain).not.toContain(key);
    }
    expect(m.verification.level).toBe('readable');
    const shown: string[] = [];
    await showBackup(
      sw.fx.store,
      { name: 'production', backupId: m.backupId, keys: { identities: [sw.fx.identity] }, json: false },
      (t) => shown.push(t),
    );
    expect(shown.join('')).toMatch(
      /Storage:\n {2}avatars: 3 objects, .*\n {2}documents: 2 objects, .*\n {2}empty: 0 objects, 0 B\n/,
    );
    expectNoSecrets(backup, sw.world.secrets());

    const dir = await mkdtemp(path.join(tmpdir(), 'lifeboat-untar-'));
    try {
      const key = path.join(dir, 'key.txt');
      await writeFile(key, sw.fx.identity, { mode: 0o600 });
      const archive = path.join(sw.fx.dir, m.storage!.key);
      await run('sh', ['-c', 'age -d -i "$1" "$2" | zstd -d | tar x -C "$3"', 'sh', key, archive, dir]);
      for (const [bucket, name, body] of FILES)
        expect(sha256(await readFile(path.join(dir, bucket, name)))).toBe(sha256(body));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('Storage with the recipient only', () => {
  it('stores and hashes the Storage archive back, and claims no more than level stored', async () => {
    const { 'encryption-identity': _identity, ...inputs } = sw.backupInputs(['documents']);
    const backup = await runLifeboat(inputs, { env: sw.env });
    expect(backup.message).toBe('');
    expect(backup.manifest!.verification.level).toBe('stored');
    expect(backup.manifest!.storage).toMatchObject({ objects: 2, buckets: 1 });
  });
});

/** A drill of one backup into a database of the source server, as a workflow runs it. */
const drillOf = (backupId: string, store = sw.fx.dir, identity = sw.fx.identity) =>
  runLifeboat(
    {
      mode: 'drill',
      'target-url': sw.world.cluster.url(),
      store,
      'encryption-identity': identity,
      'backup-id': backupId,
    },
    { env: sw.env, runnerTemp: true },
  );

describe('Storage in a drill', () => {
  it('fails by bucket and key when a storage.objects row has no object in the backup', async () => {
    // A row whose file is gone from the bucket: the backup warns, the drill fails.
    await sw.upload('documents', 'lost/contract.pdf', 'signed');
    await sw.remove('documents', 'lost/contract.pdf');
    try {
      const backup = await runLifeboat(sw.backupInputs(['avatars', 'documents']), { env: sw.env });
      expect(backup.message).toBe('');
      expect(warningsOf(backup).join('\n')).toContain('"documents/lost/contract.pdf"');
      expect(backup.summary).toContain('storage.objects rows without their object');
      const drill = await drillOf(backup.manifest!.backupId);
      expect(drill.code).toBe(1);
      expect(drill.message).toContain('bucket "documents", key "lost/contract.pdf"');
      const storageChecks = drill.report!.checks.filter((c) => c.kind === 'storage');
      expect(storageChecks.map((c) => [c.severity, c.object])).toEqual([
        ['error', '"documents/lost/contract.pdf"'],
      ]);
      expect(drill.report!.compared.storage).toBe(5);
      expect(drill.summary).toMatch(
        /\| Storage objects \(SHA-256, storage.objects rows\) \| 5 \| .*1 failed/,
      );
      expect(drill.report!.steps.find((s) => s.name.startsWith('Check Storage'))?.detail).toContain(
        '5 objects in 2 buckets',
      );
    } finally {
      await sw.world.cluster.query("DELETE FROM storage.objects WHERE name = 'lost/contract.pdf'", [], 'app');
    }
  });

  it('passes with every object and row matched, and reports the Storage step', async () => {
    const backup = await runLifeboat(sw.backupInputs(['avatars', 'documents']), { env: sw.env });
    expect(warningsOf(backup)).toEqual([]);
    const drill = await drillOf(backup.manifest!.backupId);
    expect(drill.message).toBe('');
    expect(drill.report!.steps.find((s) => s.name.startsWith('Check Storage'))).toMatchObject({
      status: 'ok',
    });
  });
});

describe('Storage with copies and key rotation', () => {
  it('copies the Storage archive with the set, and a rekey re-encrypts it so only the new key reads it', async () => {
    const backup = await runLifeboat(sw.backupInputs(['avatars', 'documents']), { env: sw.env });
    expect(backup.message).toBe('');
    const id = backup.manifest!.backupId;
    const dir = await mkdtemp(path.join(tmpdir(), 'lifeboat-storage-copy-'));
    try {
      const copy = await runLifeboat({ mode: 'copy', store: sw.fx.dir, 'copy-to': dir, 'backup-id': id });
      expect(copy.message).toBe('');
      expect(copy.outputs.copied).toBe('1');
      const original = `production/${id}.storage.tar.zst.age`;
      expect(sha256(await readFile(path.join(dir, original)))).toBe(
        sha256(await readFile(path.join(sw.fx.dir, original))),
      );

      const next = generateIdentity();
      const rekey = await startCli(
        ['rekey', '--store', dir, '--recipient', next.recipient, '--backup-id', id],
        {
          ...process.env,
          LIFEBOAT_IDENTITY: sw.fx.identity,
          LIFEBOAT_NEW_IDENTITY: next.identity,
        },
      ).done;
      expect(rekey.code, rekey.stderr).toBe(0);
      const files = (await filesIn(dir)).map((f) => path.relative(dir, f));
      expect(files).toContain(`production/${id}.k2.storage.tar.zst.age`);
      expect(files).not.toContain(original);

      // The old key opens nothing of the rekeyed Storage archive; the new one drills it whole.
      const key = path.join(dir, 'old-key.txt');
      await writeFile(key, sw.fx.identity, { mode: 0o600 });
      const archive = path.join(dir, `production/${id}.k2.storage.tar.zst.age`);
      await expect(
        run('sh', ['-c', 'age -d -i "$1" "$2" > /dev/null', 'sh', key, archive]),
      ).rejects.toThrow();
      const drill = await drillOf(id, dir, next.identity);
      expect(drill.message).toBe('');
      expect(drill.report!.steps.find((s) => s.name.startsWith('Check Storage'))).toMatchObject({
        status: 'ok',
      });
      expect(drill.report!.compared.storage).toBe(backup.manifest!.storage!.objects);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('Storage restore', () => {
  it('puts one bucket back byte-identical, skipping identical objects and keeping extras, after a dry run', async () => {
    const backup = await runLifeboat(sw.backupInputs(['avatars', 'documents']), { env: sw.env });
    expect(backup.message).toBe('');
    const before = await sw.hashes('avatars');
    const documentsBefore = await sw.hashes('documents');
    // Damage: one avatar deleted, one changed, one added that the backup never saw; a document changed.
    await sw.remove('avatars', 'u1/face.png');
    await sw.remove('avatars', 'u1/video.bin');
    await sw.upload('avatars', 'u2/a face with spaces.jpg', 'overwritten', { row: false });
    await sw.upload('avatars', 'u3/new.png', 'after the backup', { row: false });
    await sw.upload('documents', 'deep/er/and/deeper/still/report.pdf', 'changed too', { row: false });
    const restore = (more: Record<string, string>) =>
      runLifeboat(
        {
          mode: 'restore',
          'target-url': sw.world.appUrl,
          store: sw.fx.dir,
          'encryption-identity': sw.fx.identity,
          'backup-id': backup.manifest!.backupId,
          'restore-storage': 'true',
          ...sw.inputs(['avatars']),
          ...more,
        },
        { env: sw.env },
      );
    try {
      const dry = await restore({ 'dry-run': 'true' });
      expect(dry.message).toBe('');
      expect(dry.log.text()).toContain(
        'avatars: 2 to put back (3.0 MiB); 1 to replace (10 B); 0 identical, left alone; 1 not in the backup (16 B), kept',
      );
      expect(await sw.hashes('avatars')).not.toEqual(before);

      const real = await restore({ confirm: confirmFor(sw.world.cluster, 'app') });
      expect(real.message).toBe('');
      expect(real.outputs.status).toBe('passed');
      const { 'u3/new.png': extra, ...restored } = await sw.hashes('avatars');
      expect(restored).toEqual(before);
      expect(extra).toBe(sha256('after the backup'));
      const face = await sw.read('avatars', 'u1/face.png');
      expect(face).toMatchObject({ contentType: 'image/png', metadata: { owner: 'u1' } });
      // Only the bucket asked for: the changed document stays as it is.
      expect(await sw.hashes('documents')).not.toEqual(documentsBefore);
      // The safety backup took the bucket as it was before the restore, and only that bucket.
      const safety = await readManifest(
        sw.fx.store,
        'production-pre-restore',
        real.outputs['safety-backup-id']!,
      );
      expect(safety.storage).toMatchObject({ buckets: 1, objects: 2 });
      expectNoSecrets(real, sw.world.secrets());

      const again = await restore({
        confirm: confirmFor(sw.world.cluster, 'app'),
        'storage-delete-extra': 'true',
      });
      expect(again.message).toBe('');
      expect(again.log.text()).toContain(
        '0 to put back (0 B); 0 to replace (0 B); 3 identical, left alone; 1 not in the backup (16 B), deleted',
      );
      expect(await sw.hashes('avatars')).toEqual(before);
    } finally {
      await sw.upload('documents', 'deep/er/and/deeper/still/report.pdf', 'pdf bytes', { row: false });
    }
  });
});

describe('Storage restore confirmation', () => {
  it('refuses a confirmation that does not name the project, before reading anything', async () => {
    const run = await runLifeboat(
      {
        mode: 'restore',
        'target-url': sw.world.appUrl,
        store: sw.fx.dir,
        'encryption-identity': sw.fx.identity,
        'restore-storage': 'true',
        confirm: 'production',
        ...sw.inputs(['avatars']),
      },
      { env: sw.env },
    );
    expect(run.error?.code).toBe('confirm');
    expect(run.message).toContain('puts Storage objects back into the buckets of the project at');
    expect(run.outputs.status).toBe('failed');
    expect(run.summary).toContain('Nothing was changed.');
  });
});

describe('Storage from the command line', () => {
  it('plans a Storage restore as `lifeboat restore --restore-storage --dry-run`, keys from the environment', async () => {
    const backup = await runLifeboat(sw.backupInputs(['avatars']), { env: sw.env });
    expect(backup.message).toBe('');
    const { code, stdout, stderr } = await startCli(
      [
        'restore',
        '--restore-storage',
        '--dry-run',
        '--store',
        sw.fx.dir,
        '--backup-id',
        backup.manifest!.backupId,
        '--storage-url',
        sw.s3.endpoint,
        '--storage-buckets',
        'avatars',
      ],
      { ...sw.env, LIFEBOAT_TARGET_URL: sw.world.appUrl, LIFEBOAT_IDENTITY: sw.fx.identity },
    ).done;
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(
      /avatars: 0 to put back \(0 B\); 0 to replace \(0 B\); 3 identical, left alone; 0 not in the backup \(0 B\), kept/,
    );
    expectNoSecrets([stdout, stderr], sw.world.secrets());
  });
});

describe('Storage in the gate', () => {
  it('holds a missing Storage archive against the backup, naming it', async () => {
    const backup = await runLifeboat(sw.backupInputs(['empty']), { env: sw.env });
    const key = backup.manifest!.storage!.key;
    const moved = path.join(sw.fx.dir, `${key}.away`);
    await rename(path.join(sw.fx.dir, key), moved);
    try {
      const gate = await runLifeboat({ mode: 'gate', store: sw.fx.dir, 'max-age': '1h' });
      expect(gate.code).toBe(1);
      expect(gate.outputs.fresh).toBe('false');
      expect(gate.outputs.reason).toContain(`${key} is missing from the store`);
    } finally {
      await rename(moved, path.join(sw.fx.dir, key));
    }
  });
});

describe('Storage faults', () => {
  it('warns, and still succeeds, when an object is deleted between the listing and its read', async () => {
    sw.s3.faults.deleteAfterList = { bucket: 'avatars', key: 'u2/a face with spaces.jpg' };
    try {
      const backup = await runLifeboat(sw.backupInputs(['avatars', 'documents']), { env: sw.env });
      expect(backup.message).toBe('');
      expect(backup.manifest!.storage!.objects).toBe(4);
      const warnings = warningsOf(backup).join('\n');
      expect(warnings).toContain(
        '1 objects were deleted during the backup, after they were listed: "avatars/u2/a face with spaces.jpg"',
      );
      expect(warnings).toContain('1 storage.objects rows in the dump have no object in the backup');
      expect(backup.summary).toContain('1 objects deleted during the backup');
    } finally {
      sw.s3.faults.deleteAfterList = undefined;
      await sw.upload('avatars', 'u2/a face with spaces.jpg', 'jpeg bytes', {
        contentType: 'image/png',
        metadata: { owner: 'u1' },
      });
    }
  });

  it('fails, leaving no part of the backup set in the store, when an object cannot be read mid-archive', async () => {
    const before = await filesIn(sw.fx.dir);
    sw.s3.faults.failGetOf = { bucket: 'documents', key: 'ünïcødé/日本語/ファイル.txt' };
    try {
      const backup = await runLifeboat(sw.backupInputs(['avatars', 'documents']), { env: sw.env });
      expect(backup.code).toBe(1);
      expect(backup.message).toContain(
        'Could not read "documents/ünïcødé/日本語/ファイル.txt" in Storage at',
      );
      expect(backup.message).toContain('InternalError');
      expect(await filesIn(sw.fx.dir)).toEqual(before);
      expectNoSecrets(backup, sw.world.secrets());
    } finally {
      sw.s3.faults.failGetOf = undefined;
    }
  });

  it('refuses a wrong secret key clearly, before anything is stored, without showing it', async () => {
    const wrong = `wrong-${sw.s3.secretAccessKey.slice(0, 8)}-secret`;
    const before = await filesIn(sw.fx.dir);
    const backup = await runLifeboat(sw.backupInputs(['avatars']), {
      env: { ...sw.env, LIFEBOAT_STORAGE_SECRET_ACCESS_KEY: wrong },
      unmasked: true,
    });
    expect(backup.code).toBe(1);
    expect(backup.error?.code).toBe('auth');
    expect(backup.message).toContain('the Storage endpoint refused the credentials');
    expect(backup.message).toContain('LIFEBOAT_STORAGE_SECRET_ACCESS_KEY');
    expect(await filesIn(sw.fx.dir)).toEqual(before);
    expectNoSecrets(backup, [...sw.world.secrets(), { label: 'the wrong secret key', value: wrong }]);
  });
});
