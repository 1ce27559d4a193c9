/**
 * Supabase Storage for tests: the S3 test server with a few buckets as the Storage
 * endpoint, and a source database with the Supabase-shaped `storage` schema
 * (test/fixtures/storage.sql) whose storage.objects rows the tests keep beside the files.
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { startS3Server, type S3TestServer } from './s3-server.js';
import { backupFixture, startWorld, type BackupFixture, type World } from './world.js';

export const BUCKETS = ['avatars', 'documents', 'empty'];

export interface StorageWorld {
  world: World;
  s3: S3TestServer;
  fx: BackupFixture;
  /** The variables a run needs to reach the Storage endpoint. */
  env: NodeJS.ProcessEnv;
  /** Inputs naming the endpoint (and, given, the buckets). */
  inputs(buckets?: string[]): Record<string, string>;
  /** The backup inputs for the app database into the local store, Storage included. */
  backupInputs(buckets?: string[]): Record<string, string>;
  /** Uploads a file and records its storage.objects row, as Supabase does. */
  upload(
    bucket: string,
    key: string,
    body: string | Buffer,
    options?: { contentType?: string; metadata?: Record<string, string>; row?: boolean },
  ): Promise<void>;
  /** Removes a file; its storage.objects row too when `row` is true. */
  remove(bucket: string, key: string, options?: { row?: boolean }): Promise<void>;
  /** key → SHA-256 of every object of a bucket. */
  hashes(bucket: string): Promise<Record<string, string>>;
  /** One object's body, content type and metadata. */
  read(
    bucket: string,
    key: string,
  ): Promise<{ body: Buffer; contentType?: string; metadata: Record<string, string> }>;
  close(): Promise<void>;
}

export const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

export async function startStorageWorld(options: { targets?: number } = {}): Promise<StorageWorld> {
  const [world, s3, fx] = await Promise.all([
    startWorld({ fixtures: ['storage'], targets: options.targets }),
    startS3Server({}, { buckets: BUCKETS }),
    backupFixture(),
  ]);
  world.extraSecrets.push({ label: 'the Storage secret key', value: s3.secretAccessKey });
  const client = new S3Client({
    region: 'us-east-1',
    endpoint: s3.endpoint,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  await world.cluster.exec(
    `INSERT INTO storage.buckets (id, name) VALUES ${BUCKETS.map((b) => `('${b}', '${b}')`).join(', ')}`,
    'app',
  );
  const env = {
    ...process.env,
    LIFEBOAT_STORAGE_ACCESS_KEY_ID: s3.accessKeyId,
    LIFEBOAT_STORAGE_SECRET_ACCESS_KEY: s3.secretAccessKey,
  };
  const inputs = (buckets?: string[]) => ({
    'storage-url': s3.endpoint,
    ...(buckets ? { 'storage-buckets': buckets.join(',') } : {}),
  });
  return {
    world,
    s3,
    fx,
    env,
    inputs,
    backupInputs: (buckets) => ({
      mode: 'backup',
      'database-url': world.appUrl,
      store: fx.dir,
      'encryption-recipient': fx.recipient,
      'encryption-identity': fx.identity,
      ...inputs(buckets),
    }),
    async upload(bucket, key, body, o = {}) {
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentType: o.contentType,
          Metadata: o.metadata,
        }),
      );
      if (o.row !== false)
        await world.cluster.query(
          `INSERT INTO storage.objects (bucket_id, name, metadata) VALUES ($1, $2, $3)
           ON CONFLICT (bucket_id, name) DO UPDATE SET updated_at = now()`,
          [bucket, key, JSON.stringify({ size: Buffer.byteLength(body), mimetype: o.contentType ?? null })],
          'app',
        );
    },
    async remove(bucket, key, o = {}) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      if (o.row)
        await world.cluster.query(
          'DELETE FROM storage.objects WHERE bucket_id = $1 AND name = $2',
          [bucket, key],
          'app',
        );
    },
    async hashes(bucket) {
      const out: Record<string, string> = {};
      for await (const page of paginateListObjectsV2({ client }, { Bucket: bucket })) {
        for (const o of page.Contents ?? []) {
          const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }));
          out[o.Key!] = sha256(Buffer.from(await got.Body!.transformToByteArray()));
        }
      }
      return out;
    },
    async read(bucket, key) {
      const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return {
        body: Buffer.from(await got.Body!.transformToByteArray()),
        contentType: got.ContentType,
        metadata: got.Metadata ?? {},
      };
    },
    async close() {
      client.destroy();
      await Promise.all([world.close(), s3.stop(), fx.cleanup()]);
    },
  };
}

/** The warnings a run logged, one text. */
export function warningsOf(run: { log: { lines: { level: string; message: string }[] } }): string[] {
  return run.log.lines.filter((l) => l.level === 'warning').map((l) => l.message);
}
