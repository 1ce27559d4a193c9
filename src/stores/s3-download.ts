import { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { isNetworkFailure } from './s3-errors.js';

/** How often a download resumes in a row before it fails; a MiB received resets the count. */
const RESUMES = 4;
const PROGRESS = 1024 * 1024;

export interface DownloadStart {
  body: Readable;
  /** The object's ETag, so a resumed read fails rather than splice another version in. */
  etag?: string;
}

/**
 * An object's bytes as one stream that survives a dropped connection. A drill or restore
 * reads the archive as `pg_restore` takes it, so the download pauses whenever the server is
 * busy building an index, for minutes on a large table; an idle socket is cut by the
 * client's own timeout (two minutes) or by any proxy on the way. Then, and on any other
 * network failure, the read resumes at the next byte with a ranged GET of the same version
 * (If-Match), as long as it makes progress (five cuts with less than a MiB between them fail
 * it): the bytes handed on are exactly the object's, in order, so the SHA-256 over them
 * still checks the whole archive.
 */
export function resumableDownload(
  start: DownloadStart,
  reopen: (from: number, etag: string | undefined) => Promise<Readable>,
  fail: (error: unknown) => Error,
  onResume?: (from: number, error: unknown) => void,
): Readable {
  async function* bytes(): AsyncGenerator<Buffer> {
    let body = start.body;
    let offset = 0;
    let failures = 0;
    let failedAt = 0;
    try {
      for (;;) {
        try {
          for await (const chunk of body as AsyncIterable<Buffer>) {
            offset += chunk.length;
            if (offset - failedAt >= PROGRESS) failures = 0;
            yield chunk;
          }
          return;
        } catch (error) {
          body.destroy();
          if (!isNetworkFailure(error) || ++failures > RESUMES) throw fail(error);
          failedAt = offset;
          onResume?.(offset, error);
          await delay(250 * 2 ** (failures - 1));
          body = await reopen(offset, start.etag);
        }
      }
    } finally {
      body.destroy();
    }
  }
  return Readable.from(bytes(), { objectMode: false, highWaterMark: 64 * 1024 });
}

/** A GET of the object from byte `from` on, of version `etag` when given; the SDK's errors as they come. */
export async function getObjectFrom(
  client: S3Client,
  bucket: string,
  key: string,
  from: number,
  etag?: string,
): Promise<DownloadStart> {
  const response = await client.send(
    new GetObjectCommand({
      Bucket: bucket,
      Key: key,
      ...(from > 0 ? { Range: `bytes=${from}-`, IfMatch: etag } : {}),
    }),
  );
  return { body: response.Body as Readable, etag: response.ETag };
}
