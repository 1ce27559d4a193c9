/**
 * A backup killed by SIGKILL skips every cleanup Lifeboat has: whatever it wrote stays in
 * the store without a manifest. Each row kills a real backup (the CLI in its own process)
 * at one stage, on the local and the S3 store, and requires that `list --all` shows what
 * it left as incomplete with its age and size, that a prune within the grace period touches
 * none of it, that the next prune past the grace period removes it all, and that the good
 * backups taken before are byte for byte as they were.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStore } from '../../src/stores/local.js';
import { createS3Store } from '../../src/stores/s3.js';
import type { BackupStore } from '../../src/stores/store.js';
import { goodBackupProblem, type GoodBackup } from '../helpers/good-backups.js';
import { expectNoSecrets, startCli, warmCli } from '../helpers/lifeboat.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';
import { startWorld, type SandboxedWorld } from '../helpers/world.js';
import { wrapperBinDir } from './inject.js';

let a: SandboxedWorld;
let local: LocalStore;
let s3: S3TestServer;
let s3Store: BackupStore;
const good = new Map<string, GoodBackup>();

beforeAll(async () => {
  a = await startWorld({ sandbox: true, fixtures: ['supabase'] });
  s3 = await startS3Server();
  a.extraSecrets.push({ label: 'the S3 secret key', value: s3.secretAccessKey });
  local = await a.sandbox.localStore('orphans');
  s3Store = createS3Store(`s3://${s3.bucket}/orphans`, s3.env);
  good.set('local', await a.goodBackup(local));
  good.set('s3', await a.goodBackup(s3Store));
  await warmCli(process.env);
});

afterAll(async () => {
  await s3Store?.close?.();
  await s3?.stop();
  await a?.close();
});

type Where = 'local' | 's3';

interface Stage {
  stage: string;
  where: Where;
  /** The pg_dump and pg_restore wrappers; they write their pid to `mark` when the kill may come. */
  tools: (mark: string) => { pg_dump?: string; pg_restore?: string };
  /** A proxy operation held unanswered, so the backup is caught inside it. */
  stall?: string;
  /** Further to wait for before the kill. */
  ready?: () => boolean;
  /** What `list --all` must call what the kill left. */
  left: RegExp;
}

// Incompressible bytes after the real dump: the archive outgrows one 16 MiB part, so S3 gets a multipart upload.
const PADDED = `"$REAL" "$@" || exit $?\nhead -c 40000000 /dev/urandom`;
// Tools get a minimal environment, so the marker's path is written into the script.
const HOLD = (mark: string) => `echo $$ >> '${mark}'\nexec sleep 120`;

const stages: Stage[] = [
  {
    stage: 'dump',
    where: 'local',
    tools: (mark) => ({ pg_dump: `"$REAL" "$@" | head -c 20000\n${HOLD(mark)}` }),
    left: /incomplete: temp file/,
  },
  {
    stage: 'dump',
    where: 's3',
    tools: (mark) => ({ pg_dump: `"$REAL" "$@" || exit $?\nhead -c 40000000 /dev/urandom\n${HOLD(mark)}` }),
    ready: () => s3.operations.includes('UploadPart'),
    left: /incomplete: multipart upload/,
  },
  {
    stage: 'upload',
    where: 's3',
    tools: (mark) => ({ pg_dump: `${PADDED}\necho $$ >> '${mark}'` }),
    stall: 'CompleteMultipartUpload',
    ready: () => s3.operations.includes('CompleteMultipartUpload'),
    left: /incomplete: multipart upload/,
  },
  ...(['local', 's3'] as const).map((where): Stage => ({
    stage: 'read-back',
    where,
    tools: (mark) => ({ pg_restore: HOLD(mark) }),
    left: /incomplete: archive without a manifest/,
  })),
  {
    stage: 'before the manifest',
    where: 'local',
    // The read-back's pg_restore has parsed the whole table of contents; its parent dies before it hears so.
    tools: (mark) => ({ pg_restore: `"$REAL" "$@"\necho $$ >> '${mark}'\nkill -9 $PPID` }),
    left: /incomplete: archive without a manifest/,
  },
  {
    stage: 'before the manifest',
    where: 's3',
    // The archive goes up in parts; the one single PUT is the manifest's, held unanswered.
    tools: (mark) => ({ pg_dump: `${PADDED}\necho $$ >> '${mark}'` }),
    stall: 'PutObject',
    ready: () => s3.operations.includes('PutObject'),
    left: /incomplete: archive without a manifest/,
  },
];

function cli(args: string[], where: Where, env: NodeJS.ProcessEnv = {}) {
  const store = where === 'local' ? local.root : `s3://${s3.bucket}/orphans`;
  return startCli([...args, '--store', store, '--name', 'production'], {
    ...process.env,
    ...(where === 's3' ? s3.env : {}),
    LIFEBOAT_RECIPIENT: a.recipient,
    LIFEBOAT_IDENTITY: a.identity,
    ...env,
  });
}

async function waitUntil(check: () => boolean, what: string, seconds = 60): Promise<void> {
  const until = Date.now() + seconds * 1000;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await delay(50);
  }
}

const storeOf = (where: Where): BackupStore => (where === 'local' ? local : s3Store);

describe('a backup killed by SIGKILL leaves orphans that list --all shows and prune sweeps', () => {
  for (const { stage, where, tools, stall, ready, left } of stages)
    it(`killed at the ${stage} stage, ${where} store`, async () => {
      const store = storeOf(where);
      const keysBefore = new Set(await store.list(''));
      const marker = path.join(a.sandbox.root, `mark-${Date.now()}`);
      const bin = await wrapperBinDir(a.sandbox.root, {
        pg_dump: 'exec "$REAL" "$@"',
        pg_restore: 'exec "$REAL" "$@"',
        ...tools(marker),
      });
      s3.operations.length = 0;
      s3.faults.stall = stall;
      const run = cli(['backup', '--pg-bin-dir', bin], where, { DATABASE_URL: a.appUrl });
      // A lingering tool holds the CLI's output pipes open: it goes first, or the CLI's end is never heard.
      const killAll = () => {
        run.child.kill('SIGKILL');
        for (const pid of existsSync(marker)
          ? readFileSync(marker, 'utf8').split('\n').filter(Boolean)
          : []) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // already gone
          }
        }
      };
      let over: string | undefined;
      void run.done.then((r) => (over = r.stderr));
      const alive = (check: () => boolean) => () => {
        if (check()) return true;
        if (over !== undefined) throw new Error(`the backup ended before the kill:\n${over}`);
        return false;
      };
      try {
        await waitUntil(
          alive(() => existsSync(marker)),
          'the stage to begin',
        );
        if (ready) await waitUntil(alive(ready), 'the store to be written');
      } finally {
        s3.faults.stall = undefined;
        killAll();
      }
      const ended = await run.done;
      expect(ended.signal, ended.stderr).toBe('SIGKILL');

      const listed = await cli(['list', '--all'], where).done;
      expect(listed.code, listed.stderr).toBe(0);
      const incomplete = listed.stdout.split('Incomplete (no manifest')[1] ?? '';
      const rows = incomplete.split('\n').filter((l) => l.startsWith('production/'));
      expect(rows.length, listed.stdout).toBeGreaterThan(0);
      expect(rows.join('\n')).toMatch(left);
      // Each with its age and a size the store could tell.
      for (const row of rows) expect(row).toMatch(/incomplete: .+\s\d+[smhd]\b.*\s\d+(\.\d+)? (B|KiB|MiB)$/);

      // Within the grace period nothing is touched: the backup could still be running.
      const young = await cli(['prune', '--keep', '5', '--orphan-grace', '1h'], where).done;
      expect(young.code, young.stderr).toBe(0);
      expect(young.stderr).toMatch(
        /Left \d+ incomplete object\(s\) younger than the grace period of 1h alone/,
      );
      expect(young.stderr).not.toMatch(/Removed the orphan/);
      expect((await cli(['list', '--all'], where).done).stdout).toMatch(left);

      await delay(2100);
      const swept = await cli(['prune', '--keep', '5', '--orphan-grace', '2s'], where).done;
      expect(swept.code, swept.stderr).toBe(0);
      expect(swept.stderr).toMatch(
        /Removed the orphan production\/\S+ \((temp file|multipart upload|archive without a manifest), /,
      );
      const after = await cli(['list', '--all'], where).done;
      expect(after.stdout).toContain('No incomplete objects.');
      if (where === 's3') expect(await s3.pendingUploads()).toEqual([]);
      // The store holds what it held before the kill: the good backup, every byte of it.
      expect(new Set(await store.list(''))).toEqual(keysBefore);
      expect(await goodBackupProblem(good.get(where)!)).toBeUndefined();
      for (const said of [listed, young, swept, after])
        expectNoSecrets([said.stdout, said.stderr], a.secrets());
    });
});

describe('after every kill', () => {
  it('the good backups still restore by hand, every row back', async () => {
    await a.expectGoodRestorable([...good.values()]);
  });
});
