import { readExpectedCatalog } from '../archive/fetch.js';
import type { DecryptKeys } from '../archive/age/index.js';
import { totalStoredBytes, type Manifest } from '../archive/manifest.js';
import { resolveManifest } from '../archive/manifests.js';
import { formatBytes } from '../duration.js';
import type { CatalogSnapshot } from '../postgres/catalog.js';
import type { BackupStore } from '../stores/store.js';

/**
 * `lifeboat show <backup-id>`: what a backup holds, from its decrypted catalog, without
 * restoring it. The answer to "what is in this backup?" that `pg_restore --list` gives only
 * as a list of archive entries.
 */
export async function showBackup(
  store: BackupStore,
  o: { name: string; backupId: string; keys: DecryptKeys; json: boolean },
  write: (text: string) => void = (text) => process.stdout.write(text),
): Promise<void> {
  const manifest = await resolveManifest(store, o.name, o.backupId);
  const catalog = await readExpectedCatalog(manifest, o.keys);
  const view = describeBackup(manifest, catalog);
  write(o.json ? `${JSON.stringify(view, null, 2)}\n` : renderBackup(view));
}

export type BackupView = ReturnType<typeof describeBackup>;

export function describeBackup(manifest: Manifest, catalog: CatalogSnapshot) {
  return {
    backupId: manifest.backupId,
    name: manifest.name,
    createdAt: manifest.createdAt,
    verified: manifest.verification.level,
    storedBytes: totalStoredBytes(manifest),
    database: catalog.database,
    serverVersion: catalog.serverVersion,
    pgDumpVersion: manifest.source.pgDumpVersion,
    migration: catalog.migration,
    schemas: catalog.schemas,
    tables: catalog.tables.map((t) => ({
      schema: t.schema,
      name: t.name,
      rows: t.rows,
      bytes: t.bytes ?? null,
      rlsEnabled: t.rlsEnabled,
      owner: t.owner,
    })),
    extensions: catalog.extensions,
    databaseSettings: catalog.databaseSettings,
    // null: a backup from before roles were recorded (its catalog names them only).
    roles: catalog.roleDetails ?? null,
    roleNames: catalog.roles,
    memberships: catalog.memberships ?? null,
    privileges: catalog.privileges?.length ?? null,
    // null: the backup took no Storage objects.
    storage: catalog.storage
      ? { buckets: catalog.storage.buckets, consistency: catalog.storage.consistency }
      : null,
  };
}

export function renderBackup(v: BackupView): string {
  const out: string[] = [];
  out.push(`Backup ${v.backupId} of "${v.name}", taken ${v.createdAt}, verified: ${v.verified}`);
  out.push(
    `Database ${v.database} on PostgreSQL ${v.serverVersion} (pg_dump ${v.pgDumpVersion}), ${formatBytes(v.storedBytes)} stored`,
  );
  out.push(
    `Latest migration: ${v.migration ? `${v.migration.latestVersion ?? 'none'} (${v.migration.count} in ${v.migration.table})` : 'no migrations table'}`,
  );
  out.push('', `Schemas: ${v.schemas.join(', ') || '(none)'}`, '');
  out.push(
    ...table(
      ['TABLE', 'ROWS', 'SIZE', 'RLS', 'OWNER'],
      v.tables.map((t) => [
        `${t.schema}.${t.name}`,
        t.rows === null ? '-' : String(t.rows),
        t.bytes === null ? '-' : formatBytes(t.bytes),
        t.rlsEnabled ? 'on' : '',
        t.owner,
      ]),
    ),
  );
  if (v.storage) {
    const c = v.storage.consistency;
    out.push('', 'Storage:');
    for (const b of v.storage.buckets) out.push(`  ${b.name}: ${b.objects} objects, ${formatBytes(b.bytes)}`);
    out.push(
      `  ${c.onlyInStorage.length} objects without a storage.objects row, ${c.onlyInDatabase.length} rows without their object`,
    );
  }
  out.push('', `Extensions: ${v.extensions.map((x) => `${x.name} ${x.version}`).join(', ') || '(none)'}`);
  out.push('', 'Database settings:');
  for (const s of v.databaseSettings) out.push(`  ${s.role ? `for role ${s.role}: ` : ''}${s.setting}`);
  if (!v.databaseSettings.length) out.push('  (none)');
  out.push('');
  if (!v.roles) {
    out.push(`Roles (names only; this backup predates role records): ${v.roleNames.join(', ')}`);
    return `${out.join('\n')}\n`;
  }
  out.push(`Roles (no passwords; ${v.privileges ?? 0} privileges recorded):`);
  for (const r of v.roles) {
    const memberOf = (v.memberships ?? [])
      .filter((m) => m.member === r.name)
      .map((m) => `${m.role}${m.admin ? ' (admin)' : ''}`);
    out.push(
      `  ${r.name}: ${attributes(r).join(' ')}${memberOf.length ? `; member of ${memberOf.join(', ')}` : ''}`,
    );
    for (const s of r.settings) out.push(`    SET ${s}`);
  }
  return `${out.join('\n')}\n`;
}

function attributes(r: NonNullable<BackupView['roles']>[number]): string[] {
  const out = [r.login ? 'LOGIN' : 'NOLOGIN'];
  if (r.superuser) out.push('SUPERUSER');
  if (!r.inherit) out.push('NOINHERIT');
  if (r.createRole) out.push('CREATEROLE');
  if (r.createDb) out.push('CREATEDB');
  if (r.replication) out.push('REPLICATION');
  if (r.bypassRls) out.push('BYPASSRLS');
  if (r.connectionLimit >= 0) out.push(`CONNECTION LIMIT ${r.connectionLimit}`);
  if (r.validUntil) out.push(`VALID UNTIL ${r.validUntil}`);
  return out;
}

function table(head: string[], rows: string[][]): string[] {
  const lines = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  return lines.map((l) =>
    l
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
}
