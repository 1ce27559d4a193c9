// Moved to scripts/postgres/ so the benchmarks and the demo share it without importing tests.
export * from '../../scripts/postgres/cluster.js';

/** What `confirm` must be for a database of a test cluster: `host:port/database`. */
export function confirmFor(cluster: { host: string; port: number }, database: string): string {
  return `${cluster.host}:${cluster.port}/${database}`;
}
