import type { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  S3Client,
  paginateListObjectsV2,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { LifeboatError, isLifeboatError } from '../errors.js';
import { onInterrupt } from '../interrupt.js';
import type { BackupStore, IncompleteAware, IncompleteWrite, LockAware, ObjectLock } from './store.js';
import type { StoredObject } from './store.js';
import { checkObjectLock, lockParams, retainedUntil } from './s3-lock.js';
import { abortUpload, listPendingUploads } from './s3-uploads.js';
import { getObjectFrom, resumableDownload } from './s3-download.js';
import { isMissing, s3Hint, s3ServerSays, statusOf, type ServiceError } from './s3-errors.js';
import { describeS3Location, resolveS3Settings, s3Secrets, type S3Settings } from './s3-url.js';

export { parseS3Url, s3Secrets } from './s3-url.js';

export interface S3StoreOptions {
  /**
   * Memory held by an upload is about partSize * (queueSize + 1). With 16 MiB parts an object
   * may reach 10,000 parts = 156 GiB, S3's part-count limit.
   */
  partSize?: number;
  queueSize?: number;
  /**
   * Send If-None-Match: * so the service itself refuses to overwrite. AWS S3 honours it; many
   * S3-compatible services reject or ignore it, so by default it is sent only to AWS.
   */
  conditionalWrites?: boolean;
  /** Told when a download resumes after a dropped connection (see s3-download.ts). */
  onResume?: (message: string) => void;
}

export class S3Store implements BackupStore, IncompleteAware, LockAware {
  readonly kind = 's3' as const;
  readonly location: string;
  private readonly client: S3Client;
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly conditionalWrites: boolean;
  private objectLock: ObjectLock | undefined;

  constructor(
    private readonly settings: S3Settings,
    private readonly secrets: string[] = [],
    private readonly options: S3StoreOptions = {},
  ) {
    this.location = describeS3Location(settings);
    this.partSize = options.partSize ?? 16 * 1024 * 1024;
    this.queueSize = options.queueSize ?? 3;
    this.conditionalWrites = options.conditionalWrites ?? settings.endpoint === undefined;
    const config: S3ClientConfig = {
      region: settings.region,
      credentials: settings.credentials,
      // Without these a dead host hangs each request for minutes; an idle socket mid-part too.
      requestHandler: { connectionTimeout: 10_000, socketTimeout: 120_000 },
    };
    if (settings.endpoint) {
      // S3-compatible services rarely serve virtual-host buckets, and many mishandle the
      // aws-chunked bodies the SDK sends for its default flexible checksums.
      config.endpoint = settings.endpoint.href;
      config.forcePathStyle = true;
      config.requestChecksumCalculation = 'WHEN_REQUIRED';
      config.responseChecksumValidation = 'WHEN_REQUIRED';
    }
    this.client = new S3Client(config);
  }

  async put(key: string, body: Readable, options: { overwrite?: boolean } = {}): Promise<void> {
    const fullKey = this.fullKey(key);
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.settings.bucket,
        Key: fullKey,
        Body: body,
        ContentType: 'application/octet-stream',
        // A record that may be replaced (a pin, a drill record) is never locked: unpinning must work.
        ...(options.overwrite ? {} : lockParams(this.objectLock)),
        ...(this.conditionalWrites && !options.overwrite ? { IfNoneMatch: '*' } : {}),
      },
      partSize: this.partSize,
      queueSize: this.queueSize,
      leavePartsOnError: false,
    });
    const finished = this.runUpload(upload, key, fullKey, body, options);
    // A cancelled job would leave the uploaded parts behind, invisible and billed, until a
    // lifecycle rule ends them: stop the upload, and its failure path aborts it. A part
    // already on the wire can still land after that abort (S3 documents this), so abort
    // once more when those requests have had a moment to end.
    const release = onInterrupt(async () => {
      await upload.abort();
      await finished.catch(() => undefined);
      await delay(250);
      await this.abandon(fullKey, upload.uploadId);
    });
    try {
      await finished;
    } finally {
      release();
    }
  }

  private async runUpload(
    upload: Upload,
    key: string,
    fullKey: string,
    body: Readable,
    options: { overwrite?: boolean },
  ): Promise<void> {
    let sourceError: unknown;
    body.on('error', (error) => (sourceError = error));
    try {
      if (!options.overwrite && typeof (await this.headObject(key)) === 'object')
        throw this.alreadyExists(key);
      await upload.done();
    } catch (error) {
      // Unconsumed, the producer upstream would wait forever on back-pressure.
      body.destroy();
      await this.abandon(fullKey, upload.uploadId);
      if (isLifeboatError(error)) throw error;
      if (sourceError !== undefined) throw sourceError;
      // If-None-Match lost the race to another writer: the object appeared during the upload.
      const name = (error as ServiceError | undefined)?.name;
      if (statusOf(error) === 412 || name === 'ConditionalRequestConflict') throw this.alreadyExists(key);
      throw this.failure('store', key, error);
    }
  }

  async get(key: string): Promise<Readable> {
    const open = (from: number, etag?: string) =>
      getObjectFrom(this.client, this.settings.bucket, this.fullKey(key), from, etag).catch(
        (error: unknown) => {
          if (!isMissing(error)) throw this.failure('read', key, error);
          throw new LifeboatError('not-found', `No object "${key}" in ${this.location}`, {
            hint: 'Check the store input and the backup name; list the bucket to see which backups exist',
          });
        },
      );
    return resumableDownload(
      await open(0),
      async (from, etag) => (await open(from, etag)).body,
      // A connection lost mid-download for good surfaces as a store error naming the key.
      (error) => (isLifeboatError(error) ? error : this.failure('read', key, error)),
      (from, error) =>
        this.options.onResume?.(
          `Reading ${key} from ${this.location}: the connection dropped after ${from} bytes (${s3ServerSays(error, this.secrets)}); resuming there.`,
        ),
    );
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    const root = this.settings.prefix ? `${this.settings.prefix}/` : '';
    try {
      const pages = paginateListObjectsV2(
        { client: this.client },
        { Bucket: this.settings.bucket, Prefix: root + prefix },
      );
      for await (const page of pages) {
        for (const object of page.Contents ?? []) {
          if (object.Key?.startsWith(root)) keys.push(object.Key.slice(root.length));
        }
      }
    } catch (error) {
      throw this.failure('list', prefix, error);
    }
    return keys;
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteObjectCommand({ Bucket: this.settings.bucket, Key: this.fullKey(key) }),
      );
    } catch (error) {
      if (!isMissing(error)) throw this.failure('delete', key, error);
    }
  }

  async useObjectLock(lock: ObjectLock): Promise<void> {
    await checkObjectLock(this.client, this.settings, this.secrets, this.location);
    this.objectLock = lock;
  }

  async lockedUntil(key: string): Promise<Date | undefined> {
    try {
      return await retainedUntil(this.client, this.settings.bucket, this.fullKey(key));
    } catch (error) {
      throw this.failure('check', key, error);
    }
  }

  async listIncomplete(prefix: string): Promise<IncompleteWrite[]> {
    const root = this.settings.prefix ? `${this.settings.prefix}/` : '';
    try {
      return await listPendingUploads(this.client, this.settings.bucket, root, prefix);
    } catch (error) {
      throw this.failure('list', prefix, error);
    }
  }

  async removeIncomplete(write: IncompleteWrite): Promise<void> {
    try {
      await abortUpload(this.client, this.settings.bucket, this.fullKey(write.key), write.ref);
    } catch (error) {
      throw this.failure('delete', write.key, error);
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private fullKey(key: string): string {
    return this.settings.prefix ? `${this.settings.prefix}/${key}` : key;
  }

  async stat(key: string): Promise<StoredObject | undefined> {
    const found = await this.headObject(key);
    if (found !== 'forbidden') return found;
    // HEAD was forbidden; a policy that allows listing can still answer, with sizes.
    const root = this.settings.prefix ? `${this.settings.prefix}/` : '';
    try {
      const pages = paginateListObjectsV2(
        { client: this.client },
        { Bucket: this.settings.bucket, Prefix: root + key },
      );
      for await (const page of pages) {
        const object = page.Contents?.find((o) => o.Key === root + key);
        if (object) return { sizeBytes: object.Size ?? 0 };
      }
    } catch (error) {
      throw this.failure('check', key, error);
    }
    return undefined;
  }

  /** HeadObject: never the body. 'forbidden' when the service will not say; see below. */
  private async headObject(key: string): Promise<StoredObject | undefined | 'forbidden'> {
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.settings.bucket, Key: this.fullKey(key) }),
      );
      return { sizeBytes: head.ContentLength ?? 0 };
    } catch (error) {
      if (isMissing(error)) return undefined;
      // A write-only policy (no s3:GetObject) answers 403 here, and an answer to HEAD carries
      // no error code to tell bad credentials apart. The write itself says which it is.
      if (statusOf(error) === 403) return 'forbidden';
      throw this.failure('check', key, error);
    }
  }

  /**
   * lib-storage aborts a failed multipart upload itself, but if that abort fails it loses the
   * original error and leaves the parts billed; one more try here, best effort.
   */
  private async abandon(fullKey: string, uploadId: string | undefined): Promise<void> {
    if (!uploadId) return;
    const abort = { Bucket: this.settings.bucket, Key: fullKey, UploadId: uploadId };
    await this.client.send(new AbortMultipartUploadCommand(abort)).catch(() => undefined);
  }

  private alreadyExists(key: string): LifeboatError {
    const hint = 'Stored backups are never replaced; delete the object first if it really must go';
    return new LifeboatError(
      'store',
      `Refusing to overwrite "${key}" in ${this.location}: it already exists`,
      {
        hint,
      },
    );
  }

  private failure(
    action: 'store' | 'read' | 'list' | 'delete' | 'check',
    key: string,
    error: unknown,
  ): LifeboatError {
    const verb = { store: 'store', read: 'read', list: 'list', delete: 'delete', check: 'check for' }[action];
    const what = action === 'list' ? `keys under "${key}"` : `"${key}"`;
    const message = `Could not ${verb} ${what} in ${this.location}: ${s3ServerSays(error, this.secrets)}`;
    return new LifeboatError('store', message, { hint: s3Hint(error, this.settings), cause: error });
  }
}

export function createS3Store(
  url: string,
  env: NodeJS.ProcessEnv = process.env,
  options?: S3StoreOptions,
): S3Store {
  return new S3Store(resolveS3Settings(url, env), s3Secrets(env), options);
}
