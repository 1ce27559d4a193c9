import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity } from '../../src/archive/age/index.js';
import { readManifest } from '../../src/archive/manifests.js';
import { expectNoSecrets, runLifeboat, startCli, warmCli } from '../helpers/lifeboat.js';
import {
  expectEachReadable,
  fileHashes,
  readsWith,
  startRekeyWorld,
  SET,
  type RekeyWorld,
} from '../helpers/rekey-world.js';
import { startWorld, type World } from '../helpers/world.js';

let world: World;
let rw: RekeyWorld;

beforeAll(async () => {
  world = await startWorld({ fixtures: ['supabase'] });
  rw = await startRekeyWorld(world);
  await warmCli(process.env);
});

afterAll(async () => {
  await rw?.cleanup();
  await world?.close();
});

describe('lifeboat rekey', () => {
  it('re-encrypts every backup to the new key, proves it readable, and the old key reads none', async () => {
    const { dir, store } = await rw.freshStore();
    const run = await rw.rekey(dir, ['--all']).done;
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^rekeyed=2$/m);
    expectNoSecrets(run.stdout + run.stderr, [
      ...world.secrets(),
      { label: 'the new identity', value: rw.next.identity },
    ]);
    expect(await expectEachReadable(world, rw, store, dir, { drill: true })).toEqual(['new', 'new']);
    for (const id of rw.ids) {
      const manifest = await readManifest(store, SET, id);
      expect(manifest).toMatchObject({ keyGeneration: 2, recipients: [rw.next.recipient] });
      expect(manifest.verification.history).toContainEqual(
        expect.objectContaining({ level: 'readable', by: 'rekey' }),
      );
      // The drill proved the rekeyed backup and said so in its (second-generation) manifest.
      expect(manifest.verification.level).toBe('restored');
    }
    const names = Object.keys(await fileHashes(dir)).filter((f) => !f.endsWith('.drill.json'));
    expect(names.filter((f) => !f.includes('.k2.'))).toEqual([]);
    // The gate finds the rekeyed archives and accepts them at its default level.
    const gate = await runLifeboat({ mode: 'gate', store: dir, name: SET });
    expect(gate.error, gate.message).toBeUndefined();
    expect(gate.outputs.fresh).toBe('true');
    // `list` says which key each backup needs.
    const list = await startCli(['list', '--store', dir, '--json'], process.env).done;
    const listed = JSON.parse(list.stdout) as { backups: { recipients: string[] }[] };
    expect(listed.backups.map((b) => b.recipients)).toEqual([[rw.next.recipient], [rw.next.recipient]]);
    // A second run has nothing to do.
    const again = await rw.rekey(dir, ['--all']).done;
    expect(again.stdout).toMatch(/^rekeyed=0$/m);
    expect(again.stdout).toMatch(/^unchanged=2$/m);
  });

  it('rekeys only the latest by default and says the level is `stored` without the new identity', async () => {
    const { dir, store } = await rw.freshStore();
    const run = await rw.rekey(dir, [], { LIFEBOAT_NEW_IDENTITY: '' }).done;
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/No new identity given/);
    expect(await expectEachReadable(world, rw, store, dir)).toEqual(['old', 'new']);
    expect((await readManifest(store, SET, rw.ids[1]!)).verification.level).toBe('stored');
  });

  it('leaves the backups untouched when the old key is not theirs', async () => {
    const { dir } = await rw.freshStore();
    const before = await fileHashes(dir);
    const run = await rw.rekey(dir, ['--all'], { LIFEBOAT_IDENTITY: generateIdentity().identity }).done;
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/Cannot decrypt .* with the old key/);
    expect(run.stderr).toMatch(/still read with the old key/);
    expect(await fileHashes(dir)).toEqual(before);
  });

  it('retention and copies follow a rekeyed backup to its new keys', async () => {
    const { dir, store } = await rw.freshStore();
    const { dir: copyDir } = await rw.freshStore();
    const elsewhere = path.join(copyDir, 'copy');
    const copy = () =>
      runLifeboat({ mode: 'copy', store: dir, 'copy-to': elsewhere, 'backup-id': 'all', name: SET });
    // Copied before the rekey, then again after it: the copy moves to the new key generation.
    expect((await copy()).outputs).toMatchObject({ copied: '2' });
    expect((await rw.rekey(dir, ['--all']).done).code).toBe(0);
    const again = await copy();
    expect(again.error, again.message).toBeUndefined();
    expect(again.outputs).toMatchObject({ copied: '2', skipped: '0' });
    expect(await fileHashes(elsewhere)).toEqual(await fileHashes(dir));
    expect((await copy()).outputs).toMatchObject({ copied: '0', skipped: '2' });
    const prune = await startCli(['prune', '--store', dir, '--keep', '1'], process.env).done;
    expect(prune.code, prune.stderr).toBe(0);
    // Nothing of the pruned backup is left: it was stored under its second key generation.
    expect(Object.keys(await fileHashes(dir)).filter((f) => f.startsWith(rw.ids[0]!))).toEqual([]);
    expect((await readManifest(store, SET, rw.ids[1]!)).keyGeneration).toBe(2);
  });

  it('retention removes every key generation of a backup caught mid-rekey', async () => {
    const { dir } = await rw.freshStore();
    const cli = rw.rekey(dir, ['--all'], { LIFEBOAT_PAUSE_AFTER: 'manifest' });
    await cli.said(/Rekey paused after step "manifest"/);
    cli.child.kill('SIGKILL');
    await cli.done;
    // Both generations of the oldest backup are complete now; pruning it removes both.
    const stems = async () => Object.keys(await fileHashes(dir)).filter((f) => f.startsWith(rw.ids[0]!));
    expect((await stems()).filter((f) => f.includes('.k2.'))).toHaveLength(3);
    const prune = await startCli(['prune', '--store', dir, '--keep', '1'], process.env).done;
    expect(prune.code, prune.stderr).toBe(0);
    expect(await stems()).toEqual([]);
  });

  it('rekeys a passphrase backup to two recipients, each of which reads it', async () => {
    const { dir, store } = await rw.freshStore();
    const backup = await runLifeboat({
      mode: 'backup',
      'database-url': world.appUrl,
      store: dir,
      name: SET,
      'encryption-passphrase': world.passphrase,
    });
    expect(backup.error, backup.message).toBeUndefined();
    const id = backup.outputs['backup-id']!;
    const second = generateIdentity();
    const run = await startCli(
      ['rekey', '--store', dir, '--recipient', rw.next.recipient, '--recipient', second.recipient],
      { ...process.env, LIFEBOAT_PASSPHRASE: world.passphrase, LIFEBOAT_NEW_IDENTITY: second.identity },
    ).done;
    expect(run.code, run.stderr).toBe(0);
    expectNoSecrets(run.stdout + run.stderr, [world.passphrase, second.identity]);
    const manifest = await readManifest(store, SET, id);
    expect(manifest.recipients).toEqual([rw.next.recipient, second.recipient]);
    expect(manifest.archive.encryption).toBe('age-x25519');
    expect(await readsWith(store, manifest, rw.next.identity)).toBe(true);
    expect(await readsWith(store, manifest, second.identity)).toBe(true);
  });

  it('refuses a new identity that is not a new recipient, and secrets on the command line', async () => {
    const { dir } = await rw.freshStore();
    const mismatch = await rw.rekey(dir, [], { LIFEBOAT_NEW_IDENTITY: generateIdentity().identity }).done;
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toMatch(/new identity .* is not one of the --recipient keys/);
    const argv = await startCli(
      ['rekey', '--store', dir, '--recipient', rw.next.recipient, '--new-identity', rw.next.identity],
      process.env,
    ).done;
    expect(argv.code).toBe(2);
    expect(argv.stderr).toMatch(/--new-identity would put a secret on the command line/);
    expect(argv.stderr).not.toContain(rw.next.identity);
    const none = await startCli(['rekey', '--store', dir], {
      ...process.env,
      LIFEBOAT_IDENTITY: world.identity,
    }).done;
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/rekey needs --recipient/);
  });
});
