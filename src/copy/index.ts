import { applyRetention, hasRules } from '../backup/index.js';
import { describeError, LifeboatError } from '../errors.js';
import type { Log, Reporter } from '../log.js';
import { Outputs } from '../settings/constants.js';
import type { CopySettings } from '../settings/settings.js';
import { copyDestinationEnv } from '../settings/environment.js';
import { openStore } from '../stores/open.js';
import { latestBackupId, listBackupIds, type BackupStore } from '../stores/store.js';
import { copySet, type SetCopy } from './copy-set.js';
import { renderCopySummary } from './copy-summary.js';

export interface CopyContext {
  log: Log;
  reporter: Reporter;
  /** The source: the store the `store` input names. */
  store: BackupStore;
  env?: NodeJS.ProcessEnv;
  /** The destination, when the caller opened it (tests pass peers); else `copy-to` is opened. */
  destination?: BackupStore;
}

export interface CopyResult {
  sets: SetCopy[];
  failed: { backupId: string; error: string }[];
}

/**
 * Mode `copy`: backup sets from `store` to `copy-to` (latest, one id, or all), oldest
 * first, so the newest arrives last. A failed set does not stop the others, but fails the
 * run once they are done; retention (`keep`) then applies to the destination on its own,
 * as a backup applies it to its store, and only when every copy succeeded.
 */
export async function runCopy(settings: CopySettings, ctx: CopyContext): Promise<CopyResult> {
  const { log, store } = ctx;
  const to =
    ctx.destination ??
    (await openStore(settings.copyTo, {
      env: copyDestinationEnv(ctx.env),
      log,
      githubToken: settings.githubToken,
    }));
  try {
    if (to.location === store.location) {
      throw new LifeboatError(
        'input',
        `Input \`copy-to\` names the same store as \`store\` (${store.location}).`,
        {
          hint: 'Copy to a second store: another bucket or provider, a directory, or actions-cache.',
        },
      );
    }
    const ids = await chooseIds(store, settings);
    log.info(
      `Copying ${ids.length} backup(s) of "${settings.name}" from ${store.location} to ${to.location}.`,
    );
    const result: CopyResult = { sets: [], failed: [] };
    for (const id of [...ids].reverse()) {
      try {
        result.sets.push(await copySet(store, to, settings.name, id, log));
      } catch (error) {
        log.warning(`Copying ${settings.name}/${id} failed: ${describeError(error)}`);
        result.failed.push({ backupId: id, error: describeError(error) });
      }
    }
    const copied = result.sets.filter((s) => s.result === 'copied').length;
    ctx.reporter.output(Outputs.Copied, String(copied));
    ctx.reporter.output(Outputs.Skipped, String(result.sets.length - copied));
    await ctx.reporter.summary(
      renderCopySummary({ name: settings.name, from: store.location, to: to.location, ...result }),
    );
    if (result.failed.length) throw failure(result, to);
    if (hasRules(settings.retention)) {
      const { retention: rules, orphanGraceSeconds } = settings;
      await applyRetention(to, settings.name, { rules, orphanGraceSeconds }, log);
    }
    return result;
  } finally {
    if (!ctx.destination) await to.close?.();
  }
}

async function chooseIds(store: BackupStore, settings: CopySettings): Promise<string[]> {
  if (settings.backupId === 'all') return listBackupIds(store, settings.name);
  const id = settings.backupId === 'latest' ? await latestBackupId(store, settings.name) : settings.backupId;
  if (!id) {
    throw new LifeboatError(
      'not-found',
      `The store ${store.location} holds no backup of "${settings.name}".`,
      {
        hint: 'Check the store and name inputs: they name the source of the copy.',
      },
    );
  }
  return [id];
}

function failure(result: CopyResult, to: BackupStore): LifeboatError {
  const first = result.failed[0]!;
  return new LifeboatError(
    'store',
    `${result.failed.length} of ${result.failed.length + result.sets.length} backup(s) were not copied to ${to.location}; the first, ${first.backupId}: ${first.error}`,
    {
      hint: 'Every backup that was copied is complete and verified; the others are not listed at the destination. Fix the cause and run the copy again: it skips what is already there.',
    },
  );
}
