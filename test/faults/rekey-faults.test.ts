/**
 * A rekey killed with SIGKILL after each of its steps: every backup still restores with one
 * of the two keys (never neither, never both), and the next rekey finishes the job, after
 * which the old key reads nothing.
 */
import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { warmCli } from '../helpers/lifeboat.js';
import {
  expectEachReadable,
  fileHashes,
  startRekeyWorld,
  SET,
  type RekeyWorld,
} from '../helpers/rekey-world.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';
import { startWorld, type World } from '../helpers/world.js';

let world: World;
let rw: RekeyWorld;
let s3: S3TestServer;

beforeAll(async () => {
  [world, s3] = await Promise.all([startWorld({ fixtures: ['supabase'] }), startS3Server()]);
  rw = await startRekeyWorld(world);
  await warmCli(process.env);
});

afterAll(async () => {
  await rw?.cleanup();
  await Promise.all([world?.close(), s3?.stop()]);
});

/** The oldest backup (in two parts) goes first; `keys` is which key each backup needs after the kill. */
const rows: { step: string; when: string; keys: ('old' | 'new')[] }[] = [
  { step: 'archive', when: 'its first part is re-encrypted', keys: ['old', 'old'] },
  { step: 'verified', when: 'its new archives are read back', keys: ['old', 'old'] },
  // Both manifests are complete: a reader takes the first generation, still the old key's.
  { step: 'manifest', when: 'the new manifest is written', keys: ['old', 'old'] },
  { step: 'old-manifest', when: 'the old manifest is deleted', keys: ['new', 'old'] },
  { step: 'old-archive', when: 'its first old part is deleted', keys: ['new', 'old'] },
  { step: 'backup', when: 'the first backup is done', keys: ['new', 'old'] },
];

describe('a rekey interrupted', () => {
  it.each(rows.map((row) => [row.step, row.when, row] as const))(
    'after step %s (when %s) leaves every backup readable with one key',
    async (_step, _when, row) => {
      const { dir, store } = await rw.freshStore();
      const cli = rw.rekey(dir, ['--all'], { LIFEBOAT_PAUSE_AFTER: row.step });
      await cli.said(new RegExp(`Rekey paused after step "${row.step}"`));
      cli.child.kill('SIGKILL');
      const killed = await cli.done;
      expect(killed.signal).toBe('SIGKILL');

      // Restores, with the key its manifest names, and not with the other.
      expect(await expectEachReadable(world, rw, store, dir, { drill: true })).toEqual(row.keys);

      // The next rekey finishes: every backup on the new key, nothing of the old generation left.
      const again = await rw.rekey(dir, ['--all']).done;
      expect(again.code, again.stderr).toBe(0);
      expect(await expectEachReadable(world, rw, store, dir)).toEqual(['new', 'new']);
      const files = (await readdir(`${dir}/${SET}`)).filter((f) => !f.endsWith('.drill.json'));
      expect(files.filter((f) => !f.includes('.k2.'))).toEqual([]);
      // The two parts of the first backup, the second's archive, and a manifest each.
      expect(files).toHaveLength(5);
    },
  );

  it('stopped by SIGTERM before its new manifest counts, removes what it wrote and leaves the store as it was', async () => {
    const { dir } = await rw.freshStore();
    const before = await fileHashes(dir);
    const cli = rw.rekey(dir, ['--all'], { LIFEBOAT_PAUSE_AFTER: 'verified' });
    await cli.said(/Rekey paused after step "verified"/);
    cli.child.kill('SIGTERM');
    const ended = await cli.done;
    expect(ended.signal ?? ended.code).not.toBe(0);
    expect(await fileHashes(dir)).toEqual(before);
  });

  it('on an S3 store, after the old manifest is deleted, leaves every backup readable with one key', async () => {
    const { dir, store } = await rw.freshS3(s3);
    const env = { ...s3.env, LIFEBOAT_PAUSE_AFTER: 'old-manifest' };
    const cli = rw.rekey(dir, ['--all'], env);
    await cli.said(/Rekey paused after step "old-manifest"/);
    cli.child.kill('SIGKILL');
    await cli.done;
    expect(
      await expectEachReadable(world, rw, store, dir, { drill: true, env: { ...process.env, ...s3.env } }),
    ).toEqual(['new', 'old']);
    const again = await rw.rekey(dir, ['--all'], s3.env).done;
    expect(again.code, again.stderr).toBe(0);
    expect(await expectEachReadable(world, rw, store, dir)).toEqual(['new', 'new']);
    expect(
      (await store.list(`${SET}/`)).filter((k) => !k.includes('.k2.') && !k.endsWith('.drill.json')),
    ).toEqual([]);
  });
});
