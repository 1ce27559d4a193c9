import {
  AbortMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { IncompleteWrite } from './store.js';

/**
 * Multipart uploads begun and never completed nor aborted under a prefix: what a backup
 * killed by SIGKILL mid-upload leaves in a bucket, invisible to a listing and billed until
 * a lifecycle rule or a sweep aborts it. `root` is the store's own prefix in the bucket.
 */
export async function listPendingUploads(
  client: S3Client,
  bucket: string,
  root: string,
  prefix: string,
): Promise<IncompleteWrite[]> {
  const found: IncompleteWrite[] = [];
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (;;) {
    const page = await client.send(
      new ListMultipartUploadsCommand({
        Bucket: bucket,
        Prefix: root + prefix,
        KeyMarker: keyMarker,
        UploadIdMarker: uploadIdMarker,
      }),
    );
    for (const upload of page.Uploads ?? []) {
      if (!upload.Key?.startsWith(root) || !upload.UploadId) continue;
      found.push({
        key: upload.Key.slice(root.length),
        what: 'multipart upload',
        sizeBytes: await uploadedBytes(client, bucket, upload.Key, upload.UploadId),
        startedAt: upload.Initiated ?? new Date(0),
        ref: upload.UploadId,
      });
    }
    if (!page.IsTruncated) break;
    keyMarker = page.NextKeyMarker;
    uploadIdMarker = page.NextUploadIdMarker;
    if (!keyMarker) break;
  }
  return found;
}

/** The bytes of an upload's parts so far; undefined when the service will not list them. */
async function uploadedBytes(
  client: S3Client,
  bucket: string,
  key: string,
  uploadId: string,
): Promise<number | undefined> {
  try {
    let total = 0;
    let marker: string | undefined;
    for (;;) {
      const page = await client.send(
        new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }),
      );
      for (const part of page.Parts ?? []) total += part.Size ?? 0;
      if (!page.IsTruncated || !page.NextPartNumberMarker) return total;
      marker = page.NextPartNumberMarker;
    }
  } catch {
    return undefined;
  }
}

export async function abortUpload(
  client: S3Client,
  bucket: string,
  fullKey: string,
  uploadId: string,
): Promise<void> {
  try {
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: fullKey, UploadId: uploadId }));
  } catch (error) {
    // Already completed or aborted: nothing is left to remove.
    if ((error as { name?: string }).name !== 'NoSuchUpload') throw error;
  }
}
