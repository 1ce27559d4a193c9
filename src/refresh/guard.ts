import type { Manifest } from '../archive/manifest.js';
import { LifeboatError } from '../errors.js';
import type { ServerIdentity } from '../postgres/server-identity.js';

/**
 * A refresh never writes over the database its backup came from, whatever `confirm`
 * says: the same cluster (system identifier, which no host name, port or pooler changes)
 * and the same database name. Pure.
 *
 * When either side's identifier is unknown (a backup from before refreshes existed, or a
 * role that may not call pg_control_system()) Lifeboat cannot tell staging from production,
 * so it refuses too: a host name would not do, since a pooler, a DNS alias or a replica
 * hides the same server behind another one.
 */
export function refuseProduction(source: Manifest['source'], target: ServerIdentity, where: string): void {
  if (!source.systemIdentifier) {
    throw new LifeboatError(
      'production',
      `Refusing to refresh ${where}: backup's manifest does not record which server it came from (it was taken by an older Lifeboat, or its role could not read pg_control_system()), so Lifeboat cannot rule out that the target is production. Nothing was changed.`,
      {
        hint: 'Take a new backup with this version of Lifeboat (with a role that may execute pg_control_system()) and refresh from it.',
      },
    );
  }
  if (!target.systemIdentifier) {
    throw new LifeboatError(
      'production',
      `Refusing to refresh ${where}: the target-url role may not read the server's system identifier (pg_control_system()), so Lifeboat cannot rule out that the target is production. Nothing was changed.`,
      { hint: 'Grant EXECUTE ON FUNCTION pg_control_system() to the target-url role, or use another role.' },
    );
  }
  if (source.systemIdentifier === target.systemIdentifier && source.database === target.database) {
    throw new LifeboatError(
      'production',
      `Refusing to refresh ${where}: it is the database this backup was taken from (same server system identifier ${target.systemIdentifier}, same database "${target.database}"). A refresh overwrites its target with masked data; it never runs against the source, whatever \`confirm\` says. Nothing was changed.`,
      {
        hint: 'Point target-url at the staging or local database. To bring production back, use mode `restore`.',
      },
    );
  }
}
