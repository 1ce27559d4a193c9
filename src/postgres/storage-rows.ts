import type pg from 'pg';

/** One row of Supabase's storage.objects: which bucket, which key. */
export interface StorageRow {
  bucket: string;
  key: string;
}

/**
 * The (bucket_id, name) of every storage.objects row, or null when the database has no
 * such table (not a Supabase database). Read by the backup on the client that holds the
 * snapshot pg_dump was given, inside that transaction, so the rows are exactly the ones the
 * dump carries; by the drill in the restored database.
 */
export async function readStorageRows(client: pg.ClientBase): Promise<StorageRow[] | null> {
  const { rows: found } = await client.query<{ present: boolean }>(
    `SELECT to_regclass('storage.objects') IS NOT NULL AS present`,
  );
  if (!found[0]?.present) return null;
  const { rows } = await client.query<{ bucket: string; key: string }>(
    'SELECT bucket_id AS bucket, name AS key FROM storage.objects WHERE bucket_id IS NOT NULL AND name IS NOT NULL',
  );
  return rows;
}
