/**
 * A real S3 peer for tests and benchmarks: s3rver (filesystem-backed) behind a small loopback proxy.
 *
 * The proxy exists for two reasons. s3rver lacks parts of the API a careful client uses
 * (AbortMultipartUpload answers MethodNotAllowed, ListMultipartUploads NotImplemented) and
 * checks only the access key id of a SigV4 request, never the signature; the proxy fills
 * those gaps over s3rver's own upload directory, and refuses If-None-Match writes to existing
 * keys as AWS S3 does. And it injects faults on demand: failing parts, a failing completion,
 * a server that claims success without storing anything, one that fails every HEAD, or one
 * that silently stores every object with a byte flipped.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { objectLockStep, type ObjectLockState } from './s3-object-lock.js';

interface S3rverInstance {
  store: { deleteObject(bucket: string, key: string): Promise<void> };
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
const S3rver = createRequire(import.meta.url)('s3rver') as new (options: object) => S3rverInstance;

/** Switchable at any time through `server.faults`. */
export interface S3Faults {
  /** Let this many parts of each multipart upload through, then fail every later one. */
  failAfterParts?: number;
  /** How a failing part fails: an HTTP 500 (default) or a connection dropped mid-body. */
  failWith?: 'error' | 'reset';
  /** Answer CompleteMultipartUpload with HTTP 500. */
  failOnComplete?: boolean;
  /** Answer PutObject and CompleteMultipartUpload with success, storing nothing. */
  lieOnComplete?: boolean;
  /** Answer every HeadObject with HTTP 500: a service that cannot say what it holds. */
  failHead?: boolean;
  /** Delete this object right after a listing of its bucket was answered: a delete racing a backup. */
  deleteAfterList?: { bucket: string; key: string };
  /** Answer every GetObject of this object with HTTP 500: a service failing in the middle of a backup. */
  failGetOf?: { bucket: string; key: string };
  /** Never answer this operation (`CompleteMultipartUpload`): a client caught mid-request. */
  stall?: string;
  /** Store every written object with one byte flipped, and answer success: silent corruption. */
  corruptWrites?: boolean;
  /**
   * Drop the connection of the next `times` GetObject answers after `afterBytes` bytes of
   * body: a download cut off mid-object (an idle timeout, a proxy, a network blip).
   */
  cutGets?: { afterBytes: number; times: number };
}

export interface S3ServerOptions {
  /** Further buckets beside the store's own (a Storage service with several buckets). */
  buckets?: string[];
}

export interface S3TestServer {
  /** The proxy's address, what clients use. */
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** AWS_* variables pointing a client at this server. */
  env: NodeJS.ProcessEnv;
  faults: S3Faults;
  /** Operation names seen, in order (PutObject, UploadPart, HeadObject, ...). */
  operations: string[];
  /** Writes small objects straight into s3rver's directory: fast fixtures for listing tests. */
  seed(keys: string[], body?: string): Promise<void>;
  /** Keys of multipart uploads started and neither completed nor aborted. */
  pendingUploads(): Promise<string[]>;
  /** S3 Object Lock, enforced by the proxy (s3-object-lock.ts); off until a test enables it. */
  objectLock: ObjectLockState;
  stop(): Promise<void>;
}

const AUTH_MESSAGES: Record<string, string> = {
  InvalidAccessKeyId: 'The AWS Access Key Id you provided does not exist in our records.',
  SignatureDoesNotMatch:
    'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
};

// s3rver's built-in account; it rejects any other access key id with InvalidAccessKeyId.
const ACCESS_KEY_ID = 'S3RVER';

export async function startS3Server(
  initialFaults: S3Faults = {},
  options: S3ServerOptions = {},
): Promise<S3TestServer> {
  const directory = await mkdtemp(join(tmpdir(), 'lifeboat-s3-'));
  const bucket = 'lifeboat-test';
  const secretAccessKey = `test-secret-${randomBytes(12).toString('hex')}`;
  const backend = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [bucket, ...(options.buckets ?? [])].map((name) => ({ name })),
  });
  const { port: backendPort } = await backend.run();
  const uploadsDir = join(directory, bucket, '._S3rver_uploads');
  const agent = new http.Agent({ keepAlive: true });
  const operations: string[] = [];
  const partsPassed = new Map<string, number>();
  // Requests of each multipart upload that s3rver is still answering (see AbortMultipartUpload).
  const inFlight = new Map<string, Set<Promise<unknown>>>();
  const track = (uploadId: string, request: Promise<unknown>) => {
    const requests = inFlight.get(uploadId) ?? new Set<Promise<unknown>>();
    inFlight.set(uploadId, requests);
    const settled = request.then(
      () => undefined,
      () => undefined,
    );
    requests.add(settled);
    void settled.then(() => requests.delete(settled));
  };
  const pendingLocks = new Map<string, { mode: string; until: Date }>();
  const objectFile = (key: string): string => {
    const parts = key.split('/');
    return join(directory, bucket, ...parts.slice(0, -1), `${parts.at(-1)}._S3rver_object`);
  };

  const server: S3TestServer = {
    endpoint: '',
    bucket,
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey,
    env: {},
    faults: initialFaults,
    operations,
    objectLock: { enabled: false, retained: new Map() },
    seed: async (keys, body = 'seed') => {
      const md5 = createHash('md5').update(body).digest('hex');
      for (const key of keys) {
        const object = objectFile(key);
        await mkdir(dirname(object), { recursive: true });
        await Promise.all([writeFile(object, body), writeFile(`${object}.md5`, md5)]);
      }
    },
    pendingUploads: async () => (await listUploads(uploadsDir, '')).map((u) => u.key),
    stop: async () => {
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      agent.destroy();
      await backend.close();
      await rm(directory, { recursive: true, force: true });
    },
  };

  const upstream = (req: http.IncomingMessage, path = req.url): Promise<http.IncomingMessage> =>
    new Promise((resolve, reject) => {
      const { method, headers } = req;
      const request = http.request(
        { host: '127.0.0.1', port: backendPort, method, path, headers, agent },
        resolve,
      );
      request.on('error', reject);
      req.pipe(request);
    });

  /** s3rver signs ListObjectsV2 continuation tokens with DES, which OpenSSL 3 no longer offers. */
  const listV2 = async (req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> => {
    const q = url.searchParams;
    const token = q.get('continuation-token');
    const v1 = new URLSearchParams();
    for (const name of ['prefix', 'delimiter', 'max-keys']) if (q.has(name)) v1.set(name, q.get(name) ?? '');
    const marker = token ? Buffer.from(token, 'base64url').toString('utf8') : q.get('start-after');
    if (marker) v1.set('marker', marker);
    const answer = await upstream(req, `${url.pathname}?${v1}`);
    const body = Buffer.concat(await answer.toArray()).toString();
    if (answer.statusCode !== 200) return reply(req, res, answer.statusCode ?? 502, body);
    // Listed, then deleted before the client can read it.
    const gone = server.faults.deleteAfterList;
    if (gone && url.pathname.split('/')[1] === gone.bucket) {
      server.faults.deleteAfterList = undefined;
      await backend.store.deleteObject(gone.bucket, gone.key);
    }
    const keys = [...body.matchAll(/<Key>(.*?)<\/Key>/g)].map((m) => unescapeXml(m[1] ?? ''));
    const next = /<NextMarker>(.*?)<\/NextMarker>/.exec(body)?.[1];
    const last = next === undefined ? keys.at(-1) : unescapeXml(next);
    const truncated = body.includes('<IsTruncated>true</IsTruncated>') && last !== undefined;
    const extra =
      `<KeyCount>${keys.length}</KeyCount>` +
      (token ? `<ContinuationToken>${escapeXml(token)}</ContinuationToken>` : '') +
      (truncated
        ? `<NextContinuationToken>${Buffer.from(last).toString('base64url')}</NextContinuationToken>`
        : '');
    reply(req, res, 200, body.replace('</ListBucketResult>', `${extra}</ListBucketResult>`));
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const faults = server.faults;
    const url = new URL(req.url ?? '/', 'http://proxy');
    const op = operationOf(req.method ?? 'GET', url);
    operations.push(op);
    const denied = checkSignature(req, url, secretAccessKey);
    if (denied) return reply(req, res, 403, errorXml(denied, AUTH_MESSAGES[denied] ?? 'Access Denied'));

    const uploadId = url.searchParams.get('uploadId') ?? '';
    // Held until the client gives up or is killed; stop() closes the socket.
    if (faults.stall === op) return;
    if (op === 'ListObjects' && url.searchParams.get('list-type') === '2') return listV2(req, res, url);
    if (op === 'ListParts') {
      const dir = join(uploadsDir, uploadId);
      if (!uploadId.match(/^[0-9a-f]+$/) || !existsSync(dir)) {
        return reply(req, res, 404, errorXml('NoSuchUpload', 'The specified upload does not exist.'));
      }
      return reply(req, res, 200, await listPartsXml(dir));
    }
    if (op === 'ListMultipartUploads') {
      const uploads = await listUploads(uploadsDir, url.searchParams.get('prefix') ?? '');
      return reply(req, res, 200, listUploadsXml(bucket, uploads));
    }
    if (op === 'AbortMultipartUpload') {
      // s3rver reads a completing upload's parts from this directory: removing it under a
      // CompleteMultipartUpload still running would crash s3rver with ENOENT (an abort racing
      // a completion, as a backup stopped by a signal sends them). Let those finish first.
      await Promise.race([
        Promise.allSettled([...(inFlight.get(uploadId) ?? [])]),
        delay(10_000, undefined, { ref: false }),
      ]);
      const dir = join(uploadsDir, uploadId);
      if (!uploadId.match(/^[0-9a-f]+$/) || !existsSync(dir)) {
        return reply(req, res, 404, errorXml('NoSuchUpload', 'The specified upload does not exist.'));
      }
      await rm(dir, { recursive: true, force: true });
      return reply(req, res, 204, '');
    }
    const key = url.pathname.split('/').slice(2).map(decodeURIComponent).join('/');
    const lock = objectLockStep(server.objectLock, pendingLocks, op, key, req);
    if (lock.answer) return reply(req, res, lock.answer.status, lock.answer.body);
    const isWrite = op === 'PutObject' || op === 'CompleteMultipartUpload';
    // Conditional writes as AWS S3 does them; s3rver ignores If-None-Match on writes.
    if (isWrite && req.headers['if-none-match'] === '*' && existsSync(objectFile(key))) {
      return reply(req, res, 412, errorXml('PreconditionFailed', 'At least one of the preconditions failed'));
    }
    const parts = partsPassed.get(uploadId) ?? 0;
    if (op === 'UploadPart' && faults.failAfterParts !== undefined && parts >= faults.failAfterParts) {
      if (faults.failWith === 'reset') {
        req.once('data', () => req.socket.destroy());
        return;
      }
      return reply(req, res, 500, errorXml('InternalError', 'Injected failure: part refused'));
    }
    if (op === 'UploadPart') partsPassed.set(uploadId, parts + 1);
    const [, inBucket] = url.pathname.split('/');
    const failing = faults.failGetOf;
    if (op === 'GetObject' && failing && failing.bucket === inBucket && failing.key === key) {
      return reply(req, res, 500, errorXml('InternalError', 'Injected failure: object read refused'));
    }
    if (op === 'HeadObject' && faults.failHead) {
      // A HEAD answer has no body; the status alone says it failed.
      return reply(req, res, 500, '');
    }
    if (op === 'CompleteMultipartUpload' && faults.failOnComplete) {
      return reply(req, res, 500, errorXml('InternalError', 'Injected failure: completion refused'));
    }
    if (isWrite && faults.lieOnComplete) {
      // A server that loses the data: the parts go too, so nothing is stored anywhere.
      if (op === 'CompleteMultipartUpload')
        await rm(join(uploadsDir, uploadId), { recursive: true, force: true });
      const etag = `"${randomBytes(16).toString('hex')}"`;
      const body =
        op === 'PutObject'
          ? ''
          : `${XML}<CompleteMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${escapeXml(key)}</Key>` +
            `<ETag>${escapeXml(etag)}</ETag></CompleteMultipartUploadResult>`;
      return reply(req, res, 200, body, { ETag: etag });
    }
    const cut = faults.cutGets;
    if (op === 'GetObject' && cut && cut.times > 0) {
      const answer = await upstream(req);
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      let left = cut.afterBytes;
      answer.on('data', (chunk: Buffer) => {
        if (left < 0) return;
        if (chunk.length <= left) {
          left -= chunk.length;
          res.write(chunk);
          return;
        }
        res.write(chunk.subarray(0, left), () => res.socket?.destroy());
        left = -1;
        cut.times--;
        answer.destroy();
      });
      answer.on('end', () => left >= 0 && res.end());
      return;
    }
    const forwarded = upstream(req);
    if (uploadId) track(uploadId, forwarded);
    const answer = await forwarded;
    lock.after?.(answer.statusCode ?? 502);
    if (isWrite && faults.corruptWrites) {
      // The object is complete once the answer is: damage it before the client hears success.
      const body = Buffer.concat(await answer.toArray());
      if (answer.statusCode === 200) await flipMiddleByte(objectFile(key));
      res.writeHead(answer.statusCode ?? 502, { ...answer.headers, ...lock.headers });
      res.end(body);
      return;
    }
    res.writeHead(answer.statusCode ?? 502, { ...answer.headers, ...lock.headers });
    answer.pipe(res);
  };

  const proxy = http.createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port } = proxy.address() as AddressInfo;
  server.endpoint = `http://127.0.0.1:${port}`;
  server.env = {
    AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: secretAccessKey,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_S3: server.endpoint,
  };
  return server;
}

async function flipMiddleByte(file: string): Promise<void> {
  const bytes = await readFile(file);
  if (bytes.length === 0) return;
  const middle = bytes.length >> 1;
  bytes[middle] = bytes[middle]! ^ 0x01;
  await writeFile(file, bytes);
}

function operationOf(method: string, url: URL): string {
  const q = url.searchParams;
  const isBucket = url.pathname.split('/').filter(Boolean).length === 1;
  if (q.has('uploadId')) {
    return (
      { PUT: 'UploadPart', POST: 'CompleteMultipartUpload', DELETE: 'AbortMultipartUpload' }[method] ??
      'ListParts'
    );
  }
  if (q.has('uploads')) return isBucket ? 'ListMultipartUploads' : 'CreateMultipartUpload';
  if (isBucket && q.has('object-lock')) return `${method === 'GET' ? 'Get' : 'Put'}ObjectLockConfiguration`;
  if (isBucket) return method === 'GET' ? 'ListObjects' : `${method}Bucket`;
  return { PUT: 'PutObject', GET: 'GetObject', HEAD: 'HeadObject', DELETE: 'DeleteObject' }[method] ?? method;
}

/** Drains the request first, so a keep-alive connection stays usable after an early answer. */
function reply(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  const send = (): void => {
    const type = body ? { 'Content-Type': 'application/xml' } : {};
    res.writeHead(status, { ...type, ...headers, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  };
  if (req.readableEnded) send();
  else req.on('end', send).resume();
}

const escapeXml = (s: string): string =>
  s.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c,
  );

const unescapeXml = (s: string): string =>
  s.replace(/&(#x[0-9a-f]+|#\d+|lt|gt|amp|apos|quot);/gi, (_, e: string) => {
    const named: Record<string, string> = { lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' };
    if (e.startsWith('#')) return String.fromCodePoint(Number(e[1] === 'x' ? `0${e.slice(1)}` : e.slice(1)));
    return named[e] ?? '';
  });

const XML = '<?xml version="1.0" encoding="UTF-8"?>\n';
const errorXml = (code: string, message: string): string =>
  `${XML}<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error>`;

/** The parts of a pending upload, from its directory in s3rver's (files named by part number). */
async function listPartsXml(dir: string): Promise<string> {
  const numbers = (await readdir(dir)).filter((f) => /^\d+$/.test(f)).sort((a, b) => Number(a) - Number(b));
  const parts = await Promise.all(
    numbers.map(
      async (n) =>
        `<Part><PartNumber>${n}</PartNumber><Size>${(await stat(join(dir, n))).size}</Size></Part>`,
    ),
  );
  return `${XML}<ListPartsResult><IsTruncated>false</IsTruncated>${parts.join('')}</ListPartsResult>`;
}

/** Pending multipart uploads, read from s3rver's upload directory. */
async function listUploads(
  uploadsDir: string,
  prefix: string,
): Promise<{ key: string; uploadId: string; initiated?: Date }[]> {
  const ids = existsSync(uploadsDir) ? await readdir(uploadsDir) : [];
  const uploads = await Promise.all(
    ids.map(async (uploadId) => ({
      uploadId,
      initiated: (await stat(join(uploadsDir, uploadId, 'key')).catch(() => undefined))?.mtime,
      // An upload completed or aborted while we list goes away under us: it is no longer pending.
      key: await readFile(join(uploadsDir, uploadId, 'key'), 'utf8').catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      }),
    })),
  );
  return uploads
    .filter(
      (u): u is { uploadId: string; key: string; initiated: Date | undefined } =>
        u.key !== undefined && u.key.startsWith(prefix),
    )
    .sort((a, b) => a.key.localeCompare(b.key));
}

function listUploadsXml(
  bucket: string,
  uploads: { key: string; uploadId: string; initiated?: Date }[],
): string {
  const items = uploads.map(
    (u) =>
      `<Upload><Key>${escapeXml(u.key)}</Key><UploadId>${u.uploadId}</UploadId>` +
      (u.initiated ? `<Initiated>${u.initiated.toISOString()}</Initiated>` : '') +
      '</Upload>',
  );
  return (
    `${XML}<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>${bucket}</Bucket>` +
    `<IsTruncated>false</IsTruncated>${items.join('')}</ListMultipartUploadsResult>`
  );
}

/**
 * Verifies an AWS SigV4 Authorization header the way S3 does (payload hash taken from
 * x-amz-content-sha256, S3 paths signed as sent); returns an S3 error code when it fails.
 */
function checkSignature(req: http.IncomingMessage, url: URL, secret: string): string | undefined {
  const auth = req.headers.authorization ?? '';
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/([^,]+), ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]+)$/.exec(
      auth,
    );
  if (!match) return 'AccessDenied';
  const [, keyId = '', scope = '', signedHeaders = '', signature = ''] = match;
  if (keyId !== ACCESS_KEY_ID) return 'InvalidAccessKeyId';

  const rfc3986 = (s: string): string =>
    encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const query = [...url.searchParams]
    .map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`)
    .sort()
    .join('&');
  const header = (name: string): string => String(req.headers[name] ?? '').trim();
  const headers = signedHeaders
    .split(';')
    .map((n) => `${n}:${header(n).replace(/\s+/g, ' ')}\n`)
    .join('');
  const rawPath = (req.url ?? '/').split('?')[0] ?? '/';
  const canonical = [req.method, rawPath, query, headers, signedHeaders, header('x-amz-content-sha256')];
  const digest = createHash('sha256').update(canonical.join('\n')).digest('hex');
  const toSign = ['AWS4-HMAC-SHA256', header('x-amz-date'), scope, digest].join('\n');

  let key: Buffer = Buffer.from(`AWS4${secret}`);
  for (const part of scope.split('/')) key = createHmac('sha256', key).update(part).digest();
  const expected = createHmac('sha256', key).update(toSign).digest('hex');
  return expected === signature ? undefined : 'SignatureDoesNotMatch';
}
