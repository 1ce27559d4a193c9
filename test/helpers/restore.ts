import pg from 'pg';
import { inspectDatabase } from '../../src/postgres/inspect.js';

/**
 * A database's catalog with a content fingerprint of every table, minus when it was taken:
 * what "unchanged" and "restored exactly" mean in the restore tests.
 */
export async function databaseState(url: string): Promise<unknown> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { takenAt: _, ...rest } = await inspectDatabase(client, { fingerprints: true });
    return rest;
  } finally {
    await client.end();
  }
}

/** What `confirm` must be for a database of a test cluster: `host:port/database`. */
export function confirmFor(cluster: { host: string; port: number }, database: string): string {
  return `${cluster.host}:${cluster.port}/${database}`;
}
