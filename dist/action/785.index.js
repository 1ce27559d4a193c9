export const id = 785;
export const ids = [785];
export const modules = {

/***/ 1785:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  createActionsCacheStore: () => (/* binding */ createActionsCacheStore)
});

// UNUSED EXPORTS: ActionsCacheStore

// EXTERNAL MODULE: ./node_modules/@actions/cache/lib/cache.js + 344 modules
var cache = __webpack_require__(1863);
// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(3024);
// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __webpack_require__(1455);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(6760);
var external_node_path_default = /*#__PURE__*/__webpack_require__.n(external_node_path_);
// EXTERNAL MODULE: external "node:stream/promises"
var external_node_stream_promises_ = __webpack_require__(6466);
// EXTERNAL MODULE: ./src/errors.ts
var errors = __webpack_require__(3916);
// EXTERNAL MODULE: ./src/log.ts
var log = __webpack_require__(5625);
// EXTERNAL MODULE: ./src/settings/environment.ts
var environment = __webpack_require__(7840);
;// CONCATENATED MODULE: ./src/stores/actions-cache-client.ts



/**
 * Runs @actions/cache calls in a controlled world. The client reads its configuration from
 * process.env at call time and reports through @actions/core, which writes workflow
 * commands (`::debug::`, `::warning::`, `::add-mask::`) straight to stdout. So, for the
 * length of one call, and one call at a time:
 * - process.env carries exactly the settings of the store's env (set, then put back), and
 *   none of the secrets the client's `tar` and `zstd` would otherwise inherit (see HIDDEN);
 * - stdout is captured, each line is forwarded to the Log (masks as secrets, the rest as
 *   debug, transfer lines as progress) and kept, because the lines are the only place the
 *   client says why it returned -1 or undefined.
 */
/** Variables the client reads; each is taken from the store's env, or unset. */
const CLIENT_VARIABLES = [
    'ACTIONS_CACHE_SERVICE_V2',
    'ACTIONS_RESULTS_URL',
    'ACTIONS_RUNTIME_TOKEN',
    'ACTIONS_CACHE_URL',
    'ACTIONS_CACHE_MODE',
    'GITHUB_SERVER_URL',
    'SEGMENT_DOWNLOAD_TIMEOUT_MINS',
    // Both the client and the Azure SDK it uploads and downloads with honour these.
    ...['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'NO_PROXY'].flatMap((name) => [name, name.toLowerCase()]),
];
/** The one file inside every cache entry; see `OBJECT_PATH`. */
const OBJECT_FILE = 'lifeboat-object';
/**
 * The path string handed to saveCache and restoreCache. The entry's version is a hash of
 * this exact string, so it must be the same in every run: an absolute temp path would
 * make each run's entries invisible to the next. `~` is expanded by the client's glob from
 * HOME, which a session points at its private work directory (GITHUB_WORKSPACE too, which
 * is where tar archives from and extracts to), so the fixed string names a fresh file.
 * Unlike changing the working directory, this touches nothing the rest of the process
 * resolves relative paths against. The version also covers the compression the client
 * picks (zstd when installed, else gzip), so entries are readable where zstd is equally
 * present: the same runner image. (That pass gains nothing: the bytes are encrypted.)
 */
const OBJECT_PATH = `~${(external_node_path_default()).sep}${OBJECT_FILE}`;
/**
 * Secrets hidden from process.env for the length of a call: the client starts `tar` and
 * `zstd` with a copy of process.env (it offers no other way), and they need none of them.
 * The client's own settings (ACTIONS_RUNTIME_TOKEN and the URLs) it must read from there.
 */
const HIDDEN = /^(INPUT_|LIFEBOAT_|AWS_|PG|ACTIONS_ID_TOKEN_REQUEST_)|^(GITHUB_TOKEN|GH_TOKEN|DATABASE_URL)$/;
let queue = Promise.resolve();
/** Runs `fn` with the client's world set up for `workDir`; returns its value and output. */
function withCacheClient(env, workDir, log, fn) {
    const run = queue.then(async () => {
        const restoreEnv = overlay({
            ...Object.fromEntries(Object.keys(process.env)
                .filter((n) => HIDDEN.test(n))
                .map((n) => [n, undefined])),
            ...Object.fromEntries(CLIENT_VARIABLES.map((name) => [name, env[name]])),
            // RUNNER_DEBUG would make the client list every archive it handles.
            RUNNER_DEBUG: undefined,
            RUNNER_TEMP: workDir,
            GITHUB_WORKSPACE: workDir,
            HOME: workDir,
            ...(process.platform === 'win32' ? { USERPROFILE: workDir } : {}),
        });
        const capture = captureStdout(log);
        try {
            const value = await fn();
            return { value, lines: capture.lines };
        }
        finally {
            capture.stop();
            restoreEnv();
        }
    });
    queue = run.catch(() => undefined);
    return run;
}
function overlay(values) {
    const saved = new Map();
    for (const [name, value] of Object.entries(values)) {
        saved.set(name, process.env[name]);
        setVariable(name, value);
    }
    return () => saved.forEach((value, name) => setVariable(name, value));
}
function setVariable(name, value) {
    if (value === undefined)
        delete process.env[name];
    else
        process.env[name] = value;
}
const COMMAND = /^::([a-z-]+)(?: [^:]*)?::(.*)$/;
const TRANSFER = /^(Sent|Received) \d+ of \d+/;
function captureStdout(log) {
    const lines = [];
    const original = process.stdout.write;
    let pending = '';
    let forwarding = false;
    const handle = (raw) => {
        const command = COMMAND.exec(raw);
        const text = command ? unescapeData(command[2] ?? '') : raw;
        const name = command?.[1];
        if (name === 'add-mask')
            return log.secret(text);
        if (command && name !== 'debug' && name !== 'warning' && name !== 'error')
            return;
        const level = name === 'debug' || name === 'warning' || name === 'error' ? name : 'info';
        lines.push({ level, text });
        if (TRANSFER.test(text))
            log.progress(text);
        else
            log.debug(level === 'info' || level === 'debug' ? text : `${level}: ${text}`);
    };
    process.stdout.write = function (chunk, ...rest) {
        // The Log itself may write to stdout (the action's does); let that through untouched.
        if (forwarding)
            return original.call(process.stdout, chunk, ...rest);
        pending += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
        const parts = pending.split(/\r?\n/);
        pending = parts.pop() ?? '';
        forwarding = true;
        try {
            parts.filter((part) => part.length > 0).forEach(handle);
        }
        finally {
            forwarding = false;
        }
        const callback = rest.find((arg) => typeof arg === 'function');
        if (callback)
            process.nextTick(callback);
        return true;
    };
    return {
        lines,
        stop() {
            process.stdout.write = original;
            if (pending)
                handle(pending);
        },
    };
}
/** Undoes @actions/core's escaping of command data. */
function unescapeData(text) {
    return text.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
}
/** Refuses early, and says why, where the client would only fail vaguely. */
function requireCacheService(env) {
    // The client's own test for GitHub Enterprise Server, where it falls back to service v1.
    const host = /^[a-z]+:\/\/([^/:]+)/i.exec((0,environment/* githubServerUrl */.EI)(env))?.[1] ?? '';
    if (!/^(github\.com|.*\.ghe\.com|.*\.localhost)$/i.test(host)) {
        throw new errors/* LifeboatError */.H3('unsupported', 'The actions-cache store needs cache service v2, which GitHub Enterprise Server lacks.', {
            hint: 'Use an S3-compatible or local store on GitHub Enterprise Server.',
        });
    }
    const missing = ['ACTIONS_CACHE_SERVICE_V2', 'ACTIONS_RESULTS_URL', 'ACTIONS_RUNTIME_TOKEN'].filter((n) => !env[n]);
    if (missing.length > 0) {
        throw new errors/* LifeboatError */.H3('unsupported', `The GitHub Actions cache is not reachable here: ${missing.join(', ')} not set.`, {
            hint: 'Only an action step receives the cache credentials: run Lifeboat with `uses:` (not the CLI in a `run:` step), or choose an S3 or local store.',
        });
    }
}

// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(7598);
// EXTERNAL MODULE: ./src/archive/backup-id.ts
var backup_id = __webpack_require__(2338);
// EXTERNAL MODULE: ./src/archive/store-keys.ts
var store_keys = __webpack_require__(7360);
;// CONCATENATED MODULE: ./src/stores/actions-cache-keys.ts




/**
 * Store keys ↔ GitHub Actions cache keys. Pure; no I/O.
 *
 * Cache entries are immutable, so every write of a store key creates a new entry and a
 * read takes the newest one. The service looks a key up by exact match, then by prefix,
 * then each restore key by prefix, always preferring the newest entry, so the layout is
 * chosen so that each prefix matches exactly the entries it is meant to:
 *
 *   lifeboat/<name>/manifest/<id>.json             manifest, first write: one entry per backup
 *   lifeboat/<name>/manifest-rev/<id>/<stamp>      manifest, later revisions (drills raising the level)
 *   lifeboat/<name>/archive/<id>/<stamp>-s<bytes>  archive
 *   lifeboat/=/<key>/<stamp>                       any other store key
 *
 * First writes of manifests live apart from their revisions because "newest entry under
 * lifeboat/<name>/manifest/" must mean the newest backup; if a drill's rewrite of an old
 * manifest landed there it would win. `<name>` and `<key>` are URI-component encoded, so
 * they hold no '/' (a name cannot reach into another name's entries) and no ',' (the
 * client forbids commas); '=' is always encoded, so `=` cannot be a name. Backup ids have
 * a fixed shape, and `.json` and the trailing '/' end every prefix, so no entry of one
 * key is ever a prefix match for another key.
 *
 * Every write gets a fresh `<stamp>` (time + random) rather than a counter: an upload that
 * fails after reservation leaves its key reserved, and a counter would reuse it forever.
 * Revisions end in `-s<bytes>`, the size of the object the entry holds: the cache service
 * tells an entry's size only as its compressed tarball (and only through the REST API),
 * so a lookup that returns the matched key is the one way to learn an object's size
 * without downloading it (the gate's check). Entries are immutable, so the size written
 * into the key cannot drift from the bytes.
 */
const CACHE_KEY_ROOT = 'lifeboat/';
const OTHER = '=';
const MAX_KEY_LENGTH = 512;
const STAMP_LENGTH = '20261124T000312345Z-9f2c'.length + '-s'.length + 15;
function parseBackupKey(storeKey) {
    const kind = storeKey.endsWith(store_keys/* MANIFEST_SUFFIX */.OK)
        ? 'manifest'
        : storeKey.endsWith(store_keys/* ARCHIVE_SUFFIX */.To)
            ? 'archive'
            : undefined;
    if (!kind)
        return undefined;
    const slash = storeKey.lastIndexOf('/');
    const name = storeKey.slice(0, slash);
    const id = storeKey.slice(slash + 1, -(kind === 'manifest' ? store_keys/* MANIFEST_SUFFIX */.OK : store_keys/* ARCHIVE_SUFFIX */.To).length);
    return slash > 0 && (0,backup_id/* isBackupId */["if"])(id) ? { name, id, kind } : undefined;
}
function checked(cacheKey, storeKey) {
    // Room for the longest stamp, so a key that fits today fits on every later write too.
    if (cacheKey.length + STAMP_LENGTH > MAX_KEY_LENGTH) {
        throw new errors/* LifeboatError */.H3('store', `The key ${storeKey} is too long for the GitHub Actions cache.`, {
            hint: `Cache keys are limited to ${MAX_KEY_LENGTH} characters; use a shorter backup name.`,
        });
    }
    return cacheKey;
}
function slotFor(storeKey) {
    const backup = parseBackupKey(storeKey);
    if (!backup)
        return {
            revisionPrefix: checked(`${CACHE_KEY_ROOT}${OTHER}/${encodeURIComponent(storeKey)}/`, storeKey),
        };
    const base = `${CACHE_KEY_ROOT}${encodeURIComponent(backup.name)}`;
    if (backup.kind === 'archive')
        return { revisionPrefix: checked(`${base}/archive/${backup.id}/`, storeKey) };
    return {
        revisionPrefix: checked(`${base}/manifest-rev/${backup.id}/`, storeKey),
        firstKey: `${base}/manifest/${backup.id}.json`,
    };
}
/**
 * The cache key a write should create, given whether the store key already has an entry,
 * and the size of the object it holds (see above; a manifest's first write has no room).
 */
function writeKey(slot, exists, stamp = newStamp(), sizeBytes) {
    if (!exists && slot.firstKey)
        return slot.firstKey;
    return `${slot.revisionPrefix}${stamp}${sizeBytes === undefined ? '' : `-s${sizeBytes}`}`;
}
/** The object size an entry of this slot recorded in its key; undefined when it has none. */
function sizeOf(slot, cacheKey) {
    if (!cacheKey.startsWith(slot.revisionPrefix))
        return undefined;
    const size = /-s(\d{1,15})$/.exec(cacheKey.slice(slot.revisionPrefix.length))?.[1];
    return size === undefined ? undefined : Number(size);
}
/** Whether an entry the service matched really belongs to this slot. */
function belongsTo(slot, cacheKey) {
    return cacheKey === slot.firstKey || cacheKey.startsWith(slot.revisionPrefix);
}
/** The prefix under which the newest entry is the newest backup of a set. */
function latestManifestPrefix(name) {
    return `${CACHE_KEY_ROOT}${encodeURIComponent(name)}/manifest/`;
}
/** The store key a cache entry stands for, or undefined for entries that are not ours. */
function storeKeyOf(cacheKey) {
    if (!cacheKey.startsWith(CACHE_KEY_ROOT))
        return undefined;
    const [head, kind, rest] = cacheKey.slice(CACHE_KEY_ROOT.length).split('/');
    if (head === undefined || kind === undefined || rest === undefined)
        return undefined;
    try {
        if (head === OTHER)
            return decodeURIComponent(kind);
        const name = decodeURIComponent(head);
        if (kind === 'archive' && (0,backup_id/* isBackupId */["if"])(rest))
            return `${name}/${rest}${store_keys/* ARCHIVE_SUFFIX */.To}`;
        if (kind === 'manifest-rev' && (0,backup_id/* isBackupId */["if"])(rest))
            return `${name}/${rest}${store_keys/* MANIFEST_SUFFIX */.OK}`;
        const id = rest.slice(0, -'.json'.length);
        if (kind === 'manifest' && rest.endsWith('.json') && (0,backup_id/* isBackupId */["if"])(id))
            return `${name}/${id}${store_keys/* MANIFEST_SUFFIX */.OK}`;
    }
    catch {
        // A malformed %-sequence: not a key this store wrote.
    }
    return undefined;
}
/** The backup id of a first-write manifest entry of `name`, from a latest lookup. */
function backupIdOf(cacheKey, name) {
    const prefix = latestManifestPrefix(name);
    if (!cacheKey.startsWith(prefix) || !cacheKey.endsWith('.json'))
        return undefined;
    const id = cacheKey.slice(prefix.length, -'.json'.length);
    return (0,backup_id/* isBackupId */["if"])(id) ? id : undefined;
}
/** `20261124T000312345Z-9f2c`: when, plus randomness so two writers never share a key. */
function newStamp(now = new Date(), random = (0,external_node_crypto_.randomBytes)(2).toString('hex')) {
    return `${now.toISOString().replace(/[-:.]/g, '')}-${random}`;
}

;// CONCATENATED MODULE: ./src/stores/actions-cache-outcome.ts

/**
 * What the cache client's output means. saveCache reports most failures by returning -1
 * and restoreCache answers undefined for a miss and for most failures alike; the reason
 * is only in what they logged, which withCacheClient keeps.
 */
/**
 * The client's own account of a failure: warnings, errors and its "Failed to …" lines.
 * It often says the same thing twice ("uploadCacheArchiveSDK: …: X" then "Failed to
 * save: X"); lines are kept once per final clause.
 */
function problemsIn(lines) {
    const problems = lines
        .filter((l) => l.level === 'warning' || l.level === 'error' || l.text.startsWith('Failed to'))
        .map((l) => l.text.split('\n')[0] ?? l.text);
    const chosen = problems.length > 0
        ? problems
        : lines
            .filter((l) => l.level === 'info')
            .map((l) => l.text)
            .slice(-3);
    const seen = new Set();
    return chosen.filter((text) => {
        const clause = text.slice(text.lastIndexOf(': ') + 1).trim();
        if (seen.has(clause))
            return false;
        seen.add(clause);
        return true;
    });
}
/**
 * Whether restoreCache's undefined meant "no such entry". The client logs this debug line
 * only when the service answered the lookup and found nothing; every failure path logs a
 * warning or error instead. Anything else (a new wording, a skipped read) is treated as a
 * failure: a read must never look like "no backup" by accident.
 */
function reportedMiss(lines) {
    return lines.some((l) => l.level === 'debug' && l.text.startsWith('Cache not found for version'));
}
function readFailure(what, lines, mask) {
    return new errors/* LifeboatError */.H3('store', mask(describe(`Could not ${what} in the GitHub Actions cache`, lines)), {
        hint: 'This is a failure of the cache service or the transfer, not a missing backup. Re-run the job; a run started by an untrusted event may not be allowed to read the cache.',
    });
}
function saveFailure(key, lines, mask) {
    const text = mask(describe(`Could not save ${key} to the GitHub Actions cache`, lines));
    const contended = /already exists|another job may be/i.test(text);
    return new errors/* LifeboatError */.H3('store', text, {
        hint: contended
            ? 'Another writer holds this cache key (a failed upload keeps its key reserved for a while). Run the job again; every write uses a new key.'
            : 'Nothing was stored. Re-run the job; if it keeps failing, compare the repository cache usage (Settings, Actions, Caches) with its size limit.',
    });
}
function describe(headline, lines) {
    const problems = problemsIn(lines);
    return problems.length > 0 ? `${headline}: ${problems.join('; ')}` : `${headline}.`;
}

// EXTERNAL MODULE: ./src/github/index.ts + 5 modules
var github = __webpack_require__(3038);
;// CONCATENATED MODULE: ./src/stores/actions-cache-rest.ts



const PER_PAGE = 100;
class CachesApi {
    ctx;
    constructor(ctx) {
        this.ctx = ctx;
    }
    /** Every entry whose key starts with `keyPrefix`, all pages. */
    async list(keyPrefix) {
        const { owner, repo } = this.ctx;
        const entries = [];
        for (let page = 1;; page++) {
            const body = await this.call('list the GitHub Actions cache', async (octokit) => {
                const query = { owner, repo, key: keyPrefix, per_page: PER_PAGE, page };
                return (await octokit.rest.actions.getActionsCacheList(query)).data;
            });
            const items = body.actions_caches ?? [];
            entries.push(...items.map((c) => ({
                key: c.key ?? '',
                ref: c.ref ?? '',
                sizeInBytes: c.size_in_bytes ?? 0,
                createdAt: c.created_at ?? '',
                lastAccessedAt: c.last_accessed_at ?? c.created_at ?? '',
            })));
            // Stop on the total, not on a short page: the server may cap per_page below what we ask.
            if (items.length === 0 || entries.length >= body.total_count)
                return entries;
        }
    }
    /** Deletes every entry with exactly this key; an absent key is not an error. */
    async delete(key) {
        const { owner, repo } = this.ctx;
        await this.call(`delete ${key} from the GitHub Actions cache`, (octokit) => octokit.rest.actions.deleteActionsCacheByKey({ owner, repo, key }), [404]);
    }
    /** One call, its failure told as the store's (or the token's) to fix. */
    async call(what, request, acceptable = []) {
        const octokit = await (0,github/* octokitFor */.d_)(this.ctx);
        try {
            return await request(octokit);
        }
        catch (error) {
            const status = error.status;
            if (typeof status !== 'number') {
                throw new errors/* LifeboatError */.H3('store', `Could not ${what}: ${error.message}`, {
                    hint: `Check that ${this.ctx.apiUrl} is reachable from this runner.`,
                    cause: error,
                });
            }
            if (acceptable.includes(status))
                return undefined;
            const data = error.response?.data;
            const detail = typeof data === 'string' ? data : JSON.stringify(data ?? '');
            const message = `Could not ${what}: HTTP ${status} ${detail.slice(0, 200)}`.trim();
            if (status === 401 || status === 403) {
                throw new errors/* LifeboatError */.H3('permission', message, {
                    hint: 'Pass `github-token` with `actions: write` permission (`actions: read` is enough to list).',
                });
            }
            throw new errors/* LifeboatError */.H3('store', message, {
                hint: 'The GitHub API refused the request; re-run the job.',
            });
        }
    }
}
/** The REST client for a store's settings; without a token only lookups by prefix work. */
function cachesApiFor(env, token, verb) {
    const ctx = (0,github/* githubContextFromEnv */.S0)(token, env);
    if (!ctx) {
        const permission = verb === 'list' ? 'actions: read' : 'actions: write';
        const where = (0,environment/* repositoryName */.aR)(env) ? '' : ', and run inside a workflow so GITHUB_REPOSITORY is set';
        throw new errors/* LifeboatError */.H3('unsupported', `The actions-cache store cannot ${verb} entries without a GitHub token.`, {
            hint: `Pass \`github-token\` (a token with \`${permission}\` permission) so Lifeboat can use the REST caches API${where}.`,
        });
    }
    return new CachesApi(ctx);
}

// EXTERNAL MODULE: ./src/tempfiles.ts
var tempfiles = __webpack_require__(3646);
;// CONCATENATED MODULE: ./src/stores/actions-cache.ts













/**
 * Backups in the repository's GitHub Actions cache, through the real @actions/cache client
 * (service v2). Each store key is its own entry holding one file, so reading a manifest
 * never downloads an archive; see actions-cache-keys.ts for the layout and how entries,
 * being immutable, still allow a manifest to be rewritten.
 */
class ActionsCacheStore {
    options;
    kind = 'actions-cache';
    location;
    env;
    log;
    tempDir;
    /** Work directories in use, each with the function that stops its removal on exit. */
    workDirs = new Map();
    constructor(options = {}) {
        this.options = options;
        this.env = options.env ?? process.env;
        this.log = options.log ?? new log/* MemoryLog */.eu();
        this.tempDir = options.tempDir || (0,environment/* tempRoot */.fQ)(this.env);
        const repository = (0,environment/* repositoryName */.aR)(this.env);
        this.location = repository ? `actions-cache:${repository}` : 'actions-cache';
        this.log.secret(this.env.ACTIONS_RUNTIME_TOKEN ?? '');
        this.log.secret(this.token() ?? '');
    }
    async put(key, body, options = {}) {
        const dir = await this.newWorkDir();
        try {
            requireCacheService(this.env);
            const slot = slotFor(key);
            const existing = await this.find(slot, dir, true, `check for ${key}`);
            if (existing !== undefined && !options.overwrite) {
                throw new errors/* LifeboatError */.H3('store', `The GitHub Actions cache already holds ${key}; refusing to overwrite it.`, {
                    hint: 'Backup ids never repeat; this means two writers chose the same key. Run the backup again.',
                });
            }
            // saveCache only takes files; the body is already encrypted, so a private copy is safe.
            const sizeBytes = await spool(body, external_node_path_default().join(dir, OBJECT_FILE), key);
            const cacheKey = writeKey(slot, existing !== undefined, undefined, sizeBytes);
            const { value, lines } = await this.client(dir, `save ${key}`, () => cache/* saveCache */.Io([OBJECT_PATH], cacheKey));
            if (value === -1)
                throw saveFailure(key, lines, (t) => this.log.mask(t));
            this.log.debug(`Saved ${key} as cache entry ${cacheKey}`);
        }
        catch (error) {
            body.destroy();
            throw error;
        }
        finally {
            await this.removeWorkDir(dir);
        }
    }
    async get(key) {
        const dir = await this.newWorkDir();
        try {
            requireCacheService(this.env);
            const slot = slotFor(key);
            const matched = await this.find(slot, dir, false, `read ${key}`);
            if (matched === undefined || !belongsTo(slot, matched)) {
                throw new errors/* LifeboatError */.H3('not-found', `The GitHub Actions cache has no ${key}.`, {
                    hint: 'Check the name and backup-id inputs. Cache entries unused for 7 days are evicted, and a branch sees only its own and the default branch entries.',
                });
            }
            const handle = await (0,promises_.open)(external_node_path_default().join(dir, OBJECT_FILE), 'r').catch((error) => {
                throw new errors/* LifeboatError */.H3('store', `The cache client reported ${key} restored, but no file arrived: ${error.message}`, {
                    cause: error,
                });
            });
            const stream = handle.createReadStream();
            // An open handle keeps the bytes readable after the directory goes (POSIX), so the
            // private copy is removed now; where that fails it goes when the stream closes.
            stream.once('close', () => void this.removeWorkDir(dir));
            await this.removeWorkDir(dir);
            return stream;
        }
        catch (error) {
            await this.removeWorkDir(dir);
            throw error;
        }
    }
    /**
     * A lookup without download (so it needs no REST token either): the size comes from the
     * matched entry's key, where `put` recorded it (see actions-cache-keys.ts).
     */
    async stat(key) {
        const dir = await this.newWorkDir();
        try {
            requireCacheService(this.env);
            const slot = slotFor(key);
            const matched = await this.find(slot, dir, true, `check ${key}`);
            if (matched === undefined || !belongsTo(slot, matched))
                return undefined;
            const sizeBytes = sizeOf(slot, matched);
            if (sizeBytes === undefined) {
                throw new errors/* LifeboatError */.H3('store', `The GitHub Actions cache entry ${matched} holding ${key} does not record the size of its object, and the cache cannot tell it without a download.`, {
                    hint: 'Lifeboat records the size in every entry it writes; this one came from an older version or another tool. Take a new backup.',
                });
            }
            return { sizeBytes };
        }
        finally {
            await this.removeWorkDir(dir);
        }
    }
    async latestBackupId(name) {
        const dir = await this.newWorkDir();
        try {
            requireCacheService(this.env);
            const matched = await this.restore(latestManifestPrefix(name), [], dir, true, `find the latest backup of ${name}`);
            return matched === undefined ? undefined : backupIdOf(matched, name);
        }
        finally {
            await this.removeWorkDir(dir);
        }
    }
    async list(prefix) {
        const entries = await cachesApiFor(this.env, this.token(), 'list').list(CACHE_KEY_ROOT);
        const keys = entries
            .map((e) => storeKeyOf(e.key))
            .filter((k) => k?.startsWith(prefix) === true);
        return [...new Set(keys)];
    }
    /** The newest entry's last access, from the REST list (a token with `actions: read`). */
    async lastAccessedAt(key) {
        const api = cachesApiFor(this.env, this.token(), 'list');
        const slot = slotFor(key);
        const found = await api.list(slot.revisionPrefix);
        if (slot.firstKey)
            found.push(...(await api.list(slot.firstKey)));
        const times = found
            .filter((e) => belongsTo(slot, e.key))
            .map((e) => Date.parse(e.lastAccessedAt))
            .filter((t) => Number.isFinite(t));
        return times.length ? new Date(Math.max(...times)) : undefined;
    }
    async delete(key) {
        const api = cachesApiFor(this.env, this.token(), 'delete');
        const slot = slotFor(key);
        const found = await api.list(slot.revisionPrefix);
        if (slot.firstKey)
            found.push(...(await api.list(slot.firstKey)));
        const keys = [...new Set(found.map((e) => e.key).filter((k) => belongsTo(slot, k)))];
        // Revisions first: an interrupted delete then leaves an older, still valid manifest.
        for (const k of keys.sort((a, b) => Number(a === slot.firstKey) - Number(b === slot.firstKey))) {
            await api.delete(k);
        }
    }
    async close() {
        await Promise.all([...this.workDirs.keys()].map((dir) => this.removeWorkDir(dir)));
    }
    /** The newest entry of a store key; `lookupOnly` skips the download. */
    find(slot, dir, lookupOnly, what) {
        // The primary key matches no entry exactly, so the service takes the newest entry under
        // it by prefix; a manifest's first write is the fallback restore key.
        return this.restore(slot.revisionPrefix, slot.firstKey ? [slot.firstKey] : [], dir, lookupOnly, what);
    }
    async restore(primary, restoreKeys, dir, lookupOnly, what) {
        const { value, lines } = await this.client(dir, what, () => cache/* restoreCache */.P3([OBJECT_PATH], primary, restoreKeys, { lookupOnly }));
        if (value !== undefined)
            return value;
        // restoreCache answers undefined for a miss and for nearly every failure alike.
        if (reportedMiss(lines))
            return undefined;
        throw readFailure(what, lines, (t) => this.log.mask(t));
    }
    async client(dir, what, call) {
        try {
            return await withCacheClient(this.env, dir, this.log, call);
        }
        catch (error) {
            // The client throws only for invalid arguments; everything else it reports and swallows.
            throw new errors/* LifeboatError */.H3('store', this.log.mask(`Could not ${what}: ${error.message}`), {
                cause: error,
            });
        }
    }
    token() {
        return this.options.token || (0,environment/* githubTokenFromEnv */.qN)(this.env);
    }
    async newWorkDir() {
        const dir = await (0,promises_.mkdtemp)(external_node_path_default().join(this.tempDir, 'lifeboat-cache-')).catch((error) => {
            throw new errors/* LifeboatError */.H3('disk', `Cannot create a work directory in ${this.tempDir}: ${error.message}`, {
                hint: 'The actions-cache store stages each object there; point RUNNER_TEMP or the temp directory at a writable disk.',
                cause: error,
            });
        });
        // A signal skips every finally: the staged copy must still go.
        this.workDirs.set(dir, (0,tempfiles/* removeOnExit */.o$)(dir));
        return dir;
    }
    async removeWorkDir(dir) {
        try {
            await (0,promises_.rm)(dir, { recursive: true, force: true });
            this.workDirs.get(dir)?.();
            this.workDirs.delete(dir);
        }
        catch {
            // Still open elsewhere (Windows); the stream's close or close() removes it.
        }
    }
}
/** Writes the body to `file` and returns its size in bytes. */
async function spool(body, file, key) {
    try {
        await (0,external_node_stream_promises_.pipeline)(body, (0,external_node_fs_.createWriteStream)(file, { flags: 'wx', mode: 0o600 }));
        return (await (0,promises_.stat)(file)).size;
    }
    catch (error) {
        if (error.code === 'ENOSPC') {
            throw new errors/* LifeboatError */.H3('disk', `The runner ran out of temporary space while staging ${key} for the cache.`, {
                hint: 'Free space on the runner or set a temp directory on a larger disk; nothing was stored.',
                cause: error,
            });
        }
        throw error;
    }
}
function createActionsCacheStore(options = {}) {
    return new ActionsCacheStore(options);
}


/***/ })

};
