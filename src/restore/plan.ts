import { totalStoredBytes, type Manifest } from '../archive/manifest.js';
import type { RestoreSettings } from '../settings/settings.js';
import type { Check } from '../postgres/verify/checks.js';
import { LifeboatError } from '../errors.js';
import { holdsNoData, type CatalogSnapshot, type TableInfo } from '../postgres/catalog.js';
import { describeTarget, type PgTarget } from '../postgres/connection.js';
import { compareSnapshots } from '../postgres/verify/compare.js';
import { confirmationFor } from './confirm.js';
import { planDrops, type DropStep } from './extras.js';

/**
 * What a restore is about to do, decided before it does anything: pure, from the manifest,
 * the catalog the backup recorded and a snapshot of the target as it is now. A dry run
 * prints it and stops; a real run prints it and carries it out.
 */
export type RestoreKind = 'full' | 'selective';

export interface PlannedTable {
  schema: string;
  name: string;
  /** The owner the backup recorded; with schema and name it identifies the archive's entries. */
  owner: string;
  backupRows: number | null;
  /** Rows in the target now; null when not counted or when the table does not exist there. */
  liveRows: number | null;
  liveExists: boolean;
  /** Selective restore: the table's name inside the side schema. */
  sideName?: string;
}

export interface RestorePlan {
  kind: RestoreKind;
  dryRun: boolean;
  backup: {
    id: string;
    name: string;
    completedAt: string;
    ageSeconds: number;
    level: string;
    database: string;
    serverVersion: string;
    sizeBytes: number;
  };
  target: { where: string; database: string; serverVersion: string };
  confirm: { needed: string; given: string; matches: boolean };
  tables: PlannedTable[];
  /** Everything else the backup brings back, counted by kind (full restore). */
  objects: { label: string; count: number }[];
  /** Differences between the target and the backup that the restore undoes, apart from row counts. */
  differences: string[];
  /** Objects the target has and the backup lacks, which a full restore drops (the safety backup keeps them). */
  drops: DropStep[];
  /** Objects the target has and the backup lacks, which a full restore keeps on purpose. */
  leftInPlace: string[];
  sideSchema?: string;
  /** Set when a full restore takes a safety backup: not when the target holds nothing to lose. */
  safetyBackupName?: string;
  /** The target holds no table, view, function, sequence or large object. */
  emptyTarget: boolean;
  steps: string[];
}

export interface PlanInput {
  manifest: Manifest;
  expected: CatalogSnapshot;
  live: CatalogSnapshot;
  target: PgTarget;
  settings: Pick<RestoreSettings, 'dryRun' | 'confirm' | 'tables' | 'name'>;
  storeLocation: string;
  now: Date;
}

/** Backup ids are digits, underscores and hex, so this needs no quoting (it is quoted anyway). */
export function sideSchemaName(backupId: string): string {
  return `lifeboat_restore_${backupId}`;
}

export function safetyBackupName(name: string): string {
  return `${name}-pre-restore`;
}

export function buildRestorePlan(input: PlanInput): RestorePlan {
  const { manifest, expected, live, settings } = input;
  const kind: RestoreKind = settings.tables.length ? 'selective' : 'full';
  const liveTables = new Map(live.tables.map((t) => [key(t), t]));
  const chosen = kind === 'full' ? expected.tables : chooseTables(expected, settings.tables);
  const sideNames = sideTableNames(chosen);
  const tables = chosen.map((t): PlannedTable => {
    const now = liveTables.get(key(t));
    return {
      schema: t.schema,
      name: t.name,
      owner: t.owner,
      backupRows: t.rows,
      liveRows: now?.rows ?? null,
      liveExists: Boolean(now),
      sideName: kind === 'selective' ? sideNames.get(key(t)) : undefined,
    };
  });
  const where = describeTarget(input.target);
  const sideSchema = kind === 'selective' ? sideSchemaName(manifest.backupId) : undefined;
  const empty = holdsNoData(live);
  const safety = kind === 'full' && !empty ? safetyBackupName(settings.name) : undefined;
  // Against an empty target every object differs; the table list says it all.
  const checks = kind === 'full' && !empty ? compareSnapshots(expected, live).checks : [];
  const extras = kind === 'full' ? planDrops(expected, live) : { drops: [], kept: [] };
  return {
    kind,
    dryRun: settings.dryRun,
    backup: {
      id: manifest.backupId,
      name: manifest.name,
      completedAt: manifest.completedAt,
      ageSeconds: Math.max(0, (input.now.getTime() - Date.parse(manifest.completedAt)) / 1000),
      level: manifest.verification.level,
      database: expected.database,
      serverVersion: manifest.source.serverVersion,
      sizeBytes: totalStoredBytes(manifest),
    },
    target: { where, database: input.target.database, serverVersion: live.serverVersion },
    confirm: {
      needed: confirmationFor(input.target),
      given: settings.confirm,
      matches: settings.confirm === confirmationFor(input.target),
    },
    tables,
    objects: kind === 'full' ? objectCounts(expected) : [],
    differences: differencesText(checks),
    drops: extras.drops,
    leftInPlace: extras.kept,
    sideSchema,
    safetyBackupName: safety,
    emptyTarget: empty,
    steps:
      kind === 'full'
        ? [
            `Read backup ${manifest.backupId} through once from the store, checking its SHA-256 against the manifest and that it decrypts and decompresses; nothing decrypted is written to disk.`,
            safety
              ? `Take a safety backup of ${where} into ${input.storeLocation} as "${safety}" and verify it; if that fails, stop with nothing changed.`
              : `Take no safety backup: ${where} holds no table, view, function, sequence or large object, so there is nothing to lose.`,
            `In one transaction, streaming the backup again: drop every object of the target's schemas (and what the target has and the backup lacks: ${extras.drops.length ? `${extras.drops.length} ${extras.drops.length === 1 ? 'object' : 'objects'}, listed below` : 'nothing'}), then create the backup's objects and rows, stopping at the first error. An error rolls everything back.`,
            "Replay the database settings the backup recorded, then verify the result against the backup's catalog snapshot.",
          ]
        : [
            `Stream backup ${manifest.backupId} from the store, decrypted and decompressed on the way (never written to disk), its SHA-256 checked against the manifest.`,
            `Create schema "${sideSchema}" in ${where} and restore ${tables.length === 1 ? 'the table' : `${tables.length} tables`} into it in one transaction; live tables are not touched.`,
            'Count rows and differences against the live tables, and print the SQL that copies rows back, for review.',
          ],
  };
}

/** A difference found before the restore, said as what the restore will do about it. */
export function undoneText(check: Check): string {
  if (check.actual === 'missing') {
    return `${check.object.charAt(0).toUpperCase()}${check.object.slice(1)} is not in the target: the restore creates it.`;
  }
  return check.message.replace(/, expected (.*)\.$/s, ' in the target: the restore sets it back to $1.');
}

/** What the restore undoes, apart from rows; the grants an object lacks in one line per object. */
function differencesText(checks: Check[]): string[] {
  const lostGrant = (c: Check) => c.kind === 'privilege' && c.actual === null;
  const shown = checks
    .filter(
      (c) =>
        c.kind !== 'rows' && !isExtra(c) && !lostGrant(c) && !(c.kind === 'privilege' && c.expected === null),
    )
    .map(undoneText);
  const lost = new Map<string, string[]>();
  for (const c of checks.filter(lostGrant))
    lost.set(c.object, [...(lost.get(c.object) ?? []), String(c.expected)]);
  for (const [object, grants] of lost) {
    const n = grants.length === 1 ? 'a grant' : `${grants.length} grants`;
    shown.push(
      `${object.charAt(0).toUpperCase()}${object.slice(1)} lacks ${n} in the target (${grants.join(', ')}): the restore grants them.`,
    );
  }
  return shown;
}

/** A restore check for something the target has and the backup does not. */
export function isExtra(check: Check): boolean {
  return check.expected === 'absent' && check.actual === 'present';
}

/** The tables a selective restore names, each proven to be in the backup. */
export function chooseTables(
  expected: CatalogSnapshot,
  requested: { schema: string; name: string }[],
): TableInfo[] {
  const byKey = new Map(expected.tables.map((t) => [key(t), t]));
  const chosen: TableInfo[] = [];
  for (const r of requested) {
    const table = byKey.get(key(r));
    if (!table) {
      const near = expected.tables.filter((t) => t.name === r.name).map((t) => `${t.schema}.${t.name}`);
      const listed = expected.tables.slice(0, 30).map((t) => `${t.schema}.${t.name}`);
      throw new LifeboatError(
        'input',
        `Table ${r.schema}.${r.name} is not in the backup. Nothing was changed.`,
        {
          hint: near.length
            ? `Did you mean ${near.join(' or ')}? Name tables as schema.table.`
            : `The backup holds: ${listed.join(', ')}${expected.tables.length > listed.length ? ', …' : ''}.`,
        },
      );
    }
    if (table.kind === 'p') {
      throw new LifeboatError(
        'input',
        `Table ${r.schema}.${r.name} is partitioned: its rows live in its partitions. Nothing was changed.`,
        { hint: 'Name the partitions that hold the rows you need in `tables` instead.' },
      );
    }
    if (!chosen.includes(table)) chosen.push(table);
  }
  return chosen;
}

/** Side tables keep their names; two chosen tables of the same name get their schema as a prefix. */
export function sideTableNames(tables: { schema: string; name: string }[]): Map<string, string> {
  const seen = new Map<string, number>();
  for (const t of tables) seen.set(t.name, (seen.get(t.name) ?? 0) + 1);
  return new Map(
    tables.map((t) => [key(t), (seen.get(t.name) ?? 0) > 1 ? `${t.schema}__${t.name}` : t.name]),
  );
}

export function key(t: { schema: string; name: string }): string {
  return `${t.schema}\u0000${t.name}`;
}

function objectCounts(s: CatalogSnapshot): { label: string; count: number }[] {
  // Each kind as one of it and as several.
  const counts: [string, string, number][] = [
    ['schema', 'schemas', s.schemas.length],
    ['table', 'tables', s.tables.length],
    ['view', 'views', s.views.length],
    ['sequence', 'sequences', s.sequences.length],
    ['function', 'functions', s.functions.length],
    ['constraint', 'constraints', s.constraints.length],
    ['index', 'indexes', s.indexes.length],
    ['trigger', 'triggers', s.triggers.length],
    ['row-level security policy', 'row-level security policies', s.policies.length],
    ['extension', 'extensions', s.extensions.filter((x) => x.name !== 'plpgsql').length],
    ['large object', 'large objects', s.largeObjects],
  ];
  return counts
    .filter(([, , n]) => n > 0)
    .map(([one, many, count]) => ({ label: count === 1 ? one : many, count }));
}
