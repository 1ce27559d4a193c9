/**
 * The Storage step of `npm run bench`: many small objects (10 KB, like avatars) in a bucket
 * of the local S3 server, archived the way a backup archives them (listing, fetches with
 * bounded concurrency, tar → zstd → age → store) and read back. Target: 200 objects/s.
 *
 *   npx tsx bench/storage.ts --objects 2000    this step alone
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { generateIdentity } from '../src/archive/age/index.js';
import { MemoryLog } from '../src/log.js';
import { pool } from '../src/pool.js';
import { StorageClient } from '../src/storage/storage-client.js';
import { readStorageArchive } from '../src/storage/tar-read.js';
import { writeStorageArchive } from '../src/storage/tar-write.js';
import { LocalStore } from '../src/stores/local.js';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export interface StorageBench {
  objects: number;
  objectBytes: number;
  /** Listing and archiving into the store, end to end. */
  backupSeconds: number;
  objectsPerSecond: number;
  archiveBytes: number;
  readBackSeconds: number;
  targetObjectsPerSecond: number;
  /** Peak resident memory of this process while archiving, and before it started. */
  peakRssBytes: number;
  startRssBytes: number;
  /** CPU seconds this process spent archiving (the server runs in its own): objects per CPU second is the rate on an idle core. */
  cpuSeconds: number;
}

export async function measureStorage(options: {
  objects: number;
  objectBytes?: number;
  log: (line: string) => void;
}): Promise<StorageBench> {
  const objectBytes = options.objectBytes ?? 10 * 1024;
  const s3 = await startServer(['avatars']);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lifeboat-bench-storage-'));
  const credentials = { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey };
  const endpoint = new URL(s3.endpoint);
  const seed = new S3Client({
    region: 'us-east-1',
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials,
  });
  try {
    options.log(`Storage: uploading ${options.objects} objects of ${objectBytes} bytes…`);
    await pool(
      32,
      Array.from(
        { length: options.objects },
        (_, i) => () =>
          seed
            .send(
              new PutObjectCommand({
                Bucket: 'avatars',
                Key: `user-${i % 97}/avatar-${i}.png`,
                Body: randomBytes(objectBytes),
                ContentType: 'image/png',
              }),
            )
            .then(() => undefined),
      ),
    );
    const { identity, recipient } = generateIdentity();
    const client = new StorageClient({ endpoint, region: 'us-east-1', buckets: [] }, credentials);
    const store = new LocalStore(dir);
    const log = new MemoryLog();
    const startRssBytes = process.memoryUsage.rss();
    let peakRssBytes = startRssBytes;
    const sampler = setInterval(() => (peakRssBytes = Math.max(peakRssBytes, process.memoryUsage.rss())), 50);
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const listed = await client.listObjects('avatars');
    const written = await writeStorageArchive({
      client,
      objects: listed,
      store,
      key: 'bench/storage.tar.zst.age',
      keys: { recipients: [recipient] },
      log,
    });
    const backupSeconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    const cpu = process.cpuUsage(cpuBefore);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const readStarted = performance.now();
    await readStorageArchive({
      store,
      key: 'bench/storage.tar.zst.age',
      ...written,
      keys: { identities: [identity] },
      log,
    });
    const readBackSeconds = (performance.now() - readStarted) / 1000;
    client.close();
    const result = {
      objects: written.objects.length,
      objectBytes,
      backupSeconds,
      objectsPerSecond: written.objects.length / backupSeconds,
      archiveBytes: written.sizeBytes,
      readBackSeconds,
      targetObjectsPerSecond: 200,
      peakRssBytes,
      startRssBytes,
      cpuSeconds,
    };
    options.log(
      `Storage: ${result.objects} objects archived in ${backupSeconds.toFixed(2)} s (${result.objectsPerSecond.toFixed(0)} objects/s, target ≥ 200; ${cpuSeconds.toFixed(2)} CPU s here, ${(result.objects / cpuSeconds).toFixed(0)} objects per CPU second); read back in ${readBackSeconds.toFixed(2)} s; RSS ${(startRssBytes / 2 ** 20).toFixed(0)} MiB before, ${(peakRssBytes / 2 ** 20).toFixed(0)} MiB at most.`,
    );
    return result;
  } finally {
    seed.destroy();
    await s3.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The S3 peer in a child process (scripts/s3/serve.ts), so it does not share this thread. */
async function startServer(buckets: string[]) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'scripts/s3/serve.ts'), ...buckets],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  const server = JSON.parse(line) as { endpoint: string; accessKeyId: string; secretAccessKey: string };
  return {
    ...server,
    stop: async () => {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { objects: { type: 'string', default: '2000' } } });
  const result = await measureStorage({
    objects: Number(values.objects),
    log: (l) => process.stderr.write(`${l}\n`),
  });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
