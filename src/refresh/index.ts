import { readFile } from 'node:fs/promises';
import type pg from 'pg';
import { readExpectedCatalog } from '../archive/fetch.js';
import { resolveManifest } from '../archive/manifests.js';
import { describeError, LifeboatError } from '../errors.js';
import type { Log, Reporter } from '../log.js';
import { tableRef, type CatalogSnapshot } from '../postgres/catalog.js';
import { describeTarget, withDatabase } from '../postgres/connection.js';
import { detectProfile } from '../postgres/profile.js';
import { openClient } from '../postgres/session.js';
import { askConfirmation, confirmationFor, confirmFromInput } from '../restore/index.js';
import { Inputs, Outputs } from '../settings/constants.js';
import { decryptKeys, type RefreshSettings } from '../settings/settings.js';
import type { BackupStore } from '../stores/store.js';
import { restoreMasked } from './apply.js';
import { guardedSwap } from './swap-run.js';
import { refuseProduction } from './guard.js';
import { keyPads } from './mask-key.js';
import { planMasking, type MaskPlan } from './mask-plan.js';
import { parseMaskConfig, type MaskConfig } from './mask-rules.js';
import { maskTotals, renderRefreshSummary, type RefreshReport } from './refresh-summary.js';
import { probeTarget } from './target-probe.js';

export interface RefreshContext {
  log: Log;
  reporter: Reporter;
  store: BackupStore;
  env?: NodeJS.ProcessEnv;
  prompt?: (question: string) => Promise<string>;
}

/**
 * A staging refresh: the backup restored into `target-url` with the masking rules applied
 * before anyone can read a row. Everything that can refuse comes first and changes nothing:
 * the confirmation, the rules (against the backup's catalog), the production guard. Then
 * either a fresh database is built beside the target and swapped in, or, where the target
 * cannot be renamed, its contents are replaced and masked in one transaction.
 */
export async function runRefresh(settings: RefreshSettings, ctx: RefreshContext): Promise<void> {
  const { log, reporter, store } = ctx;
  const env = ctx.env ?? process.env;
  const where = describeTarget(settings.target);
  const report: RefreshReport = { status: 'failed', target: where };
  // The confirmation rules of a full restore: the same check, the same value.
  const asRestore = {
    ...settings,
    mode: 'restore' as const,
    tables: [],
    restoreStorage: false,
    storagePrefix: '',
    storageDeleteExtra: false,
  };
  try {
    let confirmed = confirmFromInput(asRestore, Boolean(ctx.prompt));
    const config = await readRules(settings);
    const manifest = await resolveManifest(store, settings.name, settings.backupId);
    report.backupId = manifest.backupId;
    reporter.output(Outputs.BackupId, manifest.backupId);
    const keys = decryptKeys(settings.keys)!;
    const expected = await readExpectedCatalog(manifest, keys);
    const { profile, reason } = detectProfile(expected, settings.profile);
    log.info(`Profile ${profile}: ${reason}.`);
    const plan = planMasking(config, expected, profile === 'supabase');
    report.plan = plan;
    report.rows = rowsByTable(expected);
    if (!plan.columns.length && !plan.truncate.length) {
      throw new LifeboatError(
        'input',
        `No masking rule applies to this backup, so a refresh would copy every value as it is. Nothing was changed.`,
        {
          hint: `Write rules in ${settings.maskConfig} (input \`${Inputs.MaskConfig}\`); see "Staging refresh" in the README.`,
        },
      );
    }
    const { identity, inPlace, missing } = await probeTarget(settings.target);
    refuseProduction(manifest.source, identity, where);
    report.method = inPlace
      ? `in place, in one transaction (${inPlace})`
      : missing
        ? 'a fresh database, masked, then given the name of the target, which does not exist yet'
        : 'a fresh database beside the target, masked, then swapped in by renaming';
    const totals = maskTotals(plan, report.rows);
    log.info(
      `Refresh ${where} from backup ${manifest.backupId}: mask ${totals.columns} columns in ${totals.tables} tables, empty ${totals.truncated}; ${report.method}.`,
    );
    for (const c of plan.unmasked) log.warning(`Column ${c} looks personal and no rule masks it.`);
    reporter.output(Outputs.ConfirmWith, confirmationFor(settings.target));
    if (settings.dryRun) {
      report.status = 'dry-run';
      reporter.output(Outputs.Status, 'passed');
      await reporter.summary(renderRefreshSummary(report));
      log.info(
        `Dry run: nothing was changed. The real run needs confirm: ${confirmationFor(settings.target)}.`,
      );
      return;
    }
    if (confirmed === undefined) confirmed = await askConfirmation(asRestore, ctx.prompt!);

    const pads = keyPads(settings.maskKey);
    // The pads are the key in another form: never printed, whatever fails.
    for (const part of [pads.ipad.toString('hex'), pads.opad.toString('hex'), pads.prefix]) log.secret(part);
    const input = {
      manifest,
      expected,
      keys,
      store,
      profile,
      plan,
      pads,
      pgBinDir: settings.pgBinDir,
      restoreRoleLogins: settings.restoreRoleLogins,
      log,
      env,
    };
    if (inPlace) {
      await withClient(settings.target, (c) =>
        restoreMasked({ ...input, target: settings.target, client: c }),
      );
    } else {
      await guardedSwap(settings.target, missing, log, async (scratch) => {
        const target = withDatabase(settings.target, scratch);
        await withClient(target, (c) => restoreMasked({ ...input, target, client: c }));
      });
    }
    report.status = 'passed';
    reporter.output(Outputs.MaskedRows, String(totals.rows));
    reporter.output(Outputs.Status, 'passed');
    await reporter.summary(renderRefreshSummary(report));
    log.info(
      `Refreshed ${where} from ${manifest.backupId}: ${totals.rows} rows masked in ${totals.tables} tables, every check passed.`,
    );
  } catch (error) {
    reporter.output(Outputs.Status, 'failed');
    await reporter.summary(renderRefreshSummary({ ...report, error: log.mask(describeError(error)) }));
    throw error;
  }
}

async function withClient<T>(
  target: RefreshSettings['target'],
  work: (c: pg.Client) => Promise<T>,
): Promise<T> {
  const { client } = await openClient(target, 'target-url');
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The rules file; the default path may be absent (the profile's defaults may be all there is). */
async function readRules(settings: RefreshSettings): Promise<MaskConfig> {
  let text: string;
  try {
    text = await readFile(settings.maskConfig, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !settings.maskConfigGiven) return { columns: [], tables: [] };
    throw new LifeboatError(
      'input',
      `Input \`${Inputs.MaskConfig}\`: cannot read ${settings.maskConfig} (${code ?? (error as Error).message}). Nothing was changed.`,
      { hint: 'Check out the repository first (actions/checkout) and give the path of the rules file.' },
    );
  }
  const { parse } = await import('yaml');
  return parseMaskConfig(text, settings.maskConfig, parse);
}

function rowsByTable(catalog: CatalogSnapshot): Map<string, number> {
  return new Map(catalog.tables.map((t) => [tableRef(t.schema, t.name), t.rows ?? 0]));
}

export type { MaskPlan };
