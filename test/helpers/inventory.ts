import pg from 'pg';

/**
 * What the catalog snapshot does not record, read from the catalogs by identity (never by
 * oid, which a restore changes): types and their parts, columns with defaults, identities
 * and collations, partition bounds and keys, inheritance, owners and every ACL, default
 * privileges, comments, rules, event triggers, publications, casts, operators, text search
 * mappings, statistics objects, foreign servers and user mappings, large objects with a
 * hash of their bytes. With the catalog snapshot it is what "the target is exactly as the
 * backup recorded" means in the restore matrix, on any server version.
 */
const USER_NS = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp)'`;
const NOT_EXT = (catalog: string, oid: string) =>
  `NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '${catalog}'::regclass AND d.objid = ${oid} AND d.deptype = 'e')`;

const INVENTORY_SQL = `
SELECT kind, identity, detail FROM (
  SELECT 'type' AS kind, format_type(t.oid, NULL) AS identity,
         concat_ws(' | ', t.typtype, pg_get_userbyid(t.typowner), t.typacl::text,
           (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid),
           CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) || ' notnull=' || t.typnotnull || ' default=' || coalesce(t.typdefault, '') END,
           (SELECT string_agg(c.conname || ':' || pg_get_constraintdef(c.oid), ',' ORDER BY c.conname) FROM pg_constraint c WHERE c.contypid = t.oid),
           (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || coalesce(' collate ' || co.collname, ''), ',' ORDER BY a.attnum)
              FROM pg_attribute a LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 100
             WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'),
           (SELECT format_type(r.rngsubtype, NULL) FROM pg_range r WHERE r.rngtypid = t.oid)) AS detail
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
   WHERE ${USER_NS} AND t.typtype IN ('b', 'c', 'd', 'e', 'r') AND ${NOT_EXT('pg_type', 't.oid')}
     AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
     AND NOT EXISTS (SELECT 1 FROM pg_type a WHERE a.typarray = t.oid)
  UNION ALL
  SELECT 'collation', n.nspname || '.' || c.collname, concat_ws(' ', c.collprovider, c.collcollate)
    FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace WHERE ${USER_NS} AND ${NOT_EXT('pg_collation', 'c.oid')}
  UNION ALL
  SELECT 'relation', n.nspname || '.' || c.relname,
         concat_ws(' | ', c.relkind, pg_get_userbyid(c.relowner), c.relacl::text, c.relispartition::text,
           pg_get_expr(c.relpartbound, c.oid), CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,
           (SELECT string_agg(pn.nspname || '.' || p.relname || '#' || i.inhseqno, ',' ORDER BY i.inhseqno)
              FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace WHERE i.inhrelid = c.oid),
           c.reloptions::text, c.relpersistence::text, obj_description(c.oid, 'pg_class'),
           (SELECT string_agg(srvname, ',') FROM pg_foreign_table ft JOIN pg_foreign_server s ON s.oid = ft.ftserver WHERE ft.ftrelid = c.oid))
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE ${USER_NS} AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c') AND ${NOT_EXT('pg_class', 'c.oid')}
  UNION ALL
  SELECT 'column', n.nspname || '.' || c.relname || '.' || a.attname,
         concat_ws(' | ', (SELECT count(*) FROM pg_attribute b WHERE b.attrelid = a.attrelid AND b.attnum > 0 AND NOT b.attisdropped AND b.attnum <= a.attnum),
           format_type(a.atttypid, a.atttypmod), a.attnotnull::text, a.attidentity, a.attgenerated, a.attislocal::text, a.attinhcount::text,
           pg_get_expr(ad.adbin, ad.adrelid), co.collname, a.attacl::text, col_description(c.oid, a.attnum))
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
    LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 100
   WHERE ${USER_NS} AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 AND NOT a.attisdropped AND ${NOT_EXT('pg_class', 'c.oid')}
  UNION ALL
  SELECT 'routine', n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
         concat_ws(' | ', pg_get_userbyid(p.proowner), p.proacl::text, md5(coalesce(pg_get_functiondef(p.oid), p.prosrc)))
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE ${USER_NS} AND p.prokind <> 'a' AND ${NOT_EXT('pg_proc', 'p.oid')}
  UNION ALL
  SELECT 'aggregate', n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', pg_get_userbyid(p.proowner)
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ${USER_NS} AND p.prokind = 'a' AND ${NOT_EXT('pg_proc', 'p.oid')}
  UNION ALL
  SELECT 'schema', n.nspname, concat_ws(' | ', pg_get_userbyid(n.nspowner), n.nspacl::text, obj_description(n.oid, 'pg_namespace'))
    FROM pg_namespace n WHERE ${USER_NS} AND ${NOT_EXT('pg_namespace', 'n.oid')}
  UNION ALL
  SELECT 'default acl', pg_get_userbyid(d.defaclrole) || ' ' || coalesce(n.nspname, '*') || ' ' || d.defaclobjtype::text, d.defaclacl::text
    FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
  UNION ALL
  SELECT 'rule', n.nspname || '.' || c.relname || '.' || r.rulename, pg_get_ruledef(r.oid)
    FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE ${USER_NS} AND r.rulename <> '_RETURN'
  UNION ALL
  SELECT 'event trigger', e.evtname, concat_ws(' | ', e.evtevent, e.evtfoid::regproc::text, e.evtenabled, e.evttags::text)
    FROM pg_event_trigger e WHERE ${NOT_EXT('pg_event_trigger', 'e.oid')}
  UNION ALL
  SELECT 'publication', p.pubname,
         concat_ws(' | ', p.puballtables::text, p.pubinsert::text, p.pubupdate::text, p.pubdelete::text, p.pubtruncate::text,
           (SELECT string_agg(schemaname || '.' || tablename, ',' ORDER BY 1) FROM pg_publication_tables t WHERE t.pubname = p.pubname))
    FROM pg_publication p
  UNION ALL
  SELECT 'cast', format_type(c.castsource, NULL) || ' AS ' || format_type(c.casttarget, NULL), concat_ws(' | ', c.castfunc::regproc::text, c.castcontext, c.castmethod)
    FROM pg_cast c WHERE c.oid >= 16384 AND ${NOT_EXT('pg_cast', 'c.oid')}
  UNION ALL
  SELECT 'operator', n.nspname || '.' || o.oprname || '(' || format_type(o.oprleft, NULL) || ',' || format_type(o.oprright, NULL) || ')',
         concat_ws(' | ', o.oprcode::text, o.oprcom::regoperator::text)
    FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace WHERE ${USER_NS} AND ${NOT_EXT('pg_operator', 'o.oid')}
  UNION ALL
  SELECT 'text search configuration', n.nspname || '.' || c.cfgname,
         (SELECT string_agg(m.maptokentype || ':' || m.mapdict::regdictionary::text, ',' ORDER BY m.maptokentype, m.mapseqno) FROM pg_ts_config_map m WHERE m.mapcfg = c.oid)
    FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace WHERE ${USER_NS}
  UNION ALL
  SELECT 'text search dictionary', n.nspname || '.' || d.dictname, coalesce(d.dictinitoption, '')
    FROM pg_ts_dict d JOIN pg_namespace n ON n.oid = d.dictnamespace WHERE ${USER_NS}
  UNION ALL
  SELECT 'statistics', n.nspname || '.' || s.stxname, pg_get_statisticsobjdef(s.oid)
    FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace WHERE ${USER_NS}
  UNION ALL
  SELECT 'foreign-data wrapper', w.fdwname, concat_ws(' | ', pg_get_userbyid(w.fdwowner), w.fdwoptions::text)
    FROM pg_foreign_data_wrapper w WHERE ${NOT_EXT('pg_foreign_data_wrapper', 'w.oid')}
  UNION ALL
  SELECT 'server', s.srvname, concat_ws(' | ', pg_get_userbyid(s.srvowner), s.srvoptions::text) FROM pg_foreign_server s
  UNION ALL
  SELECT 'user mapping', srvname || ' ' || usename, umoptions::text FROM pg_user_mappings
  UNION ALL
  SELECT 'large object', m.oid::text, concat_ws(' | ', pg_get_userbyid(m.lomowner), m.lomacl::text, md5(lo_get(m.oid)))
    FROM pg_largeobject_metadata m
  UNION ALL
  SELECT 'comment', pg_describe_object(d.classoid, d.objoid, d.objsubid), d.description
    FROM pg_description d WHERE d.objoid >= 16384
) x ORDER BY kind, identity, detail`;

export interface InventoryRow {
  kind: string;
  identity: string;
  detail: string | null;
}

export async function inventory(url: string): Promise<InventoryRow[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('SET search_path = pg_catalog');
    return (await client.query(INVENTORY_SQL)).rows as InventoryRow[];
  } finally {
    await client.end();
  }
}
