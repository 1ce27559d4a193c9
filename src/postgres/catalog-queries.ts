/**
 * Catalog queries behind a snapshot. Every query skips system schemas and objects that
 * belong to extensions (the extension recreates those), so a snapshot lists only what a
 * dump carries and a restore must bring back.
 */
const USER_SCHEMA = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'`;
const notExtensionMember = (classid: string, oid: string) =>
  `NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '${classid}'::regclass AND d.objid = ${oid} AND d.deptype = 'e')`;

export const Q = {
  server: `SELECT current_setting('server_version') AS version, current_setting('server_version_num')::int AS num, current_database() AS database,
      current_setting('max_locks_per_transaction')::bigint
        * (current_setting('max_connections')::bigint + current_setting('max_prepared_transactions')::bigint) AS lock_slots`,

  schemas: `SELECT n.nspname AS name FROM pg_namespace n WHERE ${USER_SCHEMA} AND ${notExtensionMember('pg_namespace', 'n.oid')} ORDER BY 1`,

  tables: `SELECT n.nspname AS schema, c.relname AS name, c.relkind AS kind, c.relrowsecurity AS rls_enabled,
      c.relforcerowsecurity AS rls_forced, pg_get_userbyid(c.relowner) AS owner, pg_total_relation_size(c.oid) AS bytes
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND ${USER_SCHEMA} AND ${notExtensionMember('pg_class', 'c.oid')}
    ORDER BY 1, 2`,

  columns: `SELECT n.nspname AS schema, c.relname AS table, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
      COALESCE(bt.typcategory, t.typcategory) AS category, a.attnotnull AS not_null, a.attgenerated <> '' AS generated
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
    WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND ${USER_SCHEMA} AND ${notExtensionMember('pg_class', 'c.oid')}
    ORDER BY 1, 2, a.attnum`,

  policies: `SELECT n.nspname AS schema, c.relname AS table, p.polname AS name, p.polcmd AS command, p.polpermissive AS permissive,
      COALESCE((SELECT array_agg(CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r) END ORDER BY 1) FROM unnest(p.polroles) AS r), '{}') AS roles,
      pg_get_expr(p.polqual, p.polrelid) AS using, pg_get_expr(p.polwithcheck, p.polrelid) AS check
    FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE ${USER_SCHEMA} ORDER BY 1, 2, 3`,

  functions: `SELECT n.nspname AS schema, p.proname AS name, pg_get_function_identity_arguments(p.oid) AS args, p.prokind AS kind,
      l.lanname AS language, md5(COALESCE(p.prosrc, '') || '|' || COALESCE(p.probin, '')) AS body_hash, p.prosecdef AS security_definer
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
    WHERE ${USER_SCHEMA} AND ${notExtensionMember('pg_proc', 'p.oid')} ORDER BY 1, 2, 3`,

  extensions: `SELECT e.extname AS name, e.extversion AS version, n.nspname AS schema
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace ORDER BY 1`,

  databaseSettings: `SELECT COALESCE(r.rolname, '') AS role, unnest(s.setconfig) AS setting
    FROM pg_db_role_setting s LEFT JOIN pg_roles r ON r.oid = s.setrole
    WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY 1, 2`,

  constraints: `SELECT n.nspname AS schema, c.relname AS table, con.conname AS name, con.contype AS type,
      pg_get_constraintdef(con.oid) AS definition, con.convalidated AS validated
    FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE con.contype IN ('p', 'u', 'f', 'c', 'x') AND ${USER_SCHEMA} AND ${notExtensionMember('pg_class', 'c.oid')}
      AND con.conparentid = 0
    ORDER BY 1, 2, 3`,

  indexes: `SELECT n.nspname AS schema, t.relname AS table, i.relname AS name, pg_get_indexdef(i.oid) AS definition
    FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE ${USER_SCHEMA} AND ${notExtensionMember('pg_class', 't.oid')} ORDER BY 1, 2, 3`,

  triggers: `SELECT n.nspname AS schema, c.relname AS table, t.tgname AS name, t.tgenabled AS enabled,
      pg_get_triggerdef(t.oid) AS definition
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE NOT t.tgisinternal AND ${USER_SCHEMA} AND ${notExtensionMember('pg_class', 'c.oid')} ORDER BY 1, 2, 3`,

  views: `SELECT n.nspname AS schema, c.relname AS name, c.relkind AS kind, pg_get_viewdef(c.oid) AS definition,
      c.relispopulated AS populated
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('v', 'm') AND ${USER_SCHEMA} AND ${notExtensionMember('pg_class', 'c.oid')} ORDER BY 1, 2`,

  sequences: `SELECT n.nspname AS schema, c.relname AS name,
      tn.nspname AS owner_schema, t.relname AS owner_table, a.attname AS owner_column
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
    LEFT JOIN pg_class t ON t.oid = d.refobjid LEFT JOIN pg_namespace tn ON tn.oid = t.relnamespace
    LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
    WHERE c.relkind = 'S' AND ${USER_SCHEMA} AND ${notExtensionMember('pg_class', 'c.oid')} ORDER BY 1, 2`,

  roles: `SELECT DISTINCT role FROM (
      SELECT pg_get_userbyid(c.relowner) AS role FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${USER_SCHEMA}
      UNION SELECT pg_get_userbyid(n.nspowner) FROM pg_namespace n WHERE ${USER_SCHEMA}
      UNION SELECT pg_get_userbyid(p.proowner) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ${USER_SCHEMA}
      UNION SELECT pg_get_userbyid(a.grantee) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
        LATERAL aclexplode(c.relacl) a WHERE ${USER_SCHEMA} AND a.grantee <> 0
      UNION SELECT pg_get_userbyid(a.grantee) FROM pg_namespace n, LATERAL aclexplode(n.nspacl) a WHERE ${USER_SCHEMA} AND a.grantee <> 0
      UNION SELECT pg_get_userbyid(a.grantee) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace,
        LATERAL aclexplode(p.proacl) a WHERE ${USER_SCHEMA} AND a.grantee <> 0
      UNION SELECT pg_get_userbyid(r) FROM pg_policy p, LATERAL unnest(p.polroles) r WHERE r <> 0
      UNION SELECT pg_get_userbyid(a.grantee) FROM pg_attribute at JOIN pg_class c ON c.oid = at.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace, LATERAL aclexplode(at.attacl) a WHERE ${USER_SCHEMA} AND a.grantee <> 0
      UNION SELECT pg_get_userbyid(t.typowner) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE ${USER_SCHEMA}
      UNION SELECT pg_get_userbyid(d.defaclrole) FROM pg_default_acl d
      UNION SELECT pg_get_userbyid(a.grantee) FROM pg_default_acl d, LATERAL aclexplode(d.defaclacl) a WHERE a.grantee <> 0
    ) x WHERE role IS NOT NULL ORDER BY 1`,

  largeObjects: `SELECT count(*)::bigint AS count FROM pg_largeobject_metadata`,

  /** What would stop the current role from reading every row. */
  readiness: `SELECT n.nspname AS schema, c.relname AS name,
      NOT has_table_privilege(c.oid, 'SELECT') AS no_select,
      (c.relrowsecurity AND NOT r.rolsuper AND NOT r.rolbypassrls
        AND (c.relforcerowsecurity OR NOT pg_has_role(c.relowner, 'USAGE'))) AS rls_blocks
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_roles r ON r.rolname = current_user
    WHERE c.relkind IN ('r', 'p', 'S', 'm') AND ${USER_SCHEMA} AND ${notExtensionMember('pg_class', 'c.oid')}
      AND (NOT has_table_privilege(c.oid, 'SELECT')
        OR (c.relrowsecurity AND NOT r.rolsuper AND NOT r.rolbypassrls
          AND (c.relforcerowsecurity OR NOT pg_has_role(c.relowner, 'USAGE'))))
    ORDER BY 1, 2`,

  currentRole: `SELECT current_user AS name, rolsuper AS superuser, rolbypassrls AS bypassrls FROM pg_roles WHERE rolname = current_user`,
} as const;
