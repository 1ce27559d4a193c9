/**
 * The S3 test peer in a process of its own, for benchmarks: a server sharing the client's
 * one JavaScript thread would measure the two together. Prints one JSON line (endpoint and
 * credentials) once it listens; stops on SIGTERM.
 *
 *   tsx scripts/s3/serve.ts bucket-a bucket-b
 */
import { startS3Server } from './s3-server.js';

const server = await startS3Server({}, { buckets: process.argv.slice(2) });
process.stdout.write(
  `${JSON.stringify({ endpoint: server.endpoint, accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey })}\n`,
);
process.once('SIGTERM', () => {
  void server.stop().then(() => process.exit(0));
});
