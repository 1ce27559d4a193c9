// Moved to scripts/s3/ so the benchmarks share the S3 peer without importing tests.
export * from '../../scripts/s3/s3-server.js';
