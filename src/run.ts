import type { Settings } from './settings/settings.js';
import type { Log, Reporter } from './log.js';
import { runBackup } from './backup/index.js';
import { runDrill } from './drill/index.js';
import { runGate } from './gate/index.js';
import { runRefresh } from './refresh/index.js';
import { runRestore } from './restore/index.js';
import { runWatch } from './watch/index.js';
import { runCopy } from './copy/index.js';
import { removeCaFiles } from './postgres/ca-file.js';
import { openStore } from './stores/open.js';
import { withRunSignals } from './notify/index.js';
import type { BackupStore } from './stores/store.js';

export interface RunContext {
  log: Log;
  reporter: Reporter;
  env?: NodeJS.ProcessEnv;
  /** Asks a person to type the confirmation (CLI with a terminal); absent in the action. */
  prompt?: (question: string) => Promise<string>;
}

/** One entry for every front door: settings in, a finished mode out. */
export async function runMode(settings: Settings, ctx: RunContext): Promise<void> {
  // Heartbeats and notifications wrap the whole run, a store that will not open included.
  await withRunSignals(settings, ctx, async (reporter) => {
    const store = await openStore(settings.store, {
      env: ctx.env,
      log: ctx.log,
      githubToken: settings.githubToken,
    });
    try {
      await runModeIn(settings, { ...ctx, reporter, store });
    } finally {
      await store.close?.();
    }
  });
}

/** The mode against a store the caller opened (tests pass peers; `now` pins a backup's id). */
export async function runModeIn(
  settings: Settings,
  ctx: RunContext & { store: BackupStore; now?: Date },
): Promise<void> {
  try {
    switch (settings.mode) {
      case 'backup':
        await runBackup(settings, ctx);
        return;
      case 'gate':
        await runGate(settings, ctx);
        return;
      case 'drill':
        await runDrill(settings, ctx);
        return;
      case 'restore':
        await runRestore(settings, ctx);
        return;
      case 'watch':
        await runWatch(settings, ctx);
        return;
      case 'copy':
        await runCopy(settings, ctx);
        return;
      case 'refresh':
        await runRefresh(settings, ctx);
        return;
    }
  } finally {
    // The tools' copy of `database-ca`, if one was written.
    removeCaFiles();
  }
}
