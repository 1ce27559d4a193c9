import type { CatalogSnapshot } from '../../src/postgres/catalog.js';

/** A small Supabase-shaped snapshot, as a backup of the fixture records it. */
export function snapshot(): CatalogSnapshot {
  return {
    takenAt: '2026-01-05T00:00:00.000Z',
    database: 'app',
    serverVersion: '15.18',
    serverMajor: 15,
    tables: [
      {
        schema: 'auth',
        name: 'users',
        kind: 'r',
        rows: 200,
        rlsEnabled: false,
        rlsForced: false,
        owner: 'postgres',
      },
      {
        schema: 'public',
        name: 'clips',
        kind: 'r',
        rows: 1600,
        rlsEnabled: true,
        rlsForced: false,
        owner: 'postgres',
      },
      {
        schema: 'public',
        name: 'subscriptions',
        kind: 'r',
        rows: 60,
        rlsEnabled: true,
        rlsForced: true,
        owner: 'postgres',
      },
    ],
    policies: [
      {
        schema: 'public',
        table: 'clips',
        name: 'members read clips',
        command: 'r',
        permissive: true,
        roles: ['authenticated'],
        using: 'is_workspace_member(workspace_id)',
        check: null,
      },
    ],
    functions: [
      {
        schema: 'auth',
        name: 'uid',
        args: '',
        kind: 'f',
        language: 'sql',
        bodyHash: 'aaa',
        securityDefiner: false,
      },
    ],
    extensions: [
      { name: 'plpgsql', version: '1.0', schema: 'pg_catalog' },
      { name: 'pgcrypto', version: '1.3', schema: 'extensions' },
    ],
    databaseSettings: [{ role: '', setting: 'search_path=public, extensions' }],
    constraints: [
      {
        schema: 'public',
        table: 'clips',
        name: 'clips_project_id_fkey',
        type: 'f',
        definition: 'FOREIGN KEY (project_id) REFERENCES projects(id) ON DELETE CASCADE',
        validated: true,
      },
    ],
    indexes: [
      {
        schema: 'public',
        table: 'clips',
        name: 'clips_pkey',
        definition: 'CREATE UNIQUE INDEX clips_pkey ON public.clips USING btree (id)',
      },
    ],
    triggers: [
      {
        schema: 'public',
        table: 'clips',
        name: 'clips_updated_at',
        enabled: 'O',
        definition:
          'CREATE TRIGGER clips_updated_at BEFORE UPDATE ON public.clips FOR EACH ROW EXECUTE FUNCTION set_updated_at()',
      },
    ],
    views: [
      {
        schema: 'public',
        name: 'job_stats',
        kind: 'm',
        definition: ' SELECT jobs.kind\n   FROM jobs;',
        populated: true,
      },
    ],
    sequences: [
      { schema: 'public', name: 'job_events_id_seq', lastValue: '2400', isCalled: true, ownedBy: null },
    ],
    roles: ['anon', 'authenticated', 'postgres', 'service_role'],
    schemas: ['auth', 'extensions', 'public', 'supabase_migrations'],
    largeObjects: 0,
    migration: { table: 'supabase_migrations.schema_migrations', latestVersion: '20240320120000', count: 3 },
  };
}

export function restored(change: (s: CatalogSnapshot) => void = () => undefined): CatalogSnapshot {
  const s = snapshot();
  change(s);
  return s;
}
