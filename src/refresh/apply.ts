import type pg from 'pg';
import type { DecryptKeys } from '../archive/age/index.js';
import type { Manifest } from '../archive/manifest.js';
import { LifeboatError } from '../errors.js';
import type { Log } from '../log.js';
import type { CatalogSnapshot } from '../postgres/catalog.js';
import type { PgTarget } from '../postgres/connection.js';
import { inspectDatabase } from '../postgres/inspect.js';
import type { ResolvedProfile } from '../postgres/profile.js';
import { asPgRestoreError } from '../postgres/psql.js';
import { replaySettings } from '../postgres/throwaway-database.js';
import { openForReplace, planDrops, planReplace, replaceContents } from '../restore/index.js';
import type { BackupStore } from '../stores/store.js';
import { createPrivateTempDir } from '../tempfiles.js';
import type { KeyPads } from './mask-key.js';
import type { MaskPlan } from './mask-plan.js';
import { CHECK_MARK, maskingSql, rowCountSql } from './mask-sql.js';

export interface ApplyInput {
  manifest: Manifest;
  expected: CatalogSnapshot;
  keys: DecryptKeys;
  store: BackupStore;
  /** The database that receives the masked copy, and a connection to it. */
  target: PgTarget;
  client: pg.Client;
  profile: ResolvedProfile;
  plan: MaskPlan;
  pads: KeyPads;
  pgBinDir?: string;
  restoreRoleLogins: boolean;
  log: Log;
  env: NodeJS.ProcessEnv;
}

/**
 * Replaces the target's contents with the backup's and masks them in one transaction:
 * the drops, the archive's objects and rows, the masking, the archive's indexes,
 * constraints and triggers (which check the masked rows), the row counts, then COMMIT. Until
 * that COMMIT no other session sees a row of it; any error or a kill rolls it all back
 * and leaves the target as it was.
 */
export async function restoreMasked(input: ApplyInput): Promise<void> {
  const { expected, client, log } = input;
  const temp = await createPrivateTempDir('lifeboat-refresh-', input.env);
  try {
    // The restore's own way to the archives: each checked in a first streamed pass, then
    // streamed again into the transaction; no plaintext of the dump is written to disk.
    const { tool, psql, archive, parts } = await openForReplace(input);
    const live = await inspectDatabase(client, { rowCounts: false });
    const replace = await planReplace({
      client,
      tool,
      archive,
      parts,
      expected,
      profile: input.profile,
      drops: planDrops(expected, live).drops,
      logins: input.restoreRoleLogins,
    });
    log.info(
      `Masking ${input.plan.columns.length} columns and emptying ${input.plan.truncate.length} tables in the same transaction, once every row is in and before indexes and constraints are built.`,
    );
    await replaceContents(replace, {
      client,
      tool,
      psql,
      target: input.target,
      archive,
      parts,
      listFile: temp.file('restore.list'),
      log,
      own: {
        beforePostData: maskingSql(input.plan, input.pads),
        atEnd: rowCountSql(input.plan, expected),
        explain: explainMaskFailure,
      },
    });
    for (const phase of ['before', 'after'] as const)
      await replaySettings(client, input.target.database, expected.databaseSettings, phase, log);
  } finally {
    await temp.remove();
  }
}

/** An error psql reported in the masking SQL: one of its checks, or a statement the data refused. */
export function explainMaskFailure(psqlStderr: string): LifeboatError {
  const text = asPgRestoreError(psqlStderr);
  const error = /ERROR:\s+(.*)/.exec(text)?.[1]?.trim() ?? 'psql stopped';
  const detail = /DETAIL:\s+(.*)/.exec(text)?.[1]?.trim();
  const rolledBack =
    'The refresh ran in one transaction, which was rolled back: the target is as it was before.';
  if (error.startsWith(CHECK_MARK)) {
    return new LifeboatError(
      'verify',
      `Masking did not pass its checks: ${error.slice(CHECK_MARK.length).trim()}. ${rolledBack}`,
      { hint: 'Report this with the rules file: the masks should never leave an original value.' },
    );
  }
  return new LifeboatError('mask', `Masking failed: ${error}${detail ? ` (${detail})` : ''}. ${rolledBack}`, {
    hint: /unique|duplicate key/i.test(error)
      ? 'A masked column with a unique constraint got the same mask twice: its originals differ only where the mask does not look (case, or beyond the column length). Use `hash` for it, or report it.'
      : /truncate/i.test(error)
        ? 'A table the rules empty is referenced by a table they keep; truncate that one too, or keep the first.'
        : 'Check the rules in input `mask-config` against the table named above.',
  });
}
