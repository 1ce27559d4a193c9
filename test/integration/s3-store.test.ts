import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LifeboatError, isLifeboatError } from '../../src/errors.js';
import { createS3Store, type S3Store } from '../../src/stores/s3.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';
import { expectNoSecrets } from '../helpers/lifeboat.js';

const MiB = 1024 * 1024;

/** Random bytes of `size`, produced lazily, with their SHA-256 known once fully read. */
function randomStream(size: number): { stream: Readable; digest: () => string } {
  const hash = createHash('sha256');
  let left = size;
  const stream = new Readable({
    read() {
      if (left === 0) return void this.push(null);
      const chunk = randomBytes(Math.min(MiB, left));
      left -= chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, digest: () => hash.digest('hex') };
}

async function sha256(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function text(store: S3Store, key: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.get(key)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function rejection(promise: Promise<unknown>): Promise<LifeboatError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof LifeboatError)) throw new Error(`expected a LifeboatError, got ${String(error)}`);
  return error;
}

async function pendingMultipartUploads(server: S3TestServer): Promise<string[]> {
  const client = new S3Client({
    region: 'us-east-1',
    endpoint: server.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
  });
  const answer = await client.send(new ListMultipartUploadsCommand({ Bucket: server.bucket }));
  client.destroy();
  return (answer.Uploads ?? []).map((u) => u.Key ?? '');
}

describe('S3Store against a real S3 server', () => {
  let server: S3TestServer;
  let store: S3Store;

  beforeAll(async () => {
    server = await startS3Server();
    store = createS3Store(`s3://${server.bucket}/team/prod`, server.env);
  });
  afterAll(async () => {
    await store.close();
    await server.stop();
  });
  afterEach(() => {
    for (const fault of Object.keys(server.faults)) delete server.faults[fault as keyof typeof server.faults];
  });

  it('describes itself by URL and endpoint host, never by credentials', () => {
    expect(store.kind).toBe('s3');
    expect(store.location).toBe(`s3://${server.bucket}/team/prod at ${new URL(server.endpoint).host}`);
    expect(store.location).not.toContain(server.secretAccessKey);
  });

  it('round-trips a 40 MB stream through a multipart upload, byte for byte', async () => {
    const source = randomStream(40 * MiB);
    const before = server.operations.length;
    await store.put('db/big.dump.zst.age', source.stream);
    const ops = server.operations.slice(before);
    expect(ops.filter((op) => op === 'UploadPart')).toHaveLength(3);
    expect(ops).toContain('CompleteMultipartUpload');
    expect(await sha256(await store.get('db/big.dump.zst.age'))).toBe(source.digest());
  });

  it('stores a small object with a single request', async () => {
    await store.put('db/one.manifest.json', Readable.from([Buffer.from('{"version":1}')]));
    expect(await text(store, 'db/one.manifest.json')).toBe('{"version":1}');
  });

  it('refuses to overwrite an existing key and leaves it intact', async () => {
    await store.put('db/keep.manifest.json', Readable.from([Buffer.from('first')]));
    const replacement = Readable.from([Buffer.from('second')]);
    const error = await rejection(store.put('db/keep.manifest.json', replacement));
    expect(error.code).toBe('store');
    expect(error.message).toContain('db/keep.manifest.json');
    expect(error.message).toContain('already exists');
    expect(replacement.destroyed).toBe(true);
    expect(await text(store, 'db/keep.manifest.json')).toBe('first');
  });

  it('overwrites when asked to', async () => {
    await store.put('db/replace.manifest.json', Readable.from([Buffer.from('first')]));
    await store.put('db/replace.manifest.json', Readable.from([Buffer.from('second')]), { overwrite: true });
    expect(await text(store, 'db/replace.manifest.json')).toBe('second');
  });

  it('reports a missing key as not-found', async () => {
    const error = await rejection(store.get('db/absent.dump.zst.age'));
    expect(error.code).toBe('not-found');
    expect(error.message).toContain('db/absent.dump.zst.age');
  });

  it('lists more than 1,000 keys across pages, relative to the store prefix', async () => {
    const keys = Array.from({ length: 1_234 }, (_, i) => `many/${String(i).padStart(5, '0')}.manifest.json`);
    await server.seed(keys.map((key) => `team/prod/${key}`));
    const before = server.operations.length;
    const listed = await store.list('many/');
    expect(listed.sort()).toEqual(keys);
    expect(server.operations.slice(before).filter((op) => op === 'ListObjects')).toHaveLength(2);
  });

  it('lists only the keys under the given prefix, and only inside its own store prefix', async () => {
    const sibling = createS3Store(`s3://${server.bucket}/team/prod-old`, server.env);
    await sibling.put('alpha/x.manifest.json', Readable.from([Buffer.from('other store')]));
    await store.put('alpha/1.manifest.json', Readable.from([Buffer.from('1')]));
    await store.put('alpha/2.dump.zst.age', Readable.from([Buffer.from('2')]));
    await store.put('alphabet/3.manifest.json', Readable.from([Buffer.from('3')]));
    expect((await store.list('alpha/')).sort()).toEqual(['alpha/1.manifest.json', 'alpha/2.dump.zst.age']);
    expect(await sibling.list('alpha/')).toEqual(['alpha/x.manifest.json']);
    expect(await store.list('nothing-here/')).toEqual([]);
    await sibling.close();
  });

  it('deletes a key, and deleting an absent key is not an error', async () => {
    await store.put('db/gone.manifest.json', Readable.from([Buffer.from('x')]));
    await store.delete('db/gone.manifest.json');
    expect((await rejection(store.get('db/gone.manifest.json'))).code).toBe('not-found');
    await expect(store.delete('db/gone.manifest.json')).resolves.toBeUndefined();
  });

  it.each([
    ['answers 500 to a part', { failAfterParts: 1 }],
    ['drops the connection during a part', { failAfterParts: 1, failWith: 'reset' as const }],
    ['refuses to complete the upload', { failOnComplete: true }],
  ])('leaves no object and no pending upload when the server %s', async (_, faults) => {
    Object.assign(server.faults, faults);
    const key = `db/failed-${randomBytes(4).toString('hex')}.dump.zst.age`;
    const source = randomStream(24 * MiB);
    const before = server.operations.length;
    const error = await rejection(store.put(key, source.stream));
    expect(server.operations.slice(before)).toContain('AbortMultipartUpload');
    expect(error.code).toBe('store');
    expect(error.message).toContain(key);
    expect(error.message).toMatch(/InternalError|ECONNRESET|socket hang up|EPIPE/);
    expect(error.hint).toBeTruthy();
    expect(source.stream.destroyed).toBe(true);
    server.faults = {};
    expect((await rejection(store.get(key))).code).toBe('not-found');
    expect(await pendingMultipartUploads(server)).toEqual([]);
  });

  it('passes on the error of a source stream that fails midway, aborting the upload', async () => {
    const failing = new Readable({
      read() {
        this.push(randomBytes(MiB));
      },
    });
    let sent = 0;
    failing.on('data', () => {
      if ((sent += 1) === 20) failing.destroy(new LifeboatError('dump', 'pg_dump was killed'));
    });
    const error = await rejection(store.put('db/source-failed.dump.zst.age', failing));
    expect(isLifeboatError(error, 'dump')).toBe(true);
    expect((await rejection(store.get('db/source-failed.dump.zst.age'))).code).toBe('not-found');
    expect(await pendingMultipartUploads(server)).toEqual([]);
  });

  it('lets the service refuse the write when the key appears during the upload', async () => {
    const guarded = createS3Store(`s3://${server.bucket}/team/prod`, server.env, { conditionalWrites: true });
    const key = 'db/race.dump.zst.age';
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let reachedGate = (): void => undefined;
    const atGate = new Promise<void>((resolve) => (reachedGate = resolve));
    let sent = 0;
    const slow = new Readable({
      read() {
        if (sent < 20) {
          sent += 1;
          return void this.push(randomBytes(MiB));
        }
        reachedGate();
        void gate.then(() => this.push(null));
      },
    });
    const racing = guarded.put(key, slow);
    // The existence check has passed once the upload reads its source; now another writer wins.
    await atGate;
    await store.put(key, Readable.from([Buffer.from('the other writer')]), { overwrite: true });
    release();
    const error = await rejection(racing);
    expect(error.message).toContain('already exists');
    expect(await text(store, key)).toBe('the other writer');
    expect(await pendingMultipartUploads(server)).toEqual([]);
    await guarded.close();
  });

  it('has a test server that really tracks unfinished multipart uploads', async () => {
    const client = new S3Client({
      region: 'us-east-1',
      endpoint: server.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    });
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: server.bucket, Key: 'helper/pending' }),
    );
    expect(await pendingMultipartUploads(server)).toEqual(['helper/pending']);
    await client.send(
      new AbortMultipartUploadCommand({ Bucket: server.bucket, Key: 'helper/pending', UploadId }),
    );
    expect(await pendingMultipartUploads(server)).toEqual([]);
    client.destroy();
  });

  it('believes a server that claims success without storing; only a read-back can tell', async () => {
    server.faults.lieOnComplete = true;
    await store.put('db/lost-small.manifest.json', Readable.from([Buffer.from('x')]));
    await store.put('db/lost-big.dump.zst.age', randomStream(20 * MiB).stream);
    server.faults.lieOnComplete = false;
    expect((await rejection(store.get('db/lost-small.manifest.json'))).code).toBe('not-found');
    expect((await rejection(store.get('db/lost-big.dump.zst.age'))).code).toBe('not-found');
  });
});

describe('S3Store failures that are the user’s to fix', () => {
  let server: S3TestServer;

  beforeAll(async () => {
    server = await startS3Server();
  });
  afterAll(async () => {
    await server.stop();
  });

  it.each([
    ['an unknown access key id', { AWS_ACCESS_KEY_ID: 'AKIAWRONGKEY' }, 'InvalidAccessKeyId'],
    [
      'a wrong secret key',
      { AWS_SECRET_ACCESS_KEY: 'wrong-secret-that-must-not-leak' },
      'SignatureDoesNotMatch',
    ],
  ])('explains %s without printing the secret', async (_, override, code) => {
    const env: NodeJS.ProcessEnv = { ...server.env, ...override };
    const store = createS3Store(`s3://${server.bucket}/prod`, env);
    const error = await rejection(store.put('db/x.manifest.json', Readable.from([Buffer.from('x')])));
    expect(error.code).toBe('store');
    expect(error.message).toContain(code);
    expect(error.hint).toContain('AWS_SECRET_ACCESS_KEY');
    expectNoSecrets([error.message, error.hint ?? ''], [env.AWS_SECRET_ACCESS_KEY!, server.secretAccessKey]);
    await store.close();
  });

  it('names AWS_ENDPOINT_URL_S3 when nothing answers at the endpoint', async () => {
    const store = createS3Store('s3://backups/prod', {
      ...server.env,
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9',
    });
    const error = await rejection(store.list('db/'));
    expect(error.code).toBe('store');
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.hint).toContain('AWS_ENDPOINT_URL_S3');
    await store.close();
  });

  it('keeps two stores on two servers apart, each with its own environment', async () => {
    const other = await startS3Server();
    const a = createS3Store(`s3://${server.bucket}/iso`, server.env);
    const b = createS3Store(`s3://${other.bucket}/iso`, other.env);
    await a.put('db/only-a.manifest.json', Readable.from([Buffer.from('a')]));
    expect(await a.list('db/')).toEqual(['db/only-a.manifest.json']);
    expect(await b.list('db/')).toEqual([]);
    await Promise.all([a.close(), b.close()]);
    await other.stop();
  });
});
