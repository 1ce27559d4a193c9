import type pg from 'pg';
import { readTargetState } from '../postgres/profile-apply.js';
import { commentOut, parseToc, type TocEntry } from '../postgres/toc.js';
import { LifeboatError } from '../errors.js';
import type { Log } from '../log.js';
import { quoteIdent, type CatalogSnapshot } from '../postgres/catalog.js';
import type { PgTarget } from '../postgres/connection.js';
import { planPreparation, type Preparation, type ResolvedProfile } from '../postgres/profile.js';
import { findPgRestore, listArchive, requireRestrict, type ArchiveSource } from '../postgres/pg-restore.js';
import { findPsql } from '../postgres/psql.js';
import { createToolFinder } from '../postgres/tools.js';
import { storedArchives, type Manifest } from '../archive/manifest.js';
import type { DecryptKeys } from '../archive/age/index.js';
import { archiveFeed, checkArchive, openPlainArchive } from '../archive/plain-stream.js';
import { formatBytes } from '../duration.js';
import type { BackupStore } from '../stores/store.js';
import type { PgTool } from '../postgres/tools.js';
import { writePrivateFile } from '../tempfiles.js';
import { runCleanRestore, type CleanRestoreOptions } from './clean-restore.js';
import { isUntouchedSchema, readClearSteps, refuseKeptDependents } from './clear.js';
import type { DropStep } from './extras.js';
import { keepExisting } from './toc-select.js';

/**
 * Replacing a live database's contents with an archive's, in two steps: `planReplace`
 * reads the target and refuses before anything changes; `replaceContents` then empties the
 * target's schemas and restores the archive into them in one transaction.
 */
export interface ReplacePlan {
  listing: string;
  /** The main archive's table of contents, then each part's. */
  tocs: TocEntry[][];
  preparation: Preparation;
  /** Entries left out: what the target keeps (its schemas, extensions) and what the profile skips. */
  skip: Set<number>;
  kept: string[];
  /** Schemas emptied and refilled. */
  emptied: string[];
  /** Whole schemas: those the backup lacks, and those the archive creates again. */
  schemaDrops: DropStep[];
}

/** Archive `part` (1 the main one, 2… the data parts): a file, or a stream (see clean-restore.ts). */
export type ArchiveOf = (part: number, whole: boolean) => ArchiveSource;

/**
 * What replacing a database with a backup starts from: pg_restore (one that opens its
 * script with `\restrict`), its psql, and the backup's archives, each proven before anything
 * changes: its bytes match the manifest, decrypt and decompress. Read once for that and
 * again for the restore, streamed both times: no plaintext of the dump is ever written to
 * disk, whatever its size. Refuses before anything is read when the tools will not do.
 */
export async function openForReplace(o: {
  pgBinDir?: string;
  env: NodeJS.ProcessEnv;
  manifest: Manifest;
  store: BackupStore;
  keys: DecryptKeys;
  log: Log;
}): Promise<{ tool: PgTool; psql: string; archive: ArchiveOf; parts: number }> {
  const { log, manifest } = o;
  const finder = createToolFinder({ binDir: o.pgBinDir, env: o.env });
  const tool = await findPgRestore(finder, manifest.source.pgDumpVersion);
  requireRestrict(tool);
  const psql = await findPsql(tool, finder);
  const open = { store: o.store, manifest, keys: o.keys };
  const count = storedArchives(manifest).length;
  for (let part = 1; part <= count; part++) {
    const checked = await checkArchive({ ...open, part, log });
    log.info(
      `Checked ${formatBytes(checked.sizeBytes)} stored${count > 1 ? ` (part ${part} of ${count})` : ''}: SHA-256 matches the manifest; the dump is ${formatBytes(checked.dumpBytes)}, streamed, never written to disk.`,
    );
  }
  const archive: ArchiveOf = (part, whole) =>
    archiveFeed((feeding) => openPlainArchive({ ...open, part, ...feeding }), whole);
  return { tool, psql, archive, parts: count - 1 };
}

export async function planReplace(o: {
  client: pg.ClientBase;
  tool: PgTool;
  archive: ArchiveOf;
  /** How many data parts the backup has besides its main archive. */
  parts: number;
  expected: CatalogSnapshot;
  profile: ResolvedProfile;
  /** Objects the target has and the backup lacks (planDrops); the schemas among them go whole. */
  drops: DropStep[];
  /** Create recorded roles with LOGIN where they had it (input `restore-role-logins`). */
  logins?: boolean;
}): Promise<ReplacePlan> {
  const listing = await listArchive(o.tool, o.archive(1, false));
  const toc = parseToc(listing);
  const state = await readTargetState(o.client);
  const preparation = planPreparation(o.profile, o.expected, toc, state, { logins: o.logins });
  if (preparation.missingRoles.length) {
    throw new LifeboatError(
      'restore',
      `The backup needs roles the target server lacks: ${preparation.missingRoles.join(', ')}. Nothing was changed.`,
      {
        hint: 'Create them on the target server (a dump never carries roles), or use profile `auto` or `supabase`.',
      },
    );
  }
  const { rows } = await o.client.query(
    `SELECT extname, extnamespace::regnamespace::text AS schema FROM pg_extension`,
  );
  const extensions = rows as { extname: string; schema: string }[];
  // A schema the archive creates is dropped whole and created again, with the owner,
  // privileges and comment the backup recorded; unless it is `public` (which a dump never
  // creates) or holds an extension, which the target keeps. Those are emptied instead.
  const archiveSchemas = new Set(toc.filter((e) => e.desc === 'SCHEMA').map((e) => e.tag));
  const keptSchemas = new Set(['public', ...extensions.map((x) => x.schema.replace(/^"(.*)"$/, '$1'))]);
  const recreated = [...state.schemas].filter(
    (s) => archiveSchemas.has(s) && !keptSchemas.has(s) && !isUntouchedSchema(s),
  );
  const keep = keepExisting(toc, {
    schemas: new Set([...state.schemas].filter((s) => !recreated.includes(s))),
    extensions: new Set(extensions.map((x) => x.extname)),
  });
  const schemaDrops = [
    ...o.drops.filter((d) => d.schema !== undefined),
    ...recreated.sort().map((schema) => ({
      label: `schema ${schema}`,
      sql: `DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`,
      schema,
    })),
  ];
  const gone = new Set(schemaDrops.map((d) => d.schema));
  const emptied = [...state.schemas].filter((s) => !isUntouchedSchema(s) && !gone.has(s)).sort();
  // Whatever the restore drops, emptied or whole, must not take columns of a side table with it.
  await refuseKeptDependents(o.client, [...emptied, ...schemaDrops.map((d) => d.schema!)]);
  const partTocs = await Promise.all(
    Array.from({ length: o.parts }, async (_, i) =>
      parseToc(await listArchive(o.tool, o.archive(i + 2, false))),
    ),
  );
  return {
    listing,
    tocs: [toc, ...partTocs],
    preparation,
    skip: new Set([...keep.ids, ...preparation.skipped.map((s) => s.id)]),
    kept: keep.kept,
    emptied,
    schemaDrops,
  };
}

export async function replaceContents(
  plan: ReplacePlan,
  o: {
    client: pg.ClientBase;
    tool: PgTool;
    psql: string;
    target: PgTarget;
    archive: ArchiveOf;
    parts: number;
    /** Where the `--use-list` file goes: a private temporary directory. */
    listFile: string;
    log: Log;
    /** The caller's own SQL in the same transaction (see CleanRestoreOptions). */
    own?: CleanRestoreOptions['own'];
  },
): Promise<void> {
  const { log } = o;
  await writePrivateFile(o.listFile, commentOut(plan.listing, plan.skip));
  for (const step of plan.preparation.steps)
    log.info(`Creating ${step.creates} in the same transaction (profile ${plan.preparation.profile}).`);
  for (const w of plan.preparation.roleWarnings) log.warning(w);
  if (!plan.preparation.rolesRecorded)
    log.info('This backup was taken by a Lifeboat that did not record roles: none are created from it.');
  for (const s of plan.preparation.skipped) log.warning(`Skipped ${s.entry}: ${s.reason}.`);
  const clear = await readClearSteps(o.client, plan.emptied);
  const gone = plan.schemaDrops.length
    ? ` and ${plan.schemaDrops.length} whole schemas (${plan.schemaDrops.map((d) => d.schema).join(', ')})`
    : '';
  log.info(
    `In one transaction: dropping ${clear.length} objects of schemas ${plan.emptied.join(', ') || '(none)'}${gone}, then creating the backup's (pg_restore ${o.tool.version}${o.parts ? `, ${o.parts + 1} archives section by section` : ''}).`,
  );
  await runCleanRestore({
    tool: o.tool,
    psql: o.psql,
    drops: [...plan.schemaDrops, ...clear],
    tocs: plan.tocs,
    preparation: plan.preparation.steps.map((step) => step.sql),
    target: o.target,
    archive: o.archive,
    parts: o.parts,
    listFile: o.listFile,
    profile: plan.preparation.profile,
    admin: o.client,
    log,
    own: o.own,
  });
}
