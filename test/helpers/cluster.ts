// Moved to scripts/postgres/ so the benchmarks and the demo share it without importing tests.
export * from '../../scripts/postgres/cluster.js';
