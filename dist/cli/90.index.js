export const id = 90;
export const ids = [90];
export const modules = {

/***/ 7090:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   StorageClient: () => (/* binding */ StorageClient)
/* harmony export */ });
/* unused harmony export objectName */
/* harmony import */ var node_crypto__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(7598);
/* harmony import */ var node_crypto__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_crypto__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var _aws_sdk_client_s3__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(3711);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(3916);
/* harmony import */ var _stores_s3_errors_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(9164);




const AUTH_ERROR = /^(InvalidAccessKeyId|SignatureDoesNotMatch|AccessDenied|(Expired|Invalid)Token)$/;
/**
 * The Storage service's S3 protocol (Supabase: `https://<ref>.supabase.co/storage/v1/s3`),
 * one method per use. Path-style addressing and WHEN_REQUIRED checksums, as for every custom
 * S3 endpoint (see stores/s3.ts): the aws-chunked bodies of the SDK's default checksums are
 * refused by many S3-compatible services. Errors name the endpoint, bucket and key, never
 * the secret key.
 */
class StorageClient {
    secrets;
    where;
    client;
    constructor(settings, credentials, secrets = [credentials.secretAccessKey]) {
        this.secrets = secrets;
        this.where = `Storage at ${settings.endpoint.host}`;
        this.client = new _aws_sdk_client_s3__WEBPACK_IMPORTED_MODULE_2__.S3Client({
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
    async listBuckets() {
        try {
            const answer = await this.client.send(new _aws_sdk_client_s3__WEBPACK_IMPORTED_MODULE_2__.ListBucketsCommand({}));
            return (answer.Buckets ?? [])
                .map((b) => b.Name ?? '')
                .filter(Boolean)
                .sort();
        }
        catch (error) {
            throw this.failure('list the buckets of', undefined, error);
        }
    }
    /** Every object of a bucket under `prefix`, all pages, in key order. */
    async listObjects(bucket, prefix = '') {
        const objects = [];
        try {
            const pages = (0,_aws_sdk_client_s3__WEBPACK_IMPORTED_MODULE_2__.paginateListObjectsV2)({ client: this.client, pageSize: 1000 }, { Bucket: bucket, Prefix: prefix || undefined });
            for await (const page of pages) {
                for (const o of page.Contents ?? []) {
                    if (o.Key === undefined)
                        continue;
                    objects.push({ bucket, key: o.Key, sizeBytes: o.Size ?? 0, modified: o.LastModified });
                }
            }
        }
        catch (error) {
            throw this.failure('list', `bucket "${bucket}"`, error);
        }
        return objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    }
    /** The object, or undefined when it is gone (deleted since it was listed). */
    async get(bucket, key) {
        try {
            const answer = await this.client.send(new _aws_sdk_client_s3__WEBPACK_IMPORTED_MODULE_2__.GetObjectCommand({ Bucket: bucket, Key: key }));
            return {
                body: answer.Body,
                sizeBytes: answer.ContentLength ?? 0,
                contentType: answer.ContentType,
                cacheControl: answer.CacheControl,
                metadata: answer.Metadata ?? {},
            };
        }
        catch (error) {
            if ((0,_stores_s3_errors_js__WEBPACK_IMPORTED_MODULE_3__/* .isMissing */ .b2)(error))
                return undefined;
            throw this.failure('read', objectName(bucket, key), error);
        }
    }
    /** SHA-256 of an object's bytes, read whole; undefined when it is gone. */
    async hash(bucket, key) {
        const object = await this.get(bucket, key);
        if (!object)
            return undefined;
        const hash = (0,node_crypto__WEBPACK_IMPORTED_MODULE_0__.createHash)('sha256');
        try {
            for await (const chunk of object.body)
                hash.update(chunk);
        }
        catch (error) {
            throw this.failure('read', objectName(bucket, key), error);
        }
        return hash.digest('hex');
    }
    async put(object) {
        try {
            await this.client.send(new _aws_sdk_client_s3__WEBPACK_IMPORTED_MODULE_2__.PutObjectCommand({
                Bucket: object.bucket,
                Key: object.key,
                Body: object.body,
                ContentLength: object.sizeBytes,
                ContentType: object.contentType,
                CacheControl: object.cacheControl,
                Metadata: object.metadata,
            }));
        }
        catch (error) {
            throw this.failure('write', objectName(object.bucket, object.key), error);
        }
    }
    async delete(bucket, key) {
        try {
            await this.client.send(new _aws_sdk_client_s3__WEBPACK_IMPORTED_MODULE_2__.DeleteObjectCommand({ Bucket: bucket, Key: key }));
        }
        catch (error) {
            if (!(0,_stores_s3_errors_js__WEBPACK_IMPORTED_MODULE_3__/* .isMissing */ .b2)(error))
                throw this.failure('delete', objectName(bucket, key), error);
        }
    }
    close() {
        this.client.destroy();
    }
    failure(verb, what, error) {
        const e = (error ?? {});
        const says = (0,_stores_s3_errors_js__WEBPACK_IMPORTED_MODULE_3__/* .s3ServerSays */ .Qz)(error, this.secrets);
        const subject = what ? `${what} in ${this.where}` : this.where;
        if (AUTH_ERROR.test(e.name ?? '') || (0,_stores_s3_errors_js__WEBPACK_IMPORTED_MODULE_3__/* .statusOf */ .c2)(error) === 403) {
            return new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .LifeboatError */ .H3('auth', `Could not ${verb} ${subject}: the Storage endpoint refused the credentials (${says}).`, {
                hint: 'Check LIFEBOAT_STORAGE_ACCESS_KEY_ID and LIFEBOAT_STORAGE_SECRET_ACCESS_KEY: for Supabase, create S3 access keys under Project Settings → Storage, and set storage-region to the project region.',
                cause: error,
            });
        }
        if (e.name === 'NoSuchBucket') {
            return new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .LifeboatError */ .H3('not-found', `Could not ${verb} ${subject}: no such bucket (${says}).`, {
                hint: 'Check the input storage-buckets against the buckets the project has (Supabase: Storage in the dashboard).',
                cause: error,
            });
        }
        return new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .LifeboatError */ .H3('store', `Could not ${verb} ${subject}: ${says}.`, {
            hint: 'Check that storage-url is the S3 endpoint of the Storage service (Supabase: https://<project-ref>.supabase.co/storage/v1/s3) and that it is reachable from here.',
            cause: error,
        });
    }
}
/** How errors and reports name one object: bucket and key, the key quoted as it is. */
function objectName(bucket, key) {
    return `"${bucket}/${key}"`;
}


/***/ }),

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


/***/ })

};
