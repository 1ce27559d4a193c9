import type { TableInfo } from '../postgres/catalog.js';
import type { ColumnRule, MaskKind, TableRule } from './mask-rules.js';

/**
 * What a refresh masks in a Supabase database without being told (profile `supabase`, or
 * `auto` finding one), so no user of staging can sign in as a real person or read who
 * they are. Each applies only where the backup has the column; the rules file overrides
 * any of them (`keep` to leave one as it is) or turns them off (`supabase-defaults: false`).
 * README "Staging refresh" lists the same.
 */
const COLUMNS: [string, MaskKind, string?][] = [
  ['auth.users.email', 'email'],
  ['auth.users.phone', 'phone'],
  // Not a valid bcrypt hash: no password matches it, so every masked user must sign in another way.
  ['auth.users.encrypted_password', 'fixed', 'masked-by-lifeboat'],
  ['auth.users.email_change', 'email'],
  ['auth.users.phone_change', 'phone'],
  ['auth.users.raw_user_meta_data.full_name', 'name'],
  ['auth.users.raw_user_meta_data.name', 'name'],
  ['auth.users.raw_user_meta_data.email', 'email'],
  ['auth.users.raw_user_meta_data.phone', 'phone'],
  ['auth.users.raw_user_meta_data.avatar_url', 'null'],
  ['auth.users.raw_user_meta_data.picture', 'null'],
  ['auth.identities.email', 'email'],
  ['auth.identities.identity_data.email', 'email'],
  ['auth.identities.identity_data.full_name', 'name'],
  ['auth.identities.identity_data.name', 'name'],
  ['auth.identities.identity_data.phone', 'phone'],
  ['auth.identities.identity_data.avatar_url', 'null'],
  ['auth.identities.identity_data.picture', 'null'],
];

/** Emptied: sign-in sessions and tokens (usable to act as the user), MFA secrets, the audit log (IPs, emails). */
const TABLES = [
  'auth.sessions',
  'auth.refresh_tokens',
  'auth.audit_log_entries',
  'auth.one_time_tokens',
  'auth.flow_state',
];
const TABLE_PREFIXES = ['auth.mfa_'];

export function supabaseColumnDefaults(): ColumnRule[] {
  return COLUMNS.map(([name, kind, value]) => {
    const [schema, table, column, ...path] = name.split('.') as [string, string, string, ...string[]];
    return {
      schema,
      table,
      column,
      path,
      kind,
      ...(value === undefined ? {} : { value }),
      origin: 'default',
    };
  });
}

/** The default truncations among the backup's tables (`auth.mfa_*` matched by prefix). */
export function supabaseTableDefaults(tables: Pick<TableInfo, 'schema' | 'name'>[]): TableRule[] {
  return tables
    .filter((t) => {
      const name = `${t.schema}.${t.name}`;
      return TABLES.includes(name) || TABLE_PREFIXES.some((p) => name.startsWith(p));
    })
    .map((t) => ({ schema: t.schema, table: t.name, action: 'truncate', origin: 'default' }));
}
