import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoSecrets, runLifeboat } from '../helpers/lifeboat.js';
import { sha256, startStorageWorld, type StorageWorld } from '../helpers/storage-world.js';

const run = promisify(execFile);
let sw: StorageWorld;

const FILES: [string, string, string | Buffer][] = [
  ['avatars', 'u1/face.png', Buffer.alloc(10_000, 7)],
  ['avatars', 'u2/a face with spaces.jpg', 'jpeg bytes'],
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
      objects: 4,
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
