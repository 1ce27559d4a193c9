/**
 * Catalog queries behind the role record. Privileges are read from the ACLs of objects in
 * user schemas (extension members excluded, as elsewhere in the snapshot), each row one
 * grantee, one object, one privilege, so a lost grant can be named exactly.
 */
const USER_SCHEMA = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'`;
const notExtensionMember = (classid: string, oid: string) =>
  `NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '${classid}'::regclass AND d.objid = ${oid} AND d.deptype = 'e')`;
const grantee = `CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END`;
const relationKind = `CASE c.relkind WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'f' THEN 'foreign table' ELSE 'table' END`;
const defaultKind = `CASE d.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences' WHEN 'f' THEN 'functions' WHEN 'T' THEN 'types' WHEN 'n' THEN 'schemas' ELSE d.defaclobjtype::text END`;

export const ROLE_QUERIES = {
  /**
   * The used roles, every role they belong to (whose privileges they inherit) and every
   * role that belongs to them (who act through them), transitively. Members of PostgreSQL's
   * own `pg_*` roles are not followed: they say nothing about this database.
   */
  roles: `WITH RECURSIVE used AS (SELECT oid FROM pg_roles WHERE rolname = ANY($1::text[])),
      up(oid) AS (SELECT oid FROM used UNION SELECT m.roleid FROM pg_auth_members m JOIN up ON m.member = up.oid),
      down(oid) AS (SELECT oid FROM used UNION SELECT m.member FROM pg_auth_members m JOIN down ON m.roleid = down.oid
        JOIN pg_roles g ON g.oid = down.oid WHERE g.rolname NOT LIKE 'pg\\_%')
    SELECT r.rolname AS name, r.rolsuper AS superuser, r.rolcanlogin AS login, r.rolinherit AS inherit,
      r.rolcreaterole AS create_role, r.rolcreatedb AS create_db, r.rolreplication AS replication,
      r.rolbypassrls AS bypass_rls, r.rolconnlimit AS connection_limit,
      CASE WHEN r.rolvaliduntil IS NULL THEN NULL WHEN NOT isfinite(r.rolvaliduntil) THEN 'infinity'
        ELSE to_char(r.rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') END AS valid_until,
      COALESCE((SELECT array_agg(x ORDER BY x) FROM pg_db_role_setting s, unnest(s.setconfig) x
        WHERE s.setrole = r.oid AND s.setdatabase = 0), '{}')::text[] AS settings
    FROM pg_roles r WHERE r.oid IN (SELECT oid FROM up UNION SELECT oid FROM down) ORDER BY 1`,

  memberships: `SELECT g.rolname AS role, u.rolname AS member, bool_or(m.admin_option) AS admin, NULL AS inherit, NULL AS set
    FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
    WHERE g.rolname = ANY($1::text[]) AND u.rolname = ANY($1::text[]) GROUP BY 1, 2 ORDER BY 1, 2`,

  memberships16: `SELECT g.rolname AS role, u.rolname AS member, bool_or(m.admin_option) AS admin,
      bool_or(m.inherit_option) AS inherit, bool_or(m.set_option) AS set
    FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
    WHERE g.rolname = ANY($1::text[]) AND u.rolname = ANY($1::text[]) GROUP BY 1, 2 ORDER BY 1, 2`,

  privileges: `SELECT grantee, object, privilege, grantable FROM (
      SELECT ${grantee} AS grantee, ${relationKind} || ' ' || n.nspname || '.' || c.relname AS object,
        a.privilege_type AS privilege, a.is_grantable AS grantable
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, LATERAL aclexplode(c.relacl) a
      WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND ${USER_SCHEMA} AND ${notExtensionMember('pg_class', 'c.oid')}
      UNION ALL
      SELECT ${grantee}, 'column ' || n.nspname || '.' || c.relname || '.' || at.attname, a.privilege_type, a.is_grantable
      FROM pg_attribute at JOIN pg_class c ON c.oid = at.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace,
        LATERAL aclexplode(at.attacl) a
      WHERE at.attnum > 0 AND NOT at.attisdropped AND ${USER_SCHEMA} AND ${notExtensionMember('pg_class', 'c.oid')}
      UNION ALL
      SELECT ${grantee}, CASE p.prokind WHEN 'p' THEN 'procedure ' ELSE 'function ' END || n.nspname || '.' || p.proname
          || '(' || pg_get_function_identity_arguments(p.oid) || ')', a.privilege_type, a.is_grantable
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace, LATERAL aclexplode(p.proacl) a
      WHERE ${USER_SCHEMA} AND ${notExtensionMember('pg_proc', 'p.oid')}
      UNION ALL
      SELECT ${grantee}, 'schema ' || n.nspname, a.privilege_type, a.is_grantable
      FROM pg_namespace n, LATERAL aclexplode(n.nspacl) a
      WHERE ${USER_SCHEMA} AND ${notExtensionMember('pg_namespace', 'n.oid')}
      UNION ALL
      SELECT ${grantee}, 'default privileges of ' || pg_get_userbyid(d.defaclrole)
          || COALESCE(' in schema ' || n.nspname, '') || ' on ' || ${defaultKind}, a.privilege_type, a.is_grantable
      FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace, LATERAL aclexplode(d.defaclacl) a
    ) x ORDER BY 1, 2, 3`,
} as const;
