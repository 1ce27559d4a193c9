import type { DecryptKeys } from '../archive/age/index.js';
import type { Manifest } from '../archive/manifest.js';
import { generationOf, storageKey } from '../archive/store-keys.js';
import { resolveManifest } from '../archive/manifests.js';
import { readExpectedCatalog } from '../archive/fetch.js';
import { formatBytes } from '../duration.js';
import { describeError, LifeboatError } from '../errors.js';
import { decryptKeys } from '../settings/settings.js';
import type { Log, Reporter } from '../log.js';
import type { CatalogSnapshot } from '../postgres/catalog.js';
import { pool } from '../pool.js';
import { Inputs, Outputs } from '../settings/constants.js';
import type { RestoreSettings } from '../settings/settings.js';
import { chooseBuckets, openStorage } from '../storage/open-storage.js';
import { memberName, someNames, type StorageObjectEntry } from '../storage/object-catalog.js';
import {
  changedBuckets,
  describeBucketPlan,
  planStorageRestore,
  type StorageRestorePlan,
} from '../storage/restore-plan.js';
import type { StorageClient } from '../storage/storage-client.js';
import { putBackObjects } from '../storage/put-back.js';
import type { BackupStore } from '../stores/store.js';
import { askConfirmation, confirmFromInput, confirmationFor } from './confirm.js';
import { takeSafetyBackup } from './safety.js';

/**
 * `restore-storage: true`: puts the backup's Storage objects back into their buckets and
 * leaves the database as it is. A lost bucket should not roll the database back, and a
 * database restore (a run without restore-storage) brings storage.objects and the bucket
 * policies back with every other table; after losing both, run the database restore first,
 * then this. Identical objects are skipped, objects the backup lacks are kept unless
 * `storage-delete-extra`, and the safety backup (database plus the current objects of every
 * bucket about to change) is taken before anything is written.
 */
export async function restoreStorage(settings: RestoreSettings, ctx: StorageRestoreContext): Promise<void> {
  const progress: { safetyBackupId?: string; writing?: boolean; confirmed?: string } = {};
  try {
    // A `confirm` input is checked before anything is read; at a terminal without it, the person is asked after the plan.
    progress.confirmed = confirmFromInput(settings, Boolean(ctx.prompt));
    const manifest = await resolveManifest(ctx.store, settings.name, settings.backupId);
    ctx.reporter.output(Outputs.BackupId, manifest.backupId);
    const keys = decryptKeys(settings.keys)!;
    const expected = await readExpectedCatalog(manifest, keys);
    await restoreObjects(settings, ctx, { manifest, expected, keys }, progress);
  } catch (error) {
    ctx.reporter.output(Outputs.Status, 'failed');
    const message = ctx.log.mask(describeError(error));
    const changed = progress.writing
      ? `Objects may have been written before it failed; the safety backup \`${progress.safetyBackupId}\` holds the buckets as they were.`
      : 'Nothing was changed.';
    await ctx.reporter.summary(
      `### Lifeboat Storage restore: failed\n\n\`\`\`text\n${message}\n\`\`\`\n\n${changed}\n`,
    );
    throw error;
  }
}

interface StorageRestoreContext {
  log: Log;
  reporter: Reporter;
  store: BackupStore;
  env?: NodeJS.ProcessEnv;
  prompt?: (q: string) => Promise<string>;
}

async function restoreObjects(
  settings: RestoreSettings,
  ctx: StorageRestoreContext,
  backup: { manifest: Manifest; expected: CatalogSnapshot; keys: DecryptKeys },
  progress: { safetyBackupId?: string; writing?: boolean; confirmed?: string },
): Promise<void> {
  const { log, reporter, store } = ctx;
  const confirmed = progress.confirmed;
  const env = ctx.env ?? process.env;
  const { manifest, expected } = backup;
  if (!manifest.storage || !expected.storage)
    throw new LifeboatError(
      'input',
      `Backup ${manifest.backupId} holds no Storage archive, so there are no objects to restore.`,
      {
        hint: `Choose a backup taken with storage-url set (\`lifeboat show\` says whether one has Storage), or restore the database without \`${Inputs.RestoreStorage}\`.`,
      },
    );
  const catalog = expected.storage;
  const backedUp = catalog.buckets.map((b) => b.name);
  const buckets = settings.storage!.buckets.length ? settings.storage!.buckets : backedUp;
  const absent = buckets.filter((b) => !backedUp.includes(b));
  if (absent.length)
    throw new LifeboatError(
      'input',
      `Input \`${Inputs.StorageBuckets}\` names ${absent.map((b) => `"${b}"`).join(', ')}, which backup ${manifest.backupId} did not take.`,
      {
        hint: `The backup holds: ${backedUp.join(', ') || 'no buckets'}.`,
      },
    );
  const prefix = settings.storagePrefix;
  const chosen = catalog.objects.filter((o) => buckets.includes(o.bucket) && o.key.startsWith(prefix));
  const client = await openStorage(settings.storage!, env, log);
  try {
    const source = settings.storage!.buckets.length
      ? `Input \`${Inputs.StorageBuckets}\` names`
      : `Backup ${manifest.backupId} holds`;
    await chooseBuckets(client, buckets, source).catch((error: unknown) => {
      if (error instanceof LifeboatError && error.code === 'input')
        throw new LifeboatError(
          'input',
          `${error.message} Buckets are created with the project, not by a restore.`,
          {
            hint: 'Create the bucket first (Supabase: Storage in the dashboard, with the same id), or restore the database first: storage.buckets comes back with it.',
          },
        );
      throw error;
    });
    const plan = await planAgainstBuckets(client, buckets, prefix, chosen, settings.storageDeleteExtra);
    const totals = plan.buckets.reduce((n, b) => n + b.put + b.replace, 0);
    log.info(
      `Storage restore of backup ${manifest.backupId} into ${client.where}${prefix ? `, keys under "${prefix}"` : ''}:`,
    );
    for (const b of plan.buckets) log.info(`  ${describeBucketPlan(b, plan.deleteExtra)}`);
    const needed = confirmationFor(settings.target);
    reporter.output(Outputs.ConfirmWith, needed);
    if (settings.dryRun) {
      reporter.output(Outputs.Status, 'passed');
      await reporter.summary(summary(manifest, plan, 'dry run: nothing was changed'));
      log.info(`Dry run: nothing was changed. The real run needs confirm: ${needed}.`);
      return;
    }
    if (confirmed === undefined) await askConfirmation(settings, ctx.prompt!);
    const changing = changedBuckets(plan);
    if (!changing.length) {
      reporter.output(Outputs.Status, 'passed');
      await reporter.summary(
        summary(manifest, plan, 'every object already matches the backup; nothing was changed'),
      );
      log.info('Every object already matches the backup: nothing to do.');
      return;
    }
    const safety = await takeSafetyBackup(settings, {
      log,
      store,
      env,
      storage: { ...settings.storage!, buckets: changing },
    });
    reporter.output(Outputs.SafetyBackupId, safety.manifest.backupId);
    progress.safetyBackupId = safety.manifest.backupId;
    progress.writing = true;
    log.info(
      `Safety backup ${safety.manifest.backupId} taken (the database and the current objects of ${changing.join(', ')}).`,
    );
    await putBackObjects({
      client,
      store,
      key: storageKey(manifest.name, manifest.backupId, generationOf(manifest)),
      stored: manifest.storage,
      keys: backup.keys,
      objects: new Map(
        chosen
          .filter((o) => plan.writes.has(memberName(o.bucket, o.key)))
          .map((o) => [memberName(o.bucket, o.key), o]),
      ),
      log,
    });
    for (const o of plan.deletes) await client.delete(o.bucket, o.key);
    await verifyPutBack(client, buckets, prefix, chosen);
    reporter.output(Outputs.Status, 'passed');
    await reporter.summary(summary(manifest, plan, `restored; safety backup ${safety.manifest.backupId}`));
    log.info(
      `Restored ${totals} Storage objects from ${manifest.backupId}${plan.deletes.length ? ` and deleted ${plan.deletes.length} not in the backup` : ''}.`,
    );
  } finally {
    client.close();
  }
}

async function planAgainstBuckets(
  client: StorageClient,
  buckets: string[],
  prefix: string,
  chosen: StorageObjectEntry[],
  deleteExtra: boolean,
): Promise<StorageRestorePlan> {
  const current = (
    await pool(
      4,
      buckets.map((b) => () => client.listObjects(b, prefix)),
    )
  ).flat();
  const sizes = new Map(chosen.map((o) => [memberName(o.bucket, o.key), o.sizeBytes]));
  // Only an object of the same size can be identical; those are read and hashed, a few at once.
  const same = current.filter((o) => sizes.get(memberName(o.bucket, o.key)) === o.sizeBytes);
  const hashes = new Map<string, string>();
  await pool(
    16,
    same.map((o) => async () => {
      const hash = await client.hash(o.bucket, o.key);
      if (hash) hashes.set(memberName(o.bucket, o.key), hash);
    }),
  );
  return planStorageRestore({ buckets, backup: chosen, current, currentHashes: hashes, deleteExtra });
}

/** Every object put back is there with its size: read back, not trusted from the PUT's answer. */
async function verifyPutBack(
  client: StorageClient,
  buckets: string[],
  prefix: string,
  chosen: StorageObjectEntry[],
): Promise<void> {
  const now = new Map(
    (
      await pool(
        4,
        buckets.map((b) => () => client.listObjects(b, prefix)),
      )
    )
      .flat()
      .map((o) => [memberName(o.bucket, o.key), o]),
  );
  const wrong = chosen.filter((o) => now.get(memberName(o.bucket, o.key))?.sizeBytes !== o.sizeBytes);
  if (wrong.length)
    throw new LifeboatError(
      'restore',
      `After the Storage restore ${wrong.length} objects are missing or differ in size: ${someNames(wrong)}.`,
      {
        hint: 'Something else wrote to the buckets during the restore, or the service dropped writes; run the restore again (identical objects are skipped).',
      },
    );
}

function summary(manifest: Manifest, plan: StorageRestorePlan, outcome: string): string {
  const rows = plan.buckets.map(
    (b) =>
      `| ${b.bucket} | ${b.put} (${formatBytes(b.putBytes)}) | ${b.replace} (${formatBytes(b.replaceBytes)}) | ${b.identical} | ${b.extra} (${formatBytes(b.extraBytes)}) ${plan.deleteExtra ? 'deleted' : 'kept'} |`,
  );
  return [
    `### Lifeboat Storage restore: ${outcome}`,
    '',
    `Backup \`${manifest.backupId}\`; the database was not touched.`,
    '',
    '| Bucket | Put back | Replaced | Identical | Not in backup |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
