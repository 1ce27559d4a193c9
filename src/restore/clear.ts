import type pg from 'pg';
import { LifeboatError } from '../errors.js';
import { SIDE_SCHEMA } from './extras.js';

/**
 * What a full restore removes before it recreates the backup: every object of the target
 * in the schemas it replaces, dropped by Lifeboat in an order that holds for every kind,
 * in the restore's own transaction. `pg_restore --clean` cannot do this: it drops each
 * object the backup holds one by one, and fails on what partitions inherit (`cannot drop
 * inherited constraint`), on indexes attached to a partitioned index, and wherever the
 * target holds an object the backup does not know that depends on one it replaces.
 *
 * Dropping with CASCADE, parents before children, leaves the schemas empty whatever the
 * dependencies between their objects; the archive then restores into a clean slate, the
 * way a drill restores into an empty database. Objects that belong to an extension stay
 * (the extension is kept, and recreating its objects would fail); so do the schemas
 * themselves, their owners and privileges, which the archive sets again.
 *
 * Statements are built by the server (`format('%I')`), read under `search_path =
 * pg_catalog` so every type and argument list comes out schema-qualified.
 */
export interface ClearStep {
  /** `table public.payments`: names the object when its DROP fails. */
  label: string;
  sql: string;
}

/** Schemas no restore touches: the server's own, and the side schemas of selective restores. */
export function isUntouchedSchema(name: string): boolean {
  return (
    name === 'pg_catalog' ||
    name === 'information_schema' ||
    /^pg_(toast|temp_\d+|toast_temp_\d+)$/.test(name) ||
    SIDE_SCHEMA.test(name)
  );
}

// One row per object to drop; `ord` orders the kinds so that CASCADE has the least to do.
const CLEAR_SQL = `
WITH ns AS (SELECT oid, nspname FROM pg_namespace WHERE nspname = ANY($1::text[])),
-- Objects of an extension, and those another object made for itself (a range type's
-- constructors and casts, an identity column's sequence): they go with their owner.
-- (A partitioned table depends internally on itself, for its partition key: not that.)
ext AS (SELECT classid, objid FROM pg_depend
         WHERE deptype IN ('e', 'i') AND NOT (classid = refclassid AND objid = refobjid)),
me AS (SELECT rolsuper AS super FROM pg_roles WHERE rolname = current_user)
SELECT ord, label, sql FROM (
  SELECT 0 AS ord, 'event trigger ' || e.evtname AS label,
         format('DROP EVENT TRIGGER IF EXISTS %I CASCADE', e.evtname) AS sql
    FROM pg_event_trigger e, me
   WHERE me.super AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_event_trigger'::regclass AND ext.objid = e.oid)
  UNION ALL
  SELECT 0, 'publication ' || p.pubname, format('DROP PUBLICATION IF EXISTS %I', p.pubname)
    FROM pg_publication p
  UNION ALL
  SELECT 1, CASE c.relkind WHEN 'm' THEN 'materialized view ' ELSE 'view ' END || ns.nspname || '.' || c.relname,
         format('DROP %s IF EXISTS %I.%I CASCADE', CASE c.relkind WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'VIEW' END, ns.nspname, c.relname)
    FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
   WHERE c.relkind IN ('v', 'm') AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)
  UNION ALL
  -- Parents first: their CASCADE takes partitions and inheritance children with them.
  SELECT CASE WHEN c.relispartition OR EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid) THEN 3 ELSE 2 END,
         CASE c.relkind WHEN 'f' THEN 'foreign table ' ELSE 'table ' END || ns.nspname || '.' || c.relname,
         format('DROP %s IF EXISTS %I.%I CASCADE', CASE c.relkind WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, ns.nspname, c.relname)
    FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p', 'f') AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)
  UNION ALL
  SELECT 4, 'sequence ' || ns.nspname || '.' || c.relname, format('DROP SEQUENCE IF EXISTS %I.%I CASCADE', ns.nspname, c.relname)
    FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
   WHERE c.relkind = 'S' AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)
  UNION ALL
  SELECT 5, CASE p.prokind WHEN 'a' THEN 'aggregate ' WHEN 'p' THEN 'procedure ' ELSE 'function ' END
              || ns.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
         format('DROP %s IF EXISTS %I.%I(%s) CASCADE', CASE p.prokind WHEN 'a' THEN 'AGGREGATE' ELSE 'ROUTINE' END,
                ns.nspname, p.proname, pg_get_function_identity_arguments(p.oid))
    FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
   WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_proc'::regclass AND ext.objid = p.oid)
  UNION ALL
  SELECT 6, 'cast (' || format_type(c.castsource, NULL) || ' AS ' || format_type(c.casttarget, NULL) || ')',
         format('DROP CAST IF EXISTS (%s AS %s) CASCADE', format_type(c.castsource, NULL), format_type(c.casttarget, NULL))
    FROM pg_cast c
   WHERE c.oid >= 16384 AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_cast'::regclass AND ext.objid = c.oid)
  UNION ALL
  -- Domains, enums, ranges, composite and base types; not the array and multirange types that come with them.
  SELECT 7, CASE t.typtype WHEN 'd' THEN 'domain ' ELSE 'type ' END || ns.nspname || '.' || t.typname,
         format('DROP %s IF EXISTS %I.%I CASCADE', CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, ns.nspname, t.typname)
    FROM pg_type t JOIN ns ON ns.oid = t.typnamespace
   WHERE t.typtype IN ('b', 'c', 'd', 'e', 'r')
     AND (t.typrelid = 0 OR (SELECT r.relkind FROM pg_class r WHERE r.oid = t.typrelid) = 'c')
     AND NOT EXISTS (SELECT 1 FROM pg_type a WHERE a.typarray = t.oid)
     AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_type'::regclass AND ext.objid = t.oid)
  UNION ALL
  SELECT 8, 'collation ' || ns.nspname || '.' || c.collname, format('DROP COLLATION IF EXISTS %I.%I CASCADE', ns.nspname, c.collname)
    FROM pg_collation c JOIN ns ON ns.oid = c.collnamespace
   WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_collation'::regclass AND ext.objid = c.oid)
  UNION ALL
  SELECT 8, 'conversion ' || ns.nspname || '.' || c.conname, format('DROP CONVERSION IF EXISTS %I.%I CASCADE', ns.nspname, c.conname)
    FROM pg_conversion c JOIN ns ON ns.oid = c.connamespace
   WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_conversion'::regclass AND ext.objid = c.oid)
  UNION ALL
  SELECT 8, 'text search configuration ' || ns.nspname || '.' || c.cfgname,
         format('DROP TEXT SEARCH CONFIGURATION IF EXISTS %I.%I CASCADE', ns.nspname, c.cfgname)
    FROM pg_ts_config c JOIN ns ON ns.oid = c.cfgnamespace
   WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_ts_config'::regclass AND ext.objid = c.oid)
  UNION ALL
  SELECT 9, 'text search dictionary ' || ns.nspname || '.' || d.dictname,
         format('DROP TEXT SEARCH DICTIONARY IF EXISTS %I.%I CASCADE', ns.nspname, d.dictname)
    FROM pg_ts_dict d JOIN ns ON ns.oid = d.dictnamespace
   WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_ts_dict'::regclass AND ext.objid = d.oid)
  UNION ALL
  SELECT 10, 'text search template ' || ns.nspname || '.' || t.tmplname,
         format('DROP TEXT SEARCH TEMPLATE IF EXISTS %I.%I CASCADE', ns.nspname, t.tmplname)
    FROM pg_ts_template t JOIN ns ON ns.oid = t.tmplnamespace
   WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_ts_template'::regclass AND ext.objid = t.oid)
  UNION ALL
  SELECT 10, 'text search parser ' || ns.nspname || '.' || p.prsname,
         format('DROP TEXT SEARCH PARSER IF EXISTS %I.%I CASCADE', ns.nspname, p.prsname)
    FROM pg_ts_parser p JOIN ns ON ns.oid = p.prsnamespace
   WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_ts_parser'::regclass AND ext.objid = p.oid)
  UNION ALL
  SELECT 8, 'operator family ' || ns.nspname || '.' || f.opfname || ' using ' || am.amname,
         format('DROP OPERATOR FAMILY IF EXISTS %I.%I USING %I CASCADE', ns.nspname, f.opfname, am.amname)
    FROM pg_opfamily f JOIN ns ON ns.oid = f.opfnamespace JOIN pg_am am ON am.oid = f.opfmethod
   WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_opfamily'::regclass AND ext.objid = f.oid)
  UNION ALL
  SELECT 9, 'operator ' || ns.nspname || '.' || o.oprname,
         format('DROP OPERATOR IF EXISTS %I.%s (%s, %s) CASCADE', ns.nspname, o.oprname,
                CASE o.oprleft WHEN 0 THEN 'NONE' ELSE format_type(o.oprleft, NULL) END,
                CASE o.oprright WHEN 0 THEN 'NONE' ELSE format_type(o.oprright, NULL) END)
    FROM pg_operator o JOIN ns ON ns.oid = o.oprnamespace
   WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_operator'::regclass AND ext.objid = o.oid)
  UNION ALL
  SELECT 11, 'server ' || s.srvname, format('DROP SERVER IF EXISTS %I CASCADE', s.srvname)
    FROM pg_foreign_server s
   WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_foreign_server'::regclass AND ext.objid = s.oid)
  UNION ALL
  SELECT 12, 'foreign-data wrapper ' || w.fdwname, format('DROP FOREIGN DATA WRAPPER IF EXISTS %I CASCADE', w.fdwname)
    FROM pg_foreign_data_wrapper w
   WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_foreign_data_wrapper'::regclass AND ext.objid = w.oid)
  UNION ALL
  -- Default privileges go back to the built-in ones; the archive's ALTER DEFAULT PRIVILEGES
  -- then grant what the backup had. (The entry disappears once it equals the default.)
  SELECT 14, 'default privileges of ' || pg_get_userbyid(d.defaclrole) || coalesce(' in schema ' || ns.nspname, '') || ' on ' || t.what,
         concat_ws('; ',
           (SELECT string_agg(format('ALTER DEFAULT PRIVILEGES FOR ROLE %I%s REVOKE ALL ON %s FROM %s',
                      pg_get_userbyid(d.defaclrole), CASE WHEN ns.nspname IS NOT NULL THEN format(' IN SCHEMA %I', ns.nspname) ELSE '' END, t.what,
                      CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END), '; ')
              FROM (SELECT DISTINCT grantee FROM aclexplode(d.defaclacl)) a),
           CASE WHEN d.defaclnamespace = 0 THEN format('ALTER DEFAULT PRIVILEGES FOR ROLE %I GRANT ALL ON %s TO %I',
                      pg_get_userbyid(d.defaclrole), t.what, pg_get_userbyid(d.defaclrole)) END,
           CASE WHEN d.defaclnamespace = 0 AND t.public_default IS NOT NULL
                THEN format('ALTER DEFAULT PRIVILEGES FOR ROLE %I GRANT %s ON %s TO PUBLIC', pg_get_userbyid(d.defaclrole), t.public_default, t.what) END)
    FROM pg_default_acl d
    JOIN (VALUES ('r', 'TABLES', NULL), ('S', 'SEQUENCES', NULL), ('f', 'FUNCTIONS', 'EXECUTE'), ('T', 'TYPES', 'USAGE'), ('n', 'SCHEMAS', NULL))
         AS t(objtype, what, public_default) ON t.objtype = d.defaclobjtype::text
    LEFT JOIN pg_namespace ns ON ns.oid = d.defaclnamespace
   WHERE d.defaclnamespace = 0 OR d.defaclnamespace IN (SELECT oid FROM pg_namespace WHERE nspname = ANY($1::text[]))
  UNION ALL
  SELECT 13, count(*) || ' large objects', 'SELECT count(pg_catalog.lo_unlink(oid)) FROM pg_catalog.pg_largeobject_metadata'
    FROM pg_largeobject_metadata HAVING count(*) > 0
) x ORDER BY ord, label`;

/**
 * The drops that empty `schemas` (and the database-wide objects a dump recreates: event
 * triggers when the user may drop them, publications, casts, servers, large objects).
 */
export async function readClearSteps(client: pg.ClientBase, schemas: string[]): Promise<ClearStep[]> {
  await client.query('BEGIN READ ONLY');
  try {
    await client.query('SET LOCAL search_path = pg_catalog');
    const { rows } = await client.query(CLEAR_SQL, [schemas]);
    return (rows as { label: string; sql: string }[]).map((r) => ({ label: r.label, sql: r.sql }));
  } finally {
    await client.query('COMMIT').catch(() => undefined);
  }
}

/**
 * Dropping with CASCADE would also reach into what the restore keeps: the side tables of an
 * earlier selective restore whose columns use a type the restore recreates would lose those
 * columns. Refused, before anything changes, naming each column.
 */
export async function refuseKeptDependents(client: pg.ClientBase, schemas: string[]): Promise<void> {
  const { rows } = await client.query(
    `SELECT n.nspname || '.' || c.relname || '.' || a.attname AS col, tn.nspname || '.' || t.typname AS type
       FROM pg_attribute a
       JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_type t ON t.oid = a.atttypid JOIN pg_namespace tn ON tn.oid = t.typnamespace
      WHERE a.attnum > 0 AND NOT a.attisdropped AND n.nspname ~ '^lifeboat_restore_' AND tn.nspname = ANY($1::text[])
      ORDER BY 1`,
    [schemas],
  );
  const found = rows as { col: string; type: string }[];
  if (!found.length) return;
  throw new LifeboatError(
    'restore',
    `A full restore recreates types that tables of an earlier selective restore use: ${found
      .slice(0, 5)
      .map((r) => `${r.col} (${r.type})`)
      .join(
        ', ',
      )}${found.length > 5 ? ', …' : ''}. Dropping them would take those columns. Nothing was changed.`,
    {
      hint: 'Finish reviewing the rows in the lifeboat_restore_* schema, then drop it (DROP SCHEMA … CASCADE) and run the restore again.',
    },
  );
}
