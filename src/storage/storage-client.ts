import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  S3Client,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import { LifeboatError } from '../errors.js';
import { isMissing, s3ServerSays, statusOf, type ServiceError } from '../stores/s3-errors.js';
import type { StorageSettings } from '../settings/storage-values.js';

/** One object as a listing shows it. */
export interface ListedObject {
  bucket: string;
  key: string;
  sizeBytes: number;
  modified?: Date;
}

/** One object as a GET returns it: the body and what travels with it. */
export interface FetchedObject {
  body: Readable;
  sizeBytes: number;
  contentType?: string;
  cacheControl?: string;
  metadata: Record<string, string>;
}

export interface PutObject {
  bucket: string;
  key: string;
  body: Readable | Buffer;
  sizeBytes: number;
  contentType?: string;
  cacheControl?: string;
  metadata?: Record<string, string>;
}

const AUTH_ERROR = /^(InvalidAccessKeyId|SignatureDoesNotMatch|AccessDenied|(Expired|Invalid)Token)$/;

/**
 * The Storage service's S3 protocol (Supabase: `https://<ref>.supabase.co/storage/v1/s3`),
 * one method per use. Path-style addressing and WHEN_REQUIRED checksums, as for every custom
 * S3 endpoint (see stores/s3.ts): the aws-chunked bodies of the SDK's default checksums are
 * refused by many S3-compatible services. Errors name the endpoint, bucket and key, never
 * the secret key.
 */
export class StorageClient {
  readonly where: string;
  private readonly client: S3Client;

  constructor(
    settings: StorageSettings,
    credentials: { accessKeyId: string; secretAccessKey: string },
    private readonly secrets: string[] = [credentials.secretAccessKey],
  ) {
    this.where = `Storage at ${settings.endpoint.host}`;
    this.client = new S3Client({
      region: settings.region,
      credentials,
      endpoint: settings.endpoint.href,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // Many small requests at once: enough sockets for the fetch window, and timeouts so a dead host fails.
      requestHandler: { connectionTimeout: 10_000, socketTimeout: 120_000, httpAgent: { maxSockets: 64 } },
    });
  }

  async listBuckets(): Promise<string[]> {
    try {
      const answer = await this.client.send(new ListBucketsCommand({}));
      return (answer.Buckets ?? [])
        .map((b) => b.Name ?? '')
        .filter(Boolean)
        .sort();
    } catch (error) {
      throw this.failure('list the buckets of', undefined, error);
    }
  }

  /** Every object of a bucket under `prefix`, all pages, in key order. */
  async listObjects(bucket: string, prefix = ''): Promise<ListedObject[]> {
    const objects: ListedObject[] = [];
    try {
      const pages = paginateListObjectsV2(
        { client: this.client, pageSize: 1000 },
        { Bucket: bucket, Prefix: prefix || undefined },
      );
      for await (const page of pages) {
        for (const o of page.Contents ?? []) {
          if (o.Key === undefined) continue;
          objects.push({ bucket, key: o.Key, sizeBytes: o.Size ?? 0, modified: o.LastModified });
        }
      }
    } catch (error) {
      throw this.failure('list', `bucket "${bucket}"`, error);
    }
    return objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** The object, or undefined when it is gone (deleted since it was listed). */
  async get(bucket: string, key: string): Promise<FetchedObject | undefined> {
    try {
      const answer = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return {
        body: answer.Body as Readable,
        sizeBytes: answer.ContentLength ?? 0,
        contentType: answer.ContentType,
        cacheControl: answer.CacheControl,
        metadata: answer.Metadata ?? {},
      };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw this.failure('read', objectName(bucket, key), error);
    }
  }

  /** SHA-256 of an object's bytes, read whole; undefined when it is gone. */
  async hash(bucket: string, key: string): Promise<string | undefined> {
    const object = await this.get(bucket, key);
    if (!object) return undefined;
    const hash = createHash('sha256');
    try {
      for await (const chunk of object.body) hash.update(chunk as Buffer);
    } catch (error) {
      throw this.failure('read', objectName(bucket, key), error);
    }
    return hash.digest('hex');
  }

  async put(object: PutObject): Promise<void> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: object.bucket,
          Key: object.key,
          Body: object.body,
          ContentLength: object.sizeBytes,
          ContentType: object.contentType,
          CacheControl: object.cacheControl,
          Metadata: object.metadata,
        }),
      );
    } catch (error) {
      throw this.failure('write', objectName(object.bucket, object.key), error);
    }
  }

  async delete(bucket: string, key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    } catch (error) {
      if (!isMissing(error)) throw this.failure('delete', objectName(bucket, key), error);
    }
  }

  close(): void {
    this.client.destroy();
  }

  private failure(verb: string, what: string | undefined, error: unknown): LifeboatError {
    const e = (error ?? {}) as ServiceError;
    const says = s3ServerSays(error, this.secrets);
    const subject = what ? `${what} in ${this.where}` : this.where;
    if (AUTH_ERROR.test(e.name ?? '') || statusOf(error) === 403) {
      return new LifeboatError(
        'auth',
        `Could not ${verb} ${subject}: the Storage endpoint refused the credentials (${says}).`,
        {
          hint: 'Check LIFEBOAT_STORAGE_ACCESS_KEY_ID and LIFEBOAT_STORAGE_SECRET_ACCESS_KEY: for Supabase, create S3 access keys under Project Settings → Storage, and set storage-region to the project region.',
          cause: error,
        },
      );
    }
    if (e.name === 'NoSuchBucket') {
      return new LifeboatError('not-found', `Could not ${verb} ${subject}: no such bucket (${says}).`, {
        hint: 'Check the input storage-buckets against the buckets the project has (Supabase: Storage in the dashboard).',
        cause: error,
      });
    }
    return new LifeboatError('store', `Could not ${verb} ${subject}: ${says}.`, {
      hint: 'Check that storage-url is the S3 endpoint of the Storage service (Supabase: https://<project-ref>.supabase.co/storage/v1/s3) and that it is reachable from here.',
      cause: error,
    });
  }
}

/** How errors and reports name one object: bucket and key, the key quoted as it is. */
export function objectName(bucket: string, key: string): string {
  return `"${bucket}/${key}"`;
}
