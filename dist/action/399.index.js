export const id = 399;
export const ids = [399];
export const modules = {

/***/ 9164:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   NQ: () => (/* binding */ isNetworkFailure),
/* harmony export */   Qz: () => (/* binding */ s3ServerSays),
/* harmony export */   UK: () => (/* binding */ s3Hint),
/* harmony export */   b2: () => (/* binding */ isMissing),
/* harmony export */   c2: () => (/* binding */ statusOf)
/* harmony export */ });
const NETWORK_ERROR = /^(ECONN[A-Z]+|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|E(HOST|NET)UNREACH|EPIPE|TimeoutError)$/;
const AUTH_ERROR = /^(InvalidAccessKeyId|SignatureDoesNotMatch|AccessDenied|(Expired|Invalid)Token)$/;
/**
 * A connection that failed or dropped, not an answer of the service: worth trying again.
 * Node names a response cut off mid-body `aborted` (ECONNRESET); the SDK an idle socket
 * `TimeoutError`.
 */
function isNetworkFailure(error) {
    const e = (error ?? {});
    return (NETWORK_ERROR.test(e.code ?? '') ||
        NETWORK_ERROR.test(e.name ?? '') ||
        e.code === 'ERR_STREAM_PREMATURE_CLOSE' ||
        e.message === 'aborted');
}
function statusOf(error) {
    return error?.$metadata?.httpStatusCode;
}
function isMissing(error) {
    const name = error?.name;
    return name === 'NoSuchKey' || name === 'NotFound' || statusOf(error) === 404;
}
/** What the service said, with the credentials masked. */
function s3ServerSays(error, secrets) {
    const e = (error ?? {});
    const status = statusOf(error);
    const name = e.code ?? e.name ?? 'Error';
    // Node reports a refused connection to every address of a host as an AggregateError with
    // an empty message; the SDK names an answer without an error body "Unknown".
    const detail = e.message || e.errors?.[0]?.message || 'no details';
    let text = name === 'Unknown' && status
        ? `HTTP ${status} without error details`
        : `${name}: ${detail}${status ? ` (HTTP ${status})` : ''}`;
    for (const secret of secrets)
        text = text.split(secret).join('***');
    return text;
}
/** What to check, by the kind of failure: the network, the credentials, the bucket, the region. */
function s3Hint(error, settings) {
    const e = (error ?? {});
    const endpoint = settings.endpoint;
    if (isNetworkFailure(error)) {
        return endpoint
            ? `Check that the S3 endpoint ${endpoint.host} (AWS_ENDPOINT_URL_S3) is up and reachable from here`
            : 'Check the network; for an S3-compatible service set AWS_ENDPOINT_URL_S3 to its address';
    }
    if (AUTH_ERROR.test(e.name ?? '') || e.name === 'CredentialsProviderError' || statusOf(error) === 403) {
        return ('Check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ' +
            `credentials), and that they may read, write, list and delete in s3://${settings.bucket}`);
    }
    if ((statusOf(error) ?? 0) >= 500) {
        return 'The S3 service failed while answering; try again, and check its status page or logs if it persists';
    }
    if (e.name === 'NoSuchBucket') {
        return `Create the bucket "${settings.bucket}" or correct the store input`;
    }
    if (['PermanentRedirect', 'AuthorizationHeaderMalformed'].includes(e.name ?? '') ||
        statusOf(error) === 301) {
        return `The bucket lives in another region: set AWS_REGION (now ${settings.region}) to its region`;
    }
    return 'Check the credentials, the bucket in the store input and, for S3-compatible services, AWS_ENDPOINT_URL_S3';
}


/***/ }),

/***/ 8399:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  createS3Store: () => (/* binding */ createS3Store),
  s3Secrets: () => (/* reexport */ s3Secrets)
});

// UNUSED EXPORTS: S3Store, parseS3Url

// EXTERNAL MODULE: external "node:timers/promises"
var promises_ = __webpack_require__(8500);
// EXTERNAL MODULE: ./node_modules/@aws-sdk/client-s3/dist-cjs/index.js
var dist_cjs = __webpack_require__(3711);
// EXTERNAL MODULE: ./node_modules/@aws-sdk/lib-storage/dist-cjs/index.js
var lib_storage_dist_cjs = __webpack_require__(2358);
// EXTERNAL MODULE: ./src/errors.ts
var errors = __webpack_require__(3916);
// EXTERNAL MODULE: ./src/interrupt.ts
var interrupt = __webpack_require__(8476);
// EXTERNAL MODULE: ./src/stores/s3-errors.ts
var s3_errors = __webpack_require__(9164);
;// CONCATENATED MODULE: ./src/stores/s3-lock.ts



/**
 * S3 Object Lock for the S3 store: the bucket check made before any dump starts, the
 * parameters every put carries, and the retain-until date retention reads before it deletes
 * (on a versioned bucket a plain DELETE of a locked object "succeeds" by adding a delete
 * marker, so the lock must be asked about, not inferred from a refusal).
 */
async function checkObjectLock(client, settings, secrets, location) {
    const notEnabled = (why) => new errors/* LifeboatError */.H3('input', `Inputs \`object-lock-days\`/\`object-lock-mode\` need Object Lock on the bucket, but ${location} ${why}.`, {
        hint: `Object Lock can only be turned on for a bucket with versioning (aws s3api put-object-lock-configuration --bucket ${settings.bucket} --object-lock-configuration ObjectLockEnabled=Enabled), or remove object-lock-days.`,
    });
    try {
        const answer = await client.send(new dist_cjs.GetObjectLockConfigurationCommand({ Bucket: settings.bucket }));
        if (answer.ObjectLockConfiguration?.ObjectLockEnabled !== 'Enabled')
            throw notEnabled('does not have it enabled');
    }
    catch (error) {
        if (error instanceof errors/* LifeboatError */.H3)
            throw error;
        const name = error.name ?? '';
        if (name === 'ObjectLockConfigurationNotFoundError' || (0,s3_errors/* isMissing */.b2)(error))
            throw notEnabled('has no Object Lock configuration');
        throw new errors/* LifeboatError */.H3('store', `Could not read the Object Lock configuration of ${location}: ${(0,s3_errors/* s3ServerSays */.Qz)(error, secrets)}`, { hint: (0,s3_errors/* s3Hint */.UK)(error, settings), cause: error });
    }
}
/** The put parameters of a locked object: retained from now for `days`. */
function lockParams(lock, now = new Date()) {
    if (!lock)
        return {};
    return {
        ObjectLockMode: lock.mode === 'compliance' ? 'COMPLIANCE' : 'GOVERNANCE',
        ObjectLockRetainUntilDate: new Date(now.getTime() + lock.days * 86_400_000),
    };
}
/** The retain-until date of an object still locked; undefined when none, past, or absent. */
async function retainedUntil(client, bucket, fullKey, now = new Date()) {
    try {
        const head = await client.send(new dist_cjs.HeadObjectCommand({ Bucket: bucket, Key: fullKey }));
        const until = head.ObjectLockRetainUntilDate;
        return until && until.getTime() > now.getTime() ? until : undefined;
    }
    catch (error) {
        if ((0,s3_errors/* isMissing */.b2)(error))
            return undefined;
        throw error;
    }
}

;// CONCATENATED MODULE: ./src/stores/s3-uploads.ts

/**
 * Multipart uploads begun and never completed nor aborted under a prefix: what a backup
 * killed by SIGKILL mid-upload leaves in a bucket, invisible to a listing and billed until
 * a lifecycle rule or a sweep aborts it. `root` is the store's own prefix in the bucket.
 */
async function listPendingUploads(client, bucket, root, prefix) {
    const found = [];
    let keyMarker;
    let uploadIdMarker;
    for (;;) {
        const page = await client.send(new dist_cjs.ListMultipartUploadsCommand({
            Bucket: bucket,
            Prefix: root + prefix,
            KeyMarker: keyMarker,
            UploadIdMarker: uploadIdMarker,
        }));
        for (const upload of page.Uploads ?? []) {
            if (!upload.Key?.startsWith(root) || !upload.UploadId)
                continue;
            found.push({
                key: upload.Key.slice(root.length),
                what: 'multipart upload',
                sizeBytes: await uploadedBytes(client, bucket, upload.Key, upload.UploadId),
                startedAt: upload.Initiated ?? new Date(0),
                ref: upload.UploadId,
            });
        }
        if (!page.IsTruncated)
            break;
        keyMarker = page.NextKeyMarker;
        uploadIdMarker = page.NextUploadIdMarker;
        if (!keyMarker)
            break;
    }
    return found;
}
/** The bytes of an upload's parts so far; undefined when the service will not list them. */
async function uploadedBytes(client, bucket, key, uploadId) {
    try {
        let total = 0;
        let marker;
        for (;;) {
            const page = await client.send(new dist_cjs.ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }));
            for (const part of page.Parts ?? [])
                total += part.Size ?? 0;
            if (!page.IsTruncated || !page.NextPartNumberMarker)
                return total;
            marker = page.NextPartNumberMarker;
        }
    }
    catch {
        return undefined;
    }
}
async function abortUpload(client, bucket, fullKey, uploadId) {
    try {
        await client.send(new dist_cjs.AbortMultipartUploadCommand({ Bucket: bucket, Key: fullKey, UploadId: uploadId }));
    }
    catch (error) {
        // Already completed or aborted: nothing is left to remove.
        if (error.name !== 'NoSuchUpload')
            throw error;
    }
}

// EXTERNAL MODULE: external "node:stream"
var external_node_stream_ = __webpack_require__(7075);
;// CONCATENATED MODULE: ./src/stores/s3-download.ts




/** How often a download resumes in a row before it fails; a MiB received resets the count. */
const RESUMES = 4;
const PROGRESS = 1024 * 1024;
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
function resumableDownload(start, reopen, fail, onResume) {
    async function* bytes() {
        let body = start.body;
        let offset = 0;
        let failures = 0;
        let failedAt = 0;
        try {
            for (;;) {
                try {
                    for await (const chunk of body) {
                        offset += chunk.length;
                        if (offset - failedAt >= PROGRESS)
                            failures = 0;
                        yield chunk;
                    }
                    return;
                }
                catch (error) {
                    body.destroy();
                    if (!(0,s3_errors/* isNetworkFailure */.NQ)(error) || ++failures > RESUMES)
                        throw fail(error);
                    failedAt = offset;
                    onResume?.(offset, error);
                    await (0,promises_.setTimeout)(250 * 2 ** (failures - 1));
                    body = await reopen(offset, start.etag);
                }
            }
        }
        finally {
            body.destroy();
        }
    }
    return external_node_stream_.Readable.from(bytes(), { objectMode: false, highWaterMark: 64 * 1024 });
}
/** A GET of the object from byte `from` on, of version `etag` when given; the SDK's errors as they come. */
async function getObjectFrom(client, bucket, key, from, etag) {
    const response = await client.send(new dist_cjs.GetObjectCommand({
        Bucket: bucket,
        Key: key,
        ...(from > 0 ? { Range: `bytes=${from}-`, IfMatch: etag } : {}),
    }));
    return { body: response.Body, etag: response.ETag };
}

;// CONCATENATED MODULE: ./src/stores/s3-url.ts

const ACCEPTED = 'The store input accepts s3://bucket or s3://bucket/prefix';
function invalid(message, hint = ACCEPTED) {
    return new errors/* LifeboatError */.H3('input', message, { hint });
}
/**
 * The bucket naming rules S3 enforces for new buckets; S3-compatible services follow them too.
 * Checking here turns a later, cryptic signature or DNS failure into an input error.
 */
function checkBucket(bucket, url) {
    const rules = 'Bucket names are 3-63 characters of lower-case letters, digits, dots and hyphens, ' +
        'starting and ending with a letter or digit';
    if (bucket === '')
        throw invalid(`The store input "${url}" names no bucket`);
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) || bucket.includes('..')) {
        throw invalid(`The store input names an invalid S3 bucket "${bucket}"`, `${rules}. ${ACCEPTED}.`);
    }
    if (/^\d+\.\d+\.\d+\.\d+$/.test(bucket)) {
        throw invalid(`The store input names "${bucket}", which is an IP address, not a bucket`, `${rules}.`);
    }
}
function parseS3Url(url) {
    const text = url.trim();
    if (!/^s3:\/\//i.test(text)) {
        throw invalid(`The store input "${text}" is not an s3:// URL`);
    }
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(text)) {
        throw invalid('The store input contains control characters');
    }
    const rest = text.slice('s3://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash === -1 ? rest : rest.slice(0, slash);
    checkBucket(bucket, text);
    const prefix = slash === -1 ? '' : rest.slice(slash + 1).replace(/^\/+|\/+$/g, '');
    // Empty or dot segments are legal in S3 keys but most tools mangle them, so a backup
    // stored under one would be hard to find again by hand.
    if (prefix !== '' && prefix.split('/').some((s) => s === '' || s === '.' || s === '..')) {
        throw invalid(`The store input "${text}" has an empty, "." or ".." path segment in its prefix`);
    }
    return { bucket, prefix };
}
function endpointFrom(env) {
    const name = env.AWS_ENDPOINT_URL_S3 ? 'AWS_ENDPOINT_URL_S3' : 'AWS_ENDPOINT_URL';
    const raw = env[name]?.trim();
    if (!raw)
        return undefined;
    let endpoint;
    try {
        endpoint = new URL(raw);
    }
    catch {
        throw invalid(`${name} is not a URL`, `Set ${name} to the service's address, for example https://s3.example.com`);
    }
    if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:') {
        throw invalid(`${name} must be an http:// or https:// URL, not ${endpoint.protocol}//`);
    }
    return endpoint;
}
/** Everything the S3 client needs, from the URL and the standard AWS variables of `env`. */
function resolveS3Settings(url, env) {
    const { bucket, prefix } = parseS3Url(url);
    const region = env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || 'us-east-1';
    const accessKeyId = env.AWS_ACCESS_KEY_ID?.trim();
    const secretAccessKey = env.AWS_SECRET_ACCESS_KEY?.trim();
    if (Boolean(accessKeyId) !== Boolean(secretAccessKey)) {
        const missing = accessKeyId ? 'AWS_SECRET_ACCESS_KEY' : 'AWS_ACCESS_KEY_ID';
        throw new errors/* LifeboatError */.H3('config', `${missing} is not set, but its partner is`, {
            hint: 'Set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither to use the default AWS credential chain',
        });
    }
    const sessionToken = env.AWS_SESSION_TOKEN?.trim() || undefined;
    // Without keys in env the SDK's own chain (profiles, web identity, instance roles) applies.
    const credentials = accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, sessionToken } : undefined;
    return { bucket, prefix, region, endpoint: endpointFrom(env), credentials };
}
/** A description safe to print: the URL plus a custom endpoint's host, never credentials. */
function describeS3Location(settings) {
    const url = `s3://${settings.bucket}${settings.prefix ? `/${settings.prefix}` : ''}`;
    return settings.endpoint ? `${url} at ${settings.endpoint.host}` : url;
}
/** Values that must be masked in any output: the secret key and the session token. */
function s3Secrets(env = process.env) {
    return [env.AWS_SECRET_ACCESS_KEY, env.AWS_SESSION_TOKEN]
        .map((v) => v?.trim())
        .filter((v) => Boolean(v));
}

;// CONCATENATED MODULE: ./src/stores/s3.ts











class S3Store {
    settings;
    secrets;
    options;
    kind = 's3';
    location;
    client;
    partSize;
    queueSize;
    conditionalWrites;
    objectLock;
    constructor(settings, secrets = [], options = {}) {
        this.settings = settings;
        this.secrets = secrets;
        this.options = options;
        this.location = describeS3Location(settings);
        this.partSize = options.partSize ?? 16 * 1024 * 1024;
        this.queueSize = options.queueSize ?? 3;
        this.conditionalWrites = options.conditionalWrites ?? settings.endpoint === undefined;
        const config = {
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
        this.client = new dist_cjs.S3Client(config);
    }
    async put(key, body, options = {}) {
        const fullKey = this.fullKey(key);
        const upload = new lib_storage_dist_cjs/* Upload */._({
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
        const release = (0,interrupt/* onInterrupt */.n)(async () => {
            await upload.abort();
            await finished.catch(() => undefined);
            await (0,promises_.setTimeout)(250);
            await this.abandon(fullKey, upload.uploadId);
        });
        try {
            await finished;
        }
        finally {
            release();
        }
    }
    async runUpload(upload, key, fullKey, body, options) {
        let sourceError;
        body.on('error', (error) => (sourceError = error));
        try {
            if (!options.overwrite && typeof (await this.headObject(key)) === 'object')
                throw this.alreadyExists(key);
            await upload.done();
        }
        catch (error) {
            // Unconsumed, the producer upstream would wait forever on back-pressure.
            body.destroy();
            await this.abandon(fullKey, upload.uploadId);
            if ((0,errors/* isLifeboatError */.rx)(error))
                throw error;
            if (sourceError !== undefined)
                throw sourceError;
            // If-None-Match lost the race to another writer: the object appeared during the upload.
            const name = error?.name;
            if ((0,s3_errors/* statusOf */.c2)(error) === 412 || name === 'ConditionalRequestConflict')
                throw this.alreadyExists(key);
            throw this.failure('store', key, error);
        }
    }
    async get(key) {
        const open = (from, etag) => getObjectFrom(this.client, this.settings.bucket, this.fullKey(key), from, etag).catch((error) => {
            if (!(0,s3_errors/* isMissing */.b2)(error))
                throw this.failure('read', key, error);
            throw new errors/* LifeboatError */.H3('not-found', `No object "${key}" in ${this.location}`, {
                hint: 'Check the store input and the backup name; list the bucket to see which backups exist',
            });
        });
        return resumableDownload(await open(0), async (from, etag) => (await open(from, etag)).body, 
        // A connection lost mid-download for good surfaces as a store error naming the key.
        (error) => ((0,errors/* isLifeboatError */.rx)(error) ? error : this.failure('read', key, error)), (from, error) => this.options.onResume?.(`Reading ${key} from ${this.location}: the connection dropped after ${from} bytes (${(0,s3_errors/* s3ServerSays */.Qz)(error, this.secrets)}); resuming there.`));
    }
    async list(prefix) {
        const keys = [];
        const root = this.settings.prefix ? `${this.settings.prefix}/` : '';
        try {
            const pages = (0,dist_cjs.paginateListObjectsV2)({ client: this.client }, { Bucket: this.settings.bucket, Prefix: root + prefix });
            for await (const page of pages) {
                for (const object of page.Contents ?? []) {
                    if (object.Key?.startsWith(root))
                        keys.push(object.Key.slice(root.length));
                }
            }
        }
        catch (error) {
            throw this.failure('list', prefix, error);
        }
        return keys;
    }
    async delete(key) {
        try {
            await this.client.send(new dist_cjs.DeleteObjectCommand({ Bucket: this.settings.bucket, Key: this.fullKey(key) }));
        }
        catch (error) {
            if (!(0,s3_errors/* isMissing */.b2)(error))
                throw this.failure('delete', key, error);
        }
    }
    async useObjectLock(lock) {
        await checkObjectLock(this.client, this.settings, this.secrets, this.location);
        this.objectLock = lock;
    }
    async lockedUntil(key) {
        try {
            return await retainedUntil(this.client, this.settings.bucket, this.fullKey(key));
        }
        catch (error) {
            throw this.failure('check', key, error);
        }
    }
    async listIncomplete(prefix) {
        const root = this.settings.prefix ? `${this.settings.prefix}/` : '';
        try {
            return await listPendingUploads(this.client, this.settings.bucket, root, prefix);
        }
        catch (error) {
            throw this.failure('list', prefix, error);
        }
    }
    async removeIncomplete(write) {
        try {
            await abortUpload(this.client, this.settings.bucket, this.fullKey(write.key), write.ref);
        }
        catch (error) {
            throw this.failure('delete', write.key, error);
        }
    }
    async close() {
        this.client.destroy();
    }
    fullKey(key) {
        return this.settings.prefix ? `${this.settings.prefix}/${key}` : key;
    }
    async stat(key) {
        const found = await this.headObject(key);
        if (found !== 'forbidden')
            return found;
        // HEAD was forbidden; a policy that allows listing can still answer, with sizes.
        const root = this.settings.prefix ? `${this.settings.prefix}/` : '';
        try {
            const pages = (0,dist_cjs.paginateListObjectsV2)({ client: this.client }, { Bucket: this.settings.bucket, Prefix: root + key });
            for await (const page of pages) {
                const object = page.Contents?.find((o) => o.Key === root + key);
                if (object)
                    return { sizeBytes: object.Size ?? 0 };
            }
        }
        catch (error) {
            throw this.failure('check', key, error);
        }
        return undefined;
    }
    /** HeadObject: never the body. 'forbidden' when the service will not say; see below. */
    async headObject(key) {
        try {
            const head = await this.client.send(new dist_cjs.HeadObjectCommand({ Bucket: this.settings.bucket, Key: this.fullKey(key) }));
            return { sizeBytes: head.ContentLength ?? 0 };
        }
        catch (error) {
            if ((0,s3_errors/* isMissing */.b2)(error))
                return undefined;
            // A write-only policy (no s3:GetObject) answers 403 here, and an answer to HEAD carries
            // no error code to tell bad credentials apart. The write itself says which it is.
            if ((0,s3_errors/* statusOf */.c2)(error) === 403)
                return 'forbidden';
            throw this.failure('check', key, error);
        }
    }
    /**
     * lib-storage aborts a failed multipart upload itself, but if that abort fails it loses the
     * original error and leaves the parts billed; one more try here, best effort.
     */
    async abandon(fullKey, uploadId) {
        if (!uploadId)
            return;
        const abort = { Bucket: this.settings.bucket, Key: fullKey, UploadId: uploadId };
        await this.client.send(new dist_cjs.AbortMultipartUploadCommand(abort)).catch(() => undefined);
    }
    alreadyExists(key) {
        const hint = 'Stored backups are never replaced; delete the object first if it really must go';
        return new errors/* LifeboatError */.H3('store', `Refusing to overwrite "${key}" in ${this.location}: it already exists`, {
            hint,
        });
    }
    failure(action, key, error) {
        const verb = { store: 'store', read: 'read', list: 'list', delete: 'delete', check: 'check for' }[action];
        const what = action === 'list' ? `keys under "${key}"` : `"${key}"`;
        const message = `Could not ${verb} ${what} in ${this.location}: ${(0,s3_errors/* s3ServerSays */.Qz)(error, this.secrets)}`;
        return new errors/* LifeboatError */.H3('store', message, { hint: (0,s3_errors/* s3Hint */.UK)(error, this.settings), cause: error });
    }
}
function createS3Store(url, env = process.env, options) {
    return new S3Store(resolveS3Settings(url, env), s3Secrets(env), options);
}


/***/ })

};
