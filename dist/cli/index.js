#!/usr/bin/env node
import { createRequire as __WEBPACK_EXTERNAL_createRequire } from "module";
/******/ var __webpack_modules__ = ({

/***/ 785:
/***/ ((__unused_webpack_module, exports) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
// This is an empty module that is served up when outside of a workerd environment
// See the `exports` field in package.json
exports["default"] = {};
//# sourceMappingURL=empty.js.map

/***/ }),

/***/ 6122:
/***/ ((module, __unused_webpack_exports, __nccwpck_require__) => {



//Parse method copied from https://github.com/brianc/node-postgres
//Copyright (c) 2010-2014 Brian Carlson (brian.m.carlson@gmail.com)
//MIT License

//parses a connection string
function parse(str, options = {}) {
  //unix socket
  if (str.charAt(0) === '/') {
    const config = str.split(' ')
    return { host: config[0], database: config[1] }
  }

  // Check for empty host in URL

  const config = Object.create(null)
  let result
  let dummyHost = false
  if (/ |%[^a-f0-9]|%[a-f0-9][^a-f0-9]/i.test(str)) {
    // Ensure spaces are encoded as %20
    str = encodeURI(str).replace(/%25(\d\d)/g, '%$1')
  }

  try {
    try {
      result = new URL(str, 'postgres://base')
    } catch (e) {
      // The URL is invalid so try again with a dummy host
      result = new URL(str.replace('@/', '@___DUMMY___/'), 'postgres://base')
      dummyHost = true
    }
  } catch (err) {
    // Remove the input from the error message to avoid leaking sensitive information
    err.input && (err.input = '*****REDACTED*****')
    throw err
  }

  // We'd like to use Object.fromEntries() here but Node.js 10 does not support it
  for (const entry of result.searchParams.entries()) {
    config[entry[0]] = entry[1]
  }

  config.user = config.user || decodeURIComponent(result.username)
  config.password = config.password || decodeURIComponent(result.password)

  if (result.protocol == 'socket:') {
    config.host = decodeURI(result.pathname)
    config.database = result.searchParams.get('db')
    config.client_encoding = result.searchParams.get('encoding')
    return config
  }
  const hostname = (dummyHost ? '' : result.hostname).replace(/^\[(.+)\]$/, '$1')
  if (!config.host) {
    // Only set the host if there is no equivalent query param.
    config.host = decodeURIComponent(hostname)
  } else if (hostname && /^%2f/i.test(hostname)) {
    // Only prepend the hostname to the pathname if it is not a URL encoded Unix socket host.
    result.pathname = hostname + result.pathname
  }
  if (!config.port) {
    // Only set the port if there is no equivalent query param.
    config.port = result.port
  }

  const pathname = result.pathname.slice(1) || null
  config.database = pathname ? decodeURI(pathname) : null

  if (config.ssl === 'true' || config.ssl === '1') {
    config.ssl = true
  }

  if (config.ssl === '0') {
    config.ssl = false
  }

  if (config.sslcert || config.sslkey || config.sslrootcert || config.sslmode) {
    config.ssl = {}
  }

  // sslnegotiation=direct implies SSL is in use (libpq requires sslmode>=require),
  // so enable SSL if the connection string did not otherwise configure it.
  if (config.sslnegotiation === 'direct' && config.ssl === undefined) {
    config.ssl = true
  }

  // Only try to load fs if we expect to read from the disk
  const fs = config.sslcert || config.sslkey || config.sslrootcert ? __nccwpck_require__(9896) : null

  if (config.sslcert) {
    config.ssl.cert = fs.readFileSync(config.sslcert).toString()
  }

  if (config.sslkey) {
    config.ssl.key = fs.readFileSync(config.sslkey).toString()
  }

  if (config.sslrootcert) {
    config.ssl.ca = fs.readFileSync(config.sslrootcert).toString()
  }

  if (options.useLibpqCompat && config.uselibpqcompat) {
    throw new Error('Both useLibpqCompat and uselibpqcompat are set. Please use only one of them.')
  }

  if (config.uselibpqcompat === 'true' || options.useLibpqCompat) {
    switch (config.sslmode) {
      case 'disable': {
        config.ssl = false
        break
      }
      case 'prefer': {
        config.ssl.rejectUnauthorized = false
        break
      }
      case 'require': {
        if (config.sslrootcert) {
          // If a root CA is specified, behavior of `sslmode=require` will be the same as that of `verify-ca`
          config.ssl.checkServerIdentity = function () {}
        } else {
          config.ssl.rejectUnauthorized = false
        }
        break
      }
      case 'verify-ca': {
        if (!config.ssl.ca) {
          throw new Error(
            'SECURITY WARNING: Using sslmode=verify-ca requires specifying a CA with sslrootcert. If a public CA is used, verify-ca allows connections to a server that somebody else may have registered with the CA, making you vulnerable to Man-in-the-Middle attacks. Either specify a custom CA certificate with sslrootcert parameter or use sslmode=verify-full for proper security.'
          )
        }
        config.ssl.checkServerIdentity = function () {}
        break
      }
      case 'verify-full': {
        break
      }
    }
  } else {
    switch (config.sslmode) {
      case 'disable': {
        config.ssl = false
        break
      }
      case 'prefer':
      case 'require':
      case 'verify-ca':
      case 'verify-full': {
        if (config.sslmode !== 'verify-full') {
          deprecatedSslModeWarning(config.sslmode)
        }
        break
      }
      case 'no-verify': {
        config.ssl.rejectUnauthorized = false
        break
      }
    }
  }

  return config
}

// convert pg-connection-string ssl config to a ClientConfig.ConnectionOptions
function toConnectionOptions(sslConfig) {
  const connectionOptions = Object.entries(sslConfig).reduce((c, [key, value]) => {
    // we explicitly check for undefined and null instead of `if (value)` because some
    // options accept falsy values. Example: `ssl.rejectUnauthorized = false`
    if (value !== undefined && value !== null) {
      c[key] = value
    }

    return c
  }, Object.create(null))

  return connectionOptions
}

// convert pg-connection-string config to a ClientConfig
function toClientConfig(config) {
  const poolConfig = Object.entries(config).reduce((c, [key, value]) => {
    if (key === 'ssl') {
      const sslConfig = value

      if (typeof sslConfig === 'boolean') {
        c[key] = sslConfig
      }

      if (typeof sslConfig === 'object') {
        c[key] = toConnectionOptions(sslConfig)
      }
    } else if (value !== undefined && value !== null) {
      if (key === 'port') {
        // when port is not specified, it is converted into an empty string
        // we want to avoid NaN or empty string as a values in ClientConfig
        if (value !== '') {
          const v = parseInt(value, 10)
          if (isNaN(v)) {
            throw new Error(`Invalid ${key}: ${value}`)
          }

          c[key] = v
        }
      } else {
        c[key] = value
      }
    }

    return c
  }, Object.create(null))

  return poolConfig
}

// parses a connection string into ClientConfig
function parseIntoClientConfig(str) {
  return toClientConfig(parse(str))
}

function deprecatedSslModeWarning(sslmode) {
  if (!deprecatedSslModeWarning.warned && typeof process !== 'undefined' && process.emitWarning) {
    deprecatedSslModeWarning.warned = true
    process.emitWarning(`SECURITY WARNING: The SSL modes 'prefer', 'require', and 'verify-ca' are treated as aliases for 'verify-full'.
In the next major version (pg-connection-string v3.0.0 and pg v9.0.0), these modes will adopt standard libpq semantics, which have weaker security guarantees.

To prepare for this change:
- If you want the current behavior, explicitly use 'sslmode=verify-full'
- If you want libpq compatibility now, use 'uselibpqcompat=true&sslmode=${sslmode}'

See https://www.postgresql.org/docs/current/libpq-ssl.html for libpq SSL mode definitions.`)
  }
}

module.exports = parse

parse.parse = parse
parse.toClientConfig = toClientConfig
parse.parseIntoClientConfig = parseIntoClientConfig


/***/ }),

/***/ 2299:
/***/ ((module) => {



// selected so (BASE - 1) * 0x100000000 + 0xffffffff is a safe integer
var BASE = 1000000;

function readInt8(buffer) {
	var high = buffer.readInt32BE(0);
	var low = buffer.readUInt32BE(4);
	var sign = '';

	if (high < 0) {
		high = ~high + (low === 0);
		low = (~low + 1) >>> 0;
		sign = '-';
	}

	var result = '';
	var carry;
	var t;
	var digits;
	var pad;
	var l;
	var i;

	{
		carry = high % BASE;
		high = high / BASE >>> 0;

		t = 0x100000000 * carry + low;
		low = t / BASE >>> 0;
		digits = '' + (t - BASE * low);

		if (low === 0 && high === 0) {
			return sign + digits + result;
		}

		pad = '';
		l = 6 - digits.length;

		for (i = 0; i < l; i++) {
			pad += '0';
		}

		result = pad + digits + result;
	}

	{
		carry = high % BASE;
		high = high / BASE >>> 0;

		t = 0x100000000 * carry + low;
		low = t / BASE >>> 0;
		digits = '' + (t - BASE * low);

		if (low === 0 && high === 0) {
			return sign + digits + result;
		}

		pad = '';
		l = 6 - digits.length;

		for (i = 0; i < l; i++) {
			pad += '0';
		}

		result = pad + digits + result;
	}

	{
		carry = high % BASE;
		high = high / BASE >>> 0;

		t = 0x100000000 * carry + low;
		low = t / BASE >>> 0;
		digits = '' + (t - BASE * low);

		if (low === 0 && high === 0) {
			return sign + digits + result;
		}

		pad = '';
		l = 6 - digits.length;

		for (i = 0; i < l; i++) {
			pad += '0';
		}

		result = pad + digits + result;
	}

	{
		carry = high % BASE;
		t = 0x100000000 * carry + low;
		digits = '' + t % BASE;

		return sign + digits + result;
	}
}

module.exports = readInt8;


/***/ }),

/***/ 7558:
/***/ ((module, __unused_webpack_exports, __nccwpck_require__) => {


const EventEmitter = (__nccwpck_require__(4434).EventEmitter)

const NOOP = function () {}

const removeWhere = (list, predicate) => {
  const i = list.findIndex(predicate)

  return i === -1 ? undefined : list.splice(i, 1)[0]
}

class IdleItem {
  constructor(client, idleListener, timeoutId) {
    this.client = client
    this.idleListener = idleListener
    this.timeoutId = timeoutId
  }
}

class PendingItem {
  constructor(callback) {
    this.callback = callback
  }
}

function throwOnDoubleRelease() {
  throw new Error('Release called on client which has already been released to the pool.')
}

function promisify(Promise, callback) {
  if (callback) {
    return { callback: callback, result: undefined }
  }
  let rej
  let res
  const cb = function (err, client) {
    err ? rej(err) : res(client)
  }
  const result = new Promise(function (resolve, reject) {
    res = resolve
    rej = reject
  }).catch((err) => {
    // replace the stack trace that leads to `TCP.onStreamRead` with one that leads back to the
    // application that created the query
    Error.captureStackTrace(err)
    throw err
  })
  return { callback: cb, result: result }
}

function makeIdleListener(pool, client) {
  return function idleListener(err) {
    err.client = client

    client.removeListener('error', idleListener)
    client.on('error', () => {
      pool.log('additional client error after disconnection due to error', err)
    })
    pool._remove(client)
    // TODO - document that once the pool emits an error
    // the client has already been closed & purged and is unusable
    pool.emit('error', err, client)
  }
}

class Pool extends EventEmitter {
  constructor(options, Client) {
    super()
    this.options = Object.assign({}, options)

    if (options != null && 'password' in options) {
      // "hiding" the password so it doesn't show up in stack traces
      // or if the client is console.logged
      Object.defineProperty(this.options, 'password', {
        configurable: true,
        enumerable: false,
        writable: true,
        value: options.password,
      })
    }
    if (options != null && options.ssl && options.ssl.key) {
      // "hiding" the ssl->key so it doesn't show up in stack traces
      // or if the client is console.logged
      Object.defineProperty(this.options.ssl, 'key', {
        enumerable: false,
      })
    }

    this.options.max = this.options.max || this.options.poolSize || 10
    this.options.min = this.options.min || 0
    this.options.maxUses = this.options.maxUses || Infinity
    this.options.allowExitOnIdle = this.options.allowExitOnIdle || false
    this.options.maxLifetimeSeconds = this.options.maxLifetimeSeconds || 0
    this.log = this.options.log || function () {}
    this.Client = this.options.Client || Client || (__nccwpck_require__(3273).Client)
    this.Promise = this.options.Promise || global.Promise

    if (typeof this.options.idleTimeoutMillis === 'undefined') {
      this.options.idleTimeoutMillis = 10000
    }

    this._clients = []
    this._idle = []
    this._expired = new WeakSet()
    this._pendingQueue = []
    this._endCallback = undefined
    this.ending = false
    this.ended = false
  }

  _promiseTry(f) {
    const Promise = this.Promise
    if (typeof Promise.try === 'function') {
      return Promise.try(f)
    }
    return new Promise((resolve) => resolve(f()))
  }

  _isFull() {
    return this._clients.length >= this.options.max
  }

  _isAboveMin() {
    return this._clients.length > this.options.min
  }

  _pulseQueue() {
    this.log('pulse queue')
    if (this.ended) {
      this.log('pulse queue ended')
      return
    }
    if (this.ending) {
      this.log('pulse queue on ending')
      if (this._idle.length) {
        this._idle.slice().map((item) => {
          this._remove(item.client)
        })
      }
      if (!this._clients.length) {
        this.ended = true
        this._endCallback()
      }
      return
    }

    // if we don't have any waiting, do nothing
    if (!this._pendingQueue.length) {
      this.log('no queued requests')
      return
    }
    // if we don't have any idle clients and we have no more room do nothing
    if (!this._idle.length && this._isFull()) {
      return
    }
    const pendingItem = this._pendingQueue.shift()
    if (this._idle.length) {
      const idleItem = this._idle.pop()
      clearTimeout(idleItem.timeoutId)
      const client = idleItem.client
      client.ref && client.ref()
      const idleListener = idleItem.idleListener

      return this._acquireClient(client, pendingItem, idleListener, false)
    }
    if (!this._isFull()) {
      return this.newClient(pendingItem)
    }
    throw new Error('unexpected condition')
  }

  _remove(client, callback) {
    const removed = removeWhere(this._idle, (item) => item.client === client)

    if (removed !== undefined) {
      clearTimeout(removed.timeoutId)
    }

    this._clients = this._clients.filter((c) => c !== client)
    const context = this
    client.end(() => {
      context.emit('remove', client)

      if (typeof callback === 'function') {
        callback()
      }
    })
  }

  connect(cb) {
    if (this.ending) {
      const err = new Error('Cannot use a pool after calling end on the pool')
      return cb ? cb(err) : this.Promise.reject(err)
    }

    const response = promisify(this.Promise, cb)
    const result = response.result

    // if we don't have to connect a new client, don't do so
    if (this._isFull() || this._idle.length) {
      // if we have idle clients schedule a pulse immediately
      if (this._idle.length) {
        process.nextTick(() => this._pulseQueue())
      }

      if (!this.options.connectionTimeoutMillis) {
        this._pendingQueue.push(new PendingItem(response.callback))
        return result
      }

      const queueCallback = (err, res, done) => {
        clearTimeout(tid)
        response.callback(err, res, done)
      }

      const pendingItem = new PendingItem(queueCallback)

      // set connection timeout on checking out an existing client
      const tid = setTimeout(() => {
        // remove the callback from pending waiters because
        // we're going to call it with a timeout error
        removeWhere(this._pendingQueue, (i) => i.callback === queueCallback)
        pendingItem.timedOut = true
        response.callback(new Error('timeout exceeded when trying to connect'))
      }, this.options.connectionTimeoutMillis)

      if (tid.unref) {
        tid.unref()
      }

      this._pendingQueue.push(pendingItem)
      return result
    }

    this.newClient(new PendingItem(response.callback))

    return result
  }

  newClient(pendingItem) {
    const client = new this.Client(this.options)
    this._clients.push(client)
    const idleListener = makeIdleListener(this, client)

    this.log('checking client timeout')

    // connection timeout logic
    let tid
    let timeoutHit = false
    if (this.options.connectionTimeoutMillis) {
      tid = setTimeout(() => {
        if (client.connection) {
          this.log('ending client due to timeout')
          timeoutHit = true
          client.connection.stream.destroy()
        } else if (!client.isConnected()) {
          this.log('ending client due to timeout')
          timeoutHit = true
          // force kill the node driver, and let libpq do its teardown
          client.end()
        }
      }, this.options.connectionTimeoutMillis)
    }

    this.log('connecting new client')
    client.connect((err) => {
      if (tid) {
        clearTimeout(tid)
      }
      client.on('error', idleListener)
      if (err) {
        this.log('client failed to connect', err)
        // remove the dead client from our list of clients
        this._clients = this._clients.filter((c) => c !== client)
        if (timeoutHit) {
          err = new Error('Connection terminated due to connection timeout', { cause: err })
        }

        // this client won’t be released, so move on immediately
        this._pulseQueue()

        if (!pendingItem.timedOut) {
          pendingItem.callback(err, undefined, NOOP)
        }
      } else {
        this.log('new client connected')

        if (this.options.onConnect) {
          this._promiseTry(() => this.options.onConnect(client)).then(
            () => {
              this._afterConnect(client, pendingItem, idleListener)
            },
            (hookErr) => {
              this._clients = this._clients.filter((c) => c !== client)
              client.end(() => {
                this._pulseQueue()
                if (!pendingItem.timedOut) {
                  pendingItem.callback(hookErr, undefined, NOOP)
                }
              })
            }
          )
          return
        }

        return this._afterConnect(client, pendingItem, idleListener)
      }
    })
  }

  _afterConnect(client, pendingItem, idleListener) {
    if (this.options.maxLifetimeSeconds !== 0) {
      const maxLifetimeTimeout = setTimeout(() => {
        this.log('ending client due to expired lifetime')
        this._expired.add(client)
        const idleIndex = this._idle.findIndex((idleItem) => idleItem.client === client)
        if (idleIndex !== -1) {
          this._acquireClient(
            client,
            new PendingItem((err, client, clientRelease) => clientRelease()),
            idleListener,
            false
          )
        }
      }, this.options.maxLifetimeSeconds * 1000)

      maxLifetimeTimeout.unref()
      client.once('end', () => clearTimeout(maxLifetimeTimeout))
    }

    return this._acquireClient(client, pendingItem, idleListener, true)
  }

  // acquire a client for a pending work item
  _acquireClient(client, pendingItem, idleListener, isNew) {
    if (isNew) {
      this.emit('connect', client)
    }

    this.emit('acquire', client)

    client.release = this._releaseOnce(client, idleListener)

    client.removeListener('error', idleListener)

    if (!pendingItem.timedOut) {
      if (isNew && this.options.verify) {
        this.options.verify(client, (err) => {
          if (err) {
            client.release(err)
            return pendingItem.callback(err, undefined, NOOP)
          }

          pendingItem.callback(undefined, client, client.release)
        })
      } else {
        pendingItem.callback(undefined, client, client.release)
      }
    } else {
      if (isNew && this.options.verify) {
        this.options.verify(client, client.release)
      } else {
        client.release()
      }
    }
  }

  // returns a function that wraps _release and throws if called more than once
  _releaseOnce(client, idleListener) {
    let released = false

    return (err) => {
      if (released) {
        throwOnDoubleRelease()
      }

      released = true
      this._release(client, idleListener, err)
    }
  }

  // release a client back to the poll, include an error
  // to remove it from the pool
  _release(client, idleListener, err) {
    client.on('error', idleListener)

    client._poolUseCount = (client._poolUseCount || 0) + 1

    this.emit('release', err, client)

    // TODO(bmc): expose a proper, public interface _queryable and _ending
    if (err || this.ending || !client._queryable || client._ending || client._poolUseCount >= this.options.maxUses) {
      if (client._poolUseCount >= this.options.maxUses) {
        this.log('remove expended client')
      }

      return this._remove(client, this._pulseQueue.bind(this))
    }

    const isExpired = this._expired.has(client)
    if (isExpired) {
      this.log('remove expired client')
      this._expired.delete(client)
      return this._remove(client, this._pulseQueue.bind(this))
    }

    // idle timeout
    let tid
    if (this.options.idleTimeoutMillis && this._isAboveMin()) {
      tid = setTimeout(() => {
        if (this._isAboveMin()) {
          this.log('remove idle client')
          this._remove(client, this._pulseQueue.bind(this))
        }
      }, this.options.idleTimeoutMillis)

      if (this.options.allowExitOnIdle) {
        // allow Node to exit if this is all that's left
        tid.unref()
      }
    }

    if (this.options.allowExitOnIdle) {
      client.unref()
    }

    this._idle.push(new IdleItem(client, idleListener, tid))
    this._pulseQueue()
  }

  query(text, values, cb) {
    // guard clause against passing a function as the first parameter
    if (typeof text === 'function') {
      const response = promisify(this.Promise, text)
      setImmediate(function () {
        return response.callback(new Error('Passing a function as the first parameter to pool.query is not supported'))
      })
      return response.result
    }

    // allow plain text query without values, but callback
    if (typeof values === 'function') {
      cb = values
      values = undefined
    }
    const response = promisify(this.Promise, cb)
    cb = response.callback

    this.connect((err, client) => {
      if (err) {
        return cb(err)
      }

      let clientReleased = false
      const onError = (err) => {
        if (clientReleased) {
          return
        }
        clientReleased = true
        client.release(err)
        cb(err)
      }

      client.once('error', onError)
      this.log('dispatching query')
      try {
        client.query(text, values, (err, res) => {
          this.log('query dispatched')
          client.removeListener('error', onError)
          if (clientReleased) {
            return
          }
          clientReleased = true
          client.release(err)
          if (err) {
            return cb(err)
          }
          return cb(undefined, res)
        })
      } catch (err) {
        client.release(err)
        return cb(err)
      }
    })
    return response.result
  }

  end(cb) {
    this.log('ending')
    if (this.ending) {
      const err = new Error('Called end on pool more than once')
      return cb ? cb(err) : this.Promise.reject(err)
    }
    this.ending = true
    const promised = promisify(this.Promise, cb)
    this._endCallback = promised.callback
    this._pulseQueue()
    return promised.result
  }

  get waitingCount() {
    return this._pendingQueue.length
  }

  get idleCount() {
    return this._idle.length
  }

  get expiredCount() {
    return this._clients.reduce((acc, client) => acc + (this._expired.has(client) ? 1 : 0), 0)
  }

  get totalCount() {
    return this._clients.length
  }
}
module.exports = Pool


/***/ }),

/***/ 9971:
/***/ ((__unused_webpack_module, exports) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.BufferReader = void 0;
class BufferReader {
    constructor(offset = 0) {
        this.offset = offset;
        this.buffer = Buffer.allocUnsafe(0);
        // TODO(bmc): support non-utf8 encoding?
        this.encoding = 'utf-8';
    }
    setBuffer(offset, buffer) {
        this.offset = offset;
        this.buffer = buffer;
    }
    int16() {
        const result = this.buffer.readInt16BE(this.offset);
        this.offset += 2;
        return result;
    }
    byte() {
        const result = this.buffer[this.offset];
        this.offset++;
        return result;
    }
    int32() {
        const result = this.buffer.readInt32BE(this.offset);
        this.offset += 4;
        return result;
    }
    uint32() {
        const result = this.buffer.readUInt32BE(this.offset);
        this.offset += 4;
        return result;
    }
    string(length) {
        const result = this.buffer.toString(this.encoding, this.offset, this.offset + length);
        this.offset += length;
        return result;
    }
    cstring() {
        const start = this.offset;
        let end = start;
        // eslint-disable-next-line no-empty
        while (this.buffer[end++]) { }
        this.offset = end;
        return this.buffer.toString(this.encoding, start, end - 1);
    }
    bytes(length) {
        const result = this.buffer.slice(this.offset, this.offset + length);
        this.offset += length;
        return result;
    }
}
exports.BufferReader = BufferReader;
//# sourceMappingURL=buffer-reader.js.map

/***/ }),

/***/ 9315:
/***/ ((__unused_webpack_module, exports) => {


//binary data writer tuned for encoding binary specific to the postgres binary protocol
Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.Writer = void 0;
class Writer {
    constructor(size = 256) {
        this.size = size;
        this.offset = 5;
        this.headerPosition = 0;
        this.buffer = Buffer.allocUnsafe(size);
    }
    ensure(size) {
        const remaining = this.buffer.length - this.offset;
        if (remaining < size) {
            const oldBuffer = this.buffer;
            // exponential growth factor of around ~ 1.5
            // https://stackoverflow.com/questions/2269063/buffer-growth-strategy
            const newSize = oldBuffer.length + (oldBuffer.length >> 1) + size;
            this.buffer = Buffer.allocUnsafe(newSize);
            oldBuffer.copy(this.buffer, 0, 0, this.offset);
        }
    }
    addInt32(num) {
        this.ensure(4);
        this.buffer[this.offset++] = (num >>> 24) & 0xff;
        this.buffer[this.offset++] = (num >>> 16) & 0xff;
        this.buffer[this.offset++] = (num >>> 8) & 0xff;
        this.buffer[this.offset++] = (num >>> 0) & 0xff;
        return this;
    }
    addInt16(num) {
        this.ensure(2);
        this.buffer[this.offset++] = (num >>> 8) & 0xff;
        this.buffer[this.offset++] = (num >>> 0) & 0xff;
        return this;
    }
    addCString(string) {
        if (!string) {
            this.ensure(1);
        }
        else {
            const len = Buffer.byteLength(string);
            this.ensure(len + 1); // +1 for null terminator
            this.buffer.write(string, this.offset, 'utf-8');
            this.offset += len;
        }
        this.buffer[this.offset++] = 0; // null terminator
        return this;
    }
    addString(string = '') {
        const len = Buffer.byteLength(string);
        this.ensure(len);
        this.buffer.write(string, this.offset);
        this.offset += len;
        return this;
    }
    // Write an Int32 byte-length prefix immediately followed by the string's UTF-8
    // bytes. Postgres' Bind wire format prefixes every parameter with its length,
    // and doing it in one method computes Buffer.byteLength ONCE — the previous
    // `addInt32(Buffer.byteLength(s)).addString(s)` pairing scanned the string
    // three times (byteLength for the prefix, byteLength again inside addString,
    // then the encode), which is costly for large text parameters.
    addInt32PrefixedString(string) {
        const len = Buffer.byteLength(string);
        this.ensure(4 + len);
        const buffer = this.buffer;
        let offset = this.offset;
        buffer[offset++] = (len >>> 24) & 0xff;
        buffer[offset++] = (len >>> 16) & 0xff;
        buffer[offset++] = (len >>> 8) & 0xff;
        buffer[offset++] = (len >>> 0) & 0xff;
        buffer.write(string, offset, 'utf-8');
        this.offset = offset + len;
        return this;
    }
    add(otherBuffer) {
        this.ensure(otherBuffer.length);
        otherBuffer.copy(this.buffer, this.offset);
        this.offset += otherBuffer.length;
        return this;
    }
    /**
     * Appends an uninitialized block of {@link size} bytes to the buffer and returns its offset.
     */
    reserveUnsafe(size) {
        const offset = this.offset;
        this.ensure(size);
        this.offset += size;
        return offset;
    }
    join(code) {
        if (code) {
            this.buffer[this.headerPosition] = code;
            //length is everything in this packet minus the code
            const length = this.offset - (this.headerPosition + 1);
            this.buffer.writeInt32BE(length, this.headerPosition + 1);
        }
        return this.buffer.slice(code ? 0 : 5, this.offset);
    }
    flush(code) {
        const result = this.join(code);
        this.offset = 5;
        this.headerPosition = 0;
        this.buffer = Buffer.allocUnsafe(this.size);
        return result;
    }
    clear() {
        this.offset = 5;
        this.headerPosition = 0;
    }
}
exports.Writer = Writer;
//# sourceMappingURL=buffer-writer.js.map

/***/ }),

/***/ 4233:
/***/ ((__unused_webpack_module, exports, __nccwpck_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.DatabaseError = exports.serialize = void 0;
exports.parse = parse;
const messages_1 = __nccwpck_require__(5809);
Object.defineProperty(exports, "DatabaseError", ({ enumerable: true, get: function () { return messages_1.DatabaseError; } }));
const serializer_1 = __nccwpck_require__(6513);
Object.defineProperty(exports, "serialize", ({ enumerable: true, get: function () { return serializer_1.serialize; } }));
const parser_1 = __nccwpck_require__(3318);
function parse(stream, callback) {
    const parser = new parser_1.Parser();
    stream.on('data', (buffer) => parser.parse(buffer, callback));
    return new Promise((resolve) => stream.on('end', () => resolve()));
}
//# sourceMappingURL=index.js.map

/***/ }),

/***/ 5809:
/***/ ((__unused_webpack_module, exports) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.NoticeMessage = exports.DataRowMessage = exports.CommandCompleteMessage = exports.ReadyForQueryMessage = exports.NotificationResponseMessage = exports.BackendKeyDataMessage = exports.AuthenticationMD5Password = exports.ParameterStatusMessage = exports.ParameterDescriptionMessage = exports.RowDescriptionMessage = exports.Field = exports.CopyResponse = exports.CopyDataMessage = exports.DatabaseError = exports.copyDone = exports.emptyQuery = exports.replicationStart = exports.portalSuspended = exports.noData = exports.closeComplete = exports.bindComplete = exports.parseComplete = void 0;
exports.parseComplete = {
    name: 'parseComplete',
    length: 5,
};
exports.bindComplete = {
    name: 'bindComplete',
    length: 5,
};
exports.closeComplete = {
    name: 'closeComplete',
    length: 5,
};
exports.noData = {
    name: 'noData',
    length: 5,
};
exports.portalSuspended = {
    name: 'portalSuspended',
    length: 5,
};
exports.replicationStart = {
    name: 'replicationStart',
    length: 4,
};
exports.emptyQuery = {
    name: 'emptyQuery',
    length: 4,
};
exports.copyDone = {
    name: 'copyDone',
    length: 4,
};
class DatabaseError extends Error {
    constructor(message, length, name) {
        super(message);
        this.length = length;
        this.name = name;
    }
}
exports.DatabaseError = DatabaseError;
class CopyDataMessage {
    constructor(length, chunk) {
        this.length = length;
        this.chunk = chunk;
        this.name = 'copyData';
    }
}
exports.CopyDataMessage = CopyDataMessage;
class CopyResponse {
    constructor(length, name, binary, columnCount) {
        this.length = length;
        this.name = name;
        this.binary = binary;
        this.columnTypes = new Array(columnCount);
    }
}
exports.CopyResponse = CopyResponse;
class Field {
    constructor(name, tableID, columnID, dataTypeID, dataTypeSize, dataTypeModifier, format) {
        this.name = name;
        this.tableID = tableID;
        this.columnID = columnID;
        this.dataTypeID = dataTypeID;
        this.dataTypeSize = dataTypeSize;
        this.dataTypeModifier = dataTypeModifier;
        this.format = format;
    }
}
exports.Field = Field;
class RowDescriptionMessage {
    constructor(length, fieldCount) {
        this.length = length;
        this.fieldCount = fieldCount;
        this.name = 'rowDescription';
        this.fields = new Array(this.fieldCount);
    }
}
exports.RowDescriptionMessage = RowDescriptionMessage;
class ParameterDescriptionMessage {
    constructor(length, parameterCount) {
        this.length = length;
        this.parameterCount = parameterCount;
        this.name = 'parameterDescription';
        this.dataTypeIDs = new Array(this.parameterCount);
    }
}
exports.ParameterDescriptionMessage = ParameterDescriptionMessage;
class ParameterStatusMessage {
    constructor(length, parameterName, parameterValue) {
        this.length = length;
        this.parameterName = parameterName;
        this.parameterValue = parameterValue;
        this.name = 'parameterStatus';
    }
}
exports.ParameterStatusMessage = ParameterStatusMessage;
class AuthenticationMD5Password {
    constructor(length, salt) {
        this.length = length;
        this.salt = salt;
        this.name = 'authenticationMD5Password';
    }
}
exports.AuthenticationMD5Password = AuthenticationMD5Password;
class BackendKeyDataMessage {
    constructor(length, processID, secretKey) {
        this.length = length;
        this.processID = processID;
        this.secretKey = secretKey;
        this.name = 'backendKeyData';
    }
}
exports.BackendKeyDataMessage = BackendKeyDataMessage;
class NotificationResponseMessage {
    constructor(length, processId, channel, payload) {
        this.length = length;
        this.processId = processId;
        this.channel = channel;
        this.payload = payload;
        this.name = 'notification';
    }
}
exports.NotificationResponseMessage = NotificationResponseMessage;
class ReadyForQueryMessage {
    constructor(length, status) {
        this.length = length;
        this.status = status;
        this.name = 'readyForQuery';
    }
}
exports.ReadyForQueryMessage = ReadyForQueryMessage;
class CommandCompleteMessage {
    constructor(length, text) {
        this.length = length;
        this.text = text;
        this.name = 'commandComplete';
    }
}
exports.CommandCompleteMessage = CommandCompleteMessage;
class DataRowMessage {
    constructor(length, fields) {
        this.length = length;
        this.fields = fields;
        this.name = 'dataRow';
        this.fieldCount = fields.length;
    }
}
exports.DataRowMessage = DataRowMessage;
class NoticeMessage {
    constructor(length, message) {
        this.length = length;
        this.message = message;
        this.name = 'notice';
    }
}
exports.NoticeMessage = NoticeMessage;
//# sourceMappingURL=messages.js.map

/***/ }),

/***/ 3318:
/***/ ((__unused_webpack_module, exports, __nccwpck_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.Parser = void 0;
const messages_1 = __nccwpck_require__(5809);
const buffer_reader_1 = __nccwpck_require__(9971);
// every message is prefixed with a single byte
const CODE_LENGTH = 1;
// every message has an int32 length which includes itself but does
// NOT include the code in the length
const LEN_LENGTH = 4;
const HEADER_LENGTH = CODE_LENGTH + LEN_LENGTH;
// A placeholder for a `BackendMessage`’s length value that will be set after construction.
const LATEINIT_LENGTH = -1;
const emptyBuffer = Buffer.allocUnsafe(0);
class Parser {
    constructor(opts) {
        this.buffer = emptyBuffer;
        this.bufferLength = 0;
        this.bufferOffset = 0;
        this.reader = new buffer_reader_1.BufferReader();
        if ((opts === null || opts === void 0 ? void 0 : opts.mode) === 'binary') {
            throw new Error('Binary mode not supported yet');
        }
        this.mode = (opts === null || opts === void 0 ? void 0 : opts.mode) || 'text';
    }
    parse(buffer, callback) {
        this.mergeBuffer(buffer);
        const bufferFullLength = this.bufferOffset + this.bufferLength;
        let offset = this.bufferOffset;
        while (offset + HEADER_LENGTH <= bufferFullLength) {
            // code is 1 byte long - it identifies the message type
            const code = this.buffer[offset];
            // length is 1 Uint32BE - it is the length of the message EXCLUDING the code
            const length = this.buffer.readUInt32BE(offset + CODE_LENGTH);
            const fullMessageLength = CODE_LENGTH + length;
            if (fullMessageLength + offset <= bufferFullLength) {
                const message = this.handlePacket(offset + HEADER_LENGTH, code, length, this.buffer);
                callback(message);
                offset += fullMessageLength;
            }
            else {
                break;
            }
        }
        if (offset === bufferFullLength) {
            // No more use for the buffer
            this.buffer = emptyBuffer;
            this.bufferLength = 0;
            this.bufferOffset = 0;
        }
        else {
            // Adjust the cursors of remainingBuffer
            this.bufferLength = bufferFullLength - offset;
            this.bufferOffset = offset;
        }
    }
    mergeBuffer(buffer) {
        if (this.bufferLength > 0) {
            const newLength = this.bufferLength + buffer.byteLength;
            const newFullLength = newLength + this.bufferOffset;
            if (newFullLength > this.buffer.byteLength) {
                // We can't concat the new buffer with the remaining one
                let newBuffer;
                if (newLength <= this.buffer.byteLength && this.bufferOffset >= this.bufferLength) {
                    // We can move the relevant part to the beginning of the buffer instead of allocating a new buffer
                    newBuffer = this.buffer;
                }
                else {
                    // Allocate a new larger buffer
                    let newBufferLength = this.buffer.byteLength * 2;
                    while (newLength >= newBufferLength) {
                        newBufferLength *= 2;
                    }
                    newBuffer = Buffer.allocUnsafe(newBufferLength);
                }
                // Move the remaining buffer to the new one
                this.buffer.copy(newBuffer, 0, this.bufferOffset, this.bufferOffset + this.bufferLength);
                this.buffer = newBuffer;
                this.bufferOffset = 0;
            }
            // Concat the new buffer with the remaining one
            buffer.copy(this.buffer, this.bufferOffset + this.bufferLength);
            this.bufferLength = newLength;
        }
        else {
            this.buffer = buffer;
            this.bufferOffset = 0;
            this.bufferLength = buffer.byteLength;
        }
    }
    handlePacket(offset, code, length, bytes) {
        const { reader } = this;
        // NOTE: This undesirably retains the buffer in `this.reader` if the `parse*Message` calls below throw. However, those should only throw in the case of a protocol error, which normally results in the reader being discarded.
        reader.setBuffer(offset, bytes);
        let message;
        switch (code) {
            case 50 /* MessageCodes.BindComplete */:
                message = messages_1.bindComplete;
                break;
            case 49 /* MessageCodes.ParseComplete */:
                message = messages_1.parseComplete;
                break;
            case 51 /* MessageCodes.CloseComplete */:
                message = messages_1.closeComplete;
                break;
            case 110 /* MessageCodes.NoData */:
                message = messages_1.noData;
                break;
            case 115 /* MessageCodes.PortalSuspended */:
                message = messages_1.portalSuspended;
                break;
            case 99 /* MessageCodes.CopyDone */:
                message = messages_1.copyDone;
                break;
            case 87 /* MessageCodes.ReplicationStart */:
                message = messages_1.replicationStart;
                break;
            case 73 /* MessageCodes.EmptyQuery */:
                message = messages_1.emptyQuery;
                break;
            case 68 /* MessageCodes.DataRow */:
                message = parseDataRowMessage(reader);
                break;
            case 67 /* MessageCodes.CommandComplete */:
                message = parseCommandCompleteMessage(reader);
                break;
            case 90 /* MessageCodes.ReadyForQuery */:
                message = parseReadyForQueryMessage(reader);
                break;
            case 65 /* MessageCodes.NotificationResponse */:
                message = parseNotificationMessage(reader);
                break;
            case 82 /* MessageCodes.AuthenticationResponse */:
                message = parseAuthenticationResponse(reader, length);
                break;
            case 83 /* MessageCodes.ParameterStatus */:
                message = parseParameterStatusMessage(reader);
                break;
            case 75 /* MessageCodes.BackendKeyData */:
                message = parseBackendKeyData(reader);
                break;
            case 69 /* MessageCodes.ErrorMessage */:
                message = parseErrorMessage(reader, 'error');
                break;
            case 78 /* MessageCodes.NoticeMessage */:
                message = parseErrorMessage(reader, 'notice');
                break;
            case 84 /* MessageCodes.RowDescriptionMessage */:
                message = parseRowDescriptionMessage(reader);
                break;
            case 116 /* MessageCodes.ParameterDescriptionMessage */:
                message = parseParameterDescriptionMessage(reader);
                break;
            case 71 /* MessageCodes.CopyIn */:
                message = parseCopyInMessage(reader);
                break;
            case 72 /* MessageCodes.CopyOut */:
                message = parseCopyOutMessage(reader);
                break;
            case 100 /* MessageCodes.CopyData */:
                message = parseCopyData(reader, length);
                break;
            default:
                return new messages_1.DatabaseError('received invalid response: ' + code.toString(16), length, 'error');
        }
        reader.setBuffer(0, emptyBuffer);
        message.length = length;
        return message;
    }
}
exports.Parser = Parser;
const parseReadyForQueryMessage = (reader) => {
    const status = reader.string(1);
    return new messages_1.ReadyForQueryMessage(LATEINIT_LENGTH, status);
};
const parseCommandCompleteMessage = (reader) => {
    const text = reader.cstring();
    return new messages_1.CommandCompleteMessage(LATEINIT_LENGTH, text);
};
const parseCopyData = (reader, length) => {
    const chunk = reader.bytes(length - 4);
    return new messages_1.CopyDataMessage(LATEINIT_LENGTH, chunk);
};
const parseCopyInMessage = (reader) => parseCopyMessage(reader, 'copyInResponse');
const parseCopyOutMessage = (reader) => parseCopyMessage(reader, 'copyOutResponse');
const parseCopyMessage = (reader, messageName) => {
    const isBinary = reader.byte() !== 0;
    const columnCount = reader.int16();
    const message = new messages_1.CopyResponse(LATEINIT_LENGTH, messageName, isBinary, columnCount);
    for (let i = 0; i < columnCount; i++) {
        message.columnTypes[i] = reader.int16();
    }
    return message;
};
const parseNotificationMessage = (reader) => {
    const processId = reader.int32();
    const channel = reader.cstring();
    const payload = reader.cstring();
    return new messages_1.NotificationResponseMessage(LATEINIT_LENGTH, processId, channel, payload);
};
const parseRowDescriptionMessage = (reader) => {
    const fieldCount = reader.int16();
    const message = new messages_1.RowDescriptionMessage(LATEINIT_LENGTH, fieldCount);
    for (let i = 0; i < fieldCount; i++) {
        message.fields[i] = parseField(reader);
    }
    return message;
};
const parseField = (reader) => {
    const name = reader.cstring();
    const tableID = reader.uint32();
    const columnID = reader.int16();
    const dataTypeID = reader.uint32();
    const dataTypeSize = reader.int16();
    const dataTypeModifier = reader.int32();
    const mode = reader.int16() === 0 ? 'text' : 'binary';
    return new messages_1.Field(name, tableID, columnID, dataTypeID, dataTypeSize, dataTypeModifier, mode);
};
const parseParameterDescriptionMessage = (reader) => {
    const parameterCount = reader.int16();
    const message = new messages_1.ParameterDescriptionMessage(LATEINIT_LENGTH, parameterCount);
    for (let i = 0; i < parameterCount; i++) {
        // OIDs are unsigned, same as dataTypeID in parseField above
        message.dataTypeIDs[i] = reader.uint32();
    }
    return message;
};
const parseDataRowMessage = (reader) => {
    const fieldCount = reader.int16();
    const fields = new Array(fieldCount);
    for (let i = 0; i < fieldCount; i++) {
        const len = reader.int32();
        // a -1 for length means the value of the field is null
        fields[i] = len === -1 ? null : reader.string(len);
    }
    return new messages_1.DataRowMessage(LATEINIT_LENGTH, fields);
};
const parseParameterStatusMessage = (reader) => {
    const name = reader.cstring();
    const value = reader.cstring();
    return new messages_1.ParameterStatusMessage(LATEINIT_LENGTH, name, value);
};
const parseBackendKeyData = (reader) => {
    const processID = reader.int32();
    const secretKey = reader.int32();
    return new messages_1.BackendKeyDataMessage(LATEINIT_LENGTH, processID, secretKey);
};
const parseAuthenticationResponse = (reader, length) => {
    const code = reader.int32();
    // TODO(bmc): maybe better types here
    const message = {
        name: 'authenticationOk',
        length,
    };
    switch (code) {
        case 0: // AuthenticationOk
            break;
        case 3: // AuthenticationCleartextPassword
            if (message.length === 8) {
                message.name = 'authenticationCleartextPassword';
            }
            break;
        case 5: // AuthenticationMD5Password
            if (message.length === 12) {
                message.name = 'authenticationMD5Password';
                const salt = reader.bytes(4);
                return new messages_1.AuthenticationMD5Password(LATEINIT_LENGTH, salt);
            }
            break;
        case 10: // AuthenticationSASL
            {
                message.name = 'authenticationSASL';
                message.mechanisms = [];
                let mechanism;
                do {
                    mechanism = reader.cstring();
                    if (mechanism) {
                        message.mechanisms.push(mechanism);
                    }
                } while (mechanism);
            }
            break;
        case 11: // AuthenticationSASLContinue
            message.name = 'authenticationSASLContinue';
            message.data = reader.string(length - 8);
            break;
        case 12: // AuthenticationSASLFinal
            message.name = 'authenticationSASLFinal';
            message.data = reader.string(length - 8);
            break;
        default:
            throw new Error('Unknown authenticationOk message type ' + code);
    }
    return message;
};
const parseErrorMessage = (reader, name) => {
    const fields = {};
    let fieldType = reader.string(1);
    while (fieldType !== '\0') {
        fields[fieldType] = reader.cstring();
        fieldType = reader.string(1);
    }
    const messageValue = fields.M;
    const message = name === 'notice'
        ? new messages_1.NoticeMessage(LATEINIT_LENGTH, messageValue)
        : new messages_1.DatabaseError(messageValue, LATEINIT_LENGTH, name);
    message.severity = fields.S;
    message.code = fields.C;
    message.detail = fields.D;
    message.hint = fields.H;
    message.position = fields.P;
    message.internalPosition = fields.p;
    message.internalQuery = fields.q;
    message.where = fields.W;
    message.schema = fields.s;
    message.table = fields.t;
    message.column = fields.c;
    message.dataType = fields.d;
    message.constraint = fields.n;
    message.file = fields.F;
    message.line = fields.L;
    message.routine = fields.R;
    return message;
};
//# sourceMappingURL=parser.js.map

/***/ }),

/***/ 6513:
/***/ ((__unused_webpack_module, exports, __nccwpck_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.serialize = void 0;
const buffer_writer_1 = __nccwpck_require__(9315);
const writer = new buffer_writer_1.Writer();
const startup = (opts) => {
    // protocol version
    writer.addInt16(3).addInt16(0);
    for (const key of Object.keys(opts)) {
        writer.addCString(key).addCString(opts[key]);
    }
    writer.addCString('client_encoding').addCString('UTF8');
    const bodyBuffer = writer.addCString('').flush();
    // this message is sent without a code
    const length = bodyBuffer.length + 4;
    return new buffer_writer_1.Writer().addInt32(length).add(bodyBuffer).flush();
};
const requestSsl = () => {
    const response = Buffer.allocUnsafe(8);
    response.writeInt32BE(8, 0);
    response.writeInt32BE(80877103, 4);
    return response;
};
const password = (password) => {
    return writer.addCString(password).flush(112 /* code.startup */);
};
const sendSASLInitialResponseMessage = function (mechanism, initialResponse) {
    // 0x70 = 'p'
    writer.addCString(mechanism).addInt32PrefixedString(initialResponse);
    return writer.flush(112 /* code.startup */);
};
const sendSCRAMClientFinalMessage = function (additionalData) {
    return writer.addString(additionalData).flush(112 /* code.startup */);
};
const query = (text) => {
    return writer.addCString(text).flush(81 /* code.query */);
};
const emptyArray = [];
const parse = (query) => {
    // expect something like this:
    // { name: 'queryName',
    //   text: 'select * from blah',
    //   types: ['int8', 'bool'] }
    // normalize missing query names to allow for null
    const name = query.name || '';
    if (name.length > 63) {
        console.error('Warning! Postgres only supports 63 characters for query names.');
        console.error('You supplied %s (%s)', name, name.length);
        console.error('This can cause conflicts and silent errors executing queries');
    }
    const types = query.types || emptyArray;
    const len = types.length;
    const buffer = writer
        .addCString(name) // name of query
        .addCString(query.text) // actual query text
        .addInt16(len);
    for (let i = 0; i < len; i++) {
        buffer.addInt32(types[i]);
    }
    return writer.flush(80 /* code.parse */);
};
const writeValues = function (values, valueMapper, formatsOffset) {
    const len = values.length;
    for (let i = 0; i < len; i++) {
        const mappedVal = valueMapper ? valueMapper(values[i], i) : values[i];
        let formatByte = 0 /* ParamType.STRING */;
        if (mappedVal == null) {
            // write -1 to indicate null
            writer.addInt32(-1);
        }
        else if (mappedVal instanceof Buffer) {
            formatByte = 1 /* ParamType.BINARY */;
            // add the buffer to the param writer
            writer.addInt32(mappedVal.length);
            writer.add(mappedVal);
        }
        else {
            // length prefix + UTF-8 bytes in one pass (Buffer.byteLength computed once)
            writer.addInt32PrefixedString(mappedVal);
        }
        // beware: `writer` operations can replace `writer.buffer` with a new buffer
        const buf = writer.buffer;
        buf[formatsOffset++] = 0;
        buf[formatsOffset++] = formatByte;
    }
};
const bind = (config = {}) => {
    // normalize config
    const portal = config.portal || '';
    const statement = config.statement || '';
    const binary = config.binary || false;
    const values = config.values || emptyArray;
    const len = values.length;
    writer.addCString(portal).addCString(statement);
    // number of parameter format codes
    writer.addInt16(len);
    // space for those codes, filled by `writeValues`
    const formatsOffset = writer.reserveUnsafe(len * 2);
    // number of parameter values
    writer.addInt16(len);
    try {
        writeValues(values, config.valueMapper, formatsOffset);
    }
    catch (err) {
        writer.clear();
        throw err;
    }
    // all results use the same format code
    writer.addInt16(1);
    // format code
    writer.addInt16(binary ? 1 /* ParamType.BINARY */ : 0 /* ParamType.STRING */);
    return writer.flush(66 /* code.bind */);
};
const emptyExecute = Buffer.from([69 /* code.execute */, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00]);
const execute = (config) => {
    // this is the happy path for most queries
    if (!config || (!config.portal && !config.rows)) {
        return emptyExecute;
    }
    const portal = config.portal || '';
    const rows = config.rows || 0;
    const portalLength = Buffer.byteLength(portal);
    const len = 4 + portalLength + 1 + 4;
    // one extra bit for code
    const buff = Buffer.allocUnsafe(1 + len);
    buff[0] = 69 /* code.execute */;
    buff.writeInt32BE(len, 1);
    buff.write(portal, 5, 'utf-8');
    buff[portalLength + 5] = 0; // null terminate portal cString
    buff.writeUInt32BE(rows, buff.length - 4);
    return buff;
};
const cancel = (processID, secretKey) => {
    const buffer = Buffer.allocUnsafe(16);
    buffer.writeInt32BE(16, 0);
    buffer.writeInt16BE(1234, 4);
    buffer.writeInt16BE(5678, 6);
    buffer.writeInt32BE(processID, 8);
    buffer.writeInt32BE(secretKey, 12);
    return buffer;
};
const cstringMessage = (code, string) => {
    const stringLen = Buffer.byteLength(string);
    const len = 4 + stringLen + 1;
    // one extra bit for code
    const buffer = Buffer.allocUnsafe(1 + len);
    buffer[0] = code;
    buffer.writeInt32BE(len, 1);
    buffer.write(string, 5, 'utf-8');
    buffer[len] = 0; // null terminate cString
    return buffer;
};
const emptyDescribePortal = writer.addCString('P').flush(68 /* code.describe */);
const emptyDescribeStatement = writer.addCString('S').flush(68 /* code.describe */);
const describe = (msg) => {
    return msg.name
        ? cstringMessage(68 /* code.describe */, `${msg.type}${msg.name || ''}`)
        : msg.type === 'P'
            ? emptyDescribePortal
            : emptyDescribeStatement;
};
const close = (msg) => {
    const text = `${msg.type}${msg.name || ''}`;
    return cstringMessage(67 /* code.close */, text);
};
const copyData = (chunk) => {
    return writer.add(chunk).flush(100 /* code.copyFromChunk */);
};
const copyFail = (message) => {
    return cstringMessage(102 /* code.copyFail */, message);
};
const codeOnlyBuffer = (code) => Buffer.from([code, 0x00, 0x00, 0x00, 0x04]);
const flushBuffer = codeOnlyBuffer(72 /* code.flush */);
const syncBuffer = codeOnlyBuffer(83 /* code.sync */);
const endBuffer = codeOnlyBuffer(88 /* code.end */);
const copyDoneBuffer = codeOnlyBuffer(99 /* code.copyDone */);
const serialize = {
    startup,
    password,
    requestSsl,
    sendSASLInitialResponseMessage,
    sendSCRAMClientFinalMessage,
    query,
    parse,
    bind,
    execute,
    describe,
    close,
    flush: () => flushBuffer,
    sync: () => syncBuffer,
    end: () => endBuffer,
    copyData,
    copyDone: () => copyDoneBuffer,
    copyFail,
    cancel,
};
exports.serialize = serialize;
//# sourceMappingURL=serializer.js.map

/***/ }),

/***/ 1549:
/***/ ((__unused_webpack_module, exports, __nccwpck_require__) => {

var textParsers = __nccwpck_require__(4784);
var binaryParsers = __nccwpck_require__(7522);
var arrayParser = __nccwpck_require__(6471);
var builtinTypes = __nccwpck_require__(6345);

exports.getTypeParser = getTypeParser;
exports.setTypeParser = setTypeParser;
exports.arrayParser = arrayParser;
exports.builtins = builtinTypes;

var typeParsers = {
  text: {},
  binary: {}
};

//the empty parse function
function noParse (val) {
  return String(val);
};

//returns a function used to convert a specific type (specified by
//oid) into a result javascript type
//note: the oid can be obtained via the following sql query:
//SELECT oid FROM pg_type WHERE typname = 'TYPE_NAME_HERE';
function getTypeParser (oid, format) {
  format = format || 'text';
  if (!typeParsers[format]) {
    return noParse;
  }
  return typeParsers[format][oid] || noParse;
};

function setTypeParser (oid, format, parseFn) {
  if(typeof format == 'function') {
    parseFn = format;
    format = 'text';
  }
  typeParsers[format][oid] = parseFn;
};

textParsers.init(function(oid, converter) {
  typeParsers.text[oid] = converter;
});

binaryParsers.init(function(oid, converter) {
  typeParsers.binary[oid] = converter;
});


/***/ }),

/***/ 6471:
/***/ ((module, __unused_webpack_exports, __nccwpck_require__) => {

var array = __nccwpck_require__(3879);

module.exports = {
  create: function (source, transform) {
    return {
      parse: function() {
        return array.parse(source, transform);
      }
    };
  }
};


/***/ }),

/***/ 7522:
/***/ ((module, __unused_webpack_exports, __nccwpck_require__) => {

var parseInt64 = __nccwpck_require__(2299);

var parseBits = function(data, bits, offset, invert, callback) {
  offset = offset || 0;
  invert = invert || false;
  callback = callback || function(lastValue, newValue, bits) { return (lastValue * Math.pow(2, bits)) + newValue; };
  var offsetBytes = offset >> 3;

  var inv = function(value) {
    if (invert) {
      return ~value & 0xff;
    }

    return value;
  };

  // read first (maybe partial) byte
  var mask = 0xff;
  var firstBits = 8 - (offset % 8);
  if (bits < firstBits) {
    mask = (0xff << (8 - bits)) & 0xff;
    firstBits = bits;
  }

  if (offset) {
    mask = mask >> (offset % 8);
  }

  var result = 0;
  if ((offset % 8) + bits >= 8) {
    result = callback(0, inv(data[offsetBytes]) & mask, firstBits);
  }

  // read bytes
  var bytes = (bits + offset) >> 3;
  for (var i = offsetBytes + 1; i < bytes; i++) {
    result = callback(result, inv(data[i]), 8);
  }

  // bits to read, that are not a complete byte
  var lastBits = (bits + offset) % 8;
  if (lastBits > 0) {
    result = callback(result, inv(data[bytes]) >> (8 - lastBits), lastBits);
  }

  return result;
};

var parseFloatFromBits = function(data, precisionBits, exponentBits) {
  var bias = Math.pow(2, exponentBits - 1) - 1;
  var sign = parseBits(data, 1);
  var exponent = parseBits(data, exponentBits, 1);

  if (exponent === 0) {
    return 0;
  }

  // parse mantissa
  var precisionBitsCounter = 1;
  var parsePrecisionBits = function(lastValue, newValue, bits) {
    if (lastValue === 0) {
      lastValue = 1;
    }

    for (var i = 1; i <= bits; i++) {
      precisionBitsCounter /= 2;
      if ((newValue & (0x1 << (bits - i))) > 0) {
        lastValue += precisionBitsCounter;
      }
    }

    return lastValue;
  };

  var mantissa = parseBits(data, precisionBits, exponentBits + 1, false, parsePrecisionBits);

  // special cases
  if (exponent == (Math.pow(2, exponentBits + 1) - 1)) {
    if (mantissa === 0) {
      return (sign === 0) ? Infinity : -Infinity;
    }

    return NaN;
  }

  // normale number
  return ((sign === 0) ? 1 : -1) * Math.pow(2, exponent - bias) * mantissa;
};

var parseInt16 = function(value) {
  if (parseBits(value, 1) == 1) {
    return -1 * (parseBits(value, 15, 1, true) + 1);
  }

  return parseBits(value, 15, 1);
};

var parseInt32 = function(value) {
  if (parseBits(value, 1) == 1) {
    return -1 * (parseBits(value, 31, 1, true) + 1);
  }

  return parseBits(value, 31, 1);
};

var parseFloat32 = function(value) {
  return parseFloatFromBits(value, 23, 8);
};

var parseFloat64 = function(value) {
  return parseFloatFromBits(value, 52, 11);
};

var parseNumeric = function(value) {
  var sign = parseBits(value, 16, 32);
  if (sign == 0xc000) {
    return NaN;
  }

  var weight = Math.pow(10000, parseBits(value, 16, 16));
  var result = 0;

  var digits = [];
  var ndigits = parseBits(value, 16);
  for (var i = 0; i < ndigits; i++) {
    result += parseBits(value, 16, 64 + (16 * i)) * weight;
    weight /= 10000;
  }

  var scale = Math.pow(10, parseBits(value, 16, 48));
  return ((sign === 0) ? 1 : -1) * Math.round(result * scale) / scale;
};

var parseDate = function(isUTC, value) {
  var sign = parseBits(value, 1);
  var rawValue = parseBits(value, 63, 1);

  // discard usecs and shift from 2000 to 1970
  var result = new Date((((sign === 0) ? 1 : -1) * rawValue / 1000) + 946684800000);

  if (!isUTC) {
    result.setTime(result.getTime() + result.getTimezoneOffset() * 60000);
  }

  // add microseconds to the date
  result.usec = rawValue % 1000;
  result.getMicroSeconds = function() {
    return this.usec;
  };
  result.setMicroSeconds = function(value) {
    this.usec = value;
  };
  result.getUTCMicroSeconds = function() {
    return this.usec;
  };

  return result;
};

var parseArray = function(value) {
  var dim = parseBits(value, 32);

  var flags = parseBits(value, 32, 32);
  var elementType = parseBits(value, 32, 64);

  var offset = 96;
  var dims = [];
  for (var i = 0; i < dim; i++) {
    // parse dimension
    dims[i] = parseBits(value, 32, offset);
    offset += 32;

    // ignore lower bounds
    offset += 32;
  }

  var parseElement = function(elementType) {
    // parse content length
    var length = parseBits(value, 32, offset);
    offset += 32;

    // parse null values
    if (length == 0xffffffff) {
      return null;
    }

    var result;
    if ((elementType == 0x17) || (elementType == 0x14)) {
      // int/bigint
      result = parseBits(value, length * 8, offset);
      offset += length * 8;
      return result;
    }
    else if (elementType == 0x19) {
      // string
      result = value.toString(this.encoding, offset >> 3, (offset += (length << 3)) >> 3);
      return result;
    }
    else {
      console.log("ERROR: ElementType not implemented: " + elementType);
    }
  };

  var parse = function(dimension, elementType) {
    var array = [];
    var i;

    if (dimension.length > 1) {
      var count = dimension.shift();
      for (i = 0; i < count; i++) {
        array[i] = parse(dimension, elementType);
      }
      dimension.unshift(count);
    }
    else {
      for (i = 0; i < dimension[0]; i++) {
        array[i] = parseElement(elementType);
      }
    }

    return array;
  };

  return parse(dims, elementType);
};

var parseText = function(value) {
  return value.toString('utf8');
};

var parseBool = function(value) {
  if(value === null) return null;
  return (parseBits(value, 8) > 0);
};

var init = function(register) {
  register(20, parseInt64);
  register(21, parseInt16);
  register(23, parseInt32);
  register(26, parseInt32);
  register(1700, parseNumeric);
  register(700, parseFloat32);
  register(701, parseFloat64);
  register(16, parseBool);
  register(1114, parseDate.bind(null, false));
  register(1184, parseDate.bind(null, true));
  register(1000, parseArray);
  register(1007, parseArray);
  register(1016, parseArray);
  register(1008, parseArray);
  register(1009, parseArray);
  register(25, parseText);
};

module.exports = {
  init: init
};


/***/ }),

/***/ 6345:
/***/ ((module) => {

/**
 * Following query was used to generate this file:

 SELECT json_object_agg(UPPER(PT.typname), PT.oid::int4 ORDER BY pt.oid)
 FROM pg_type PT
 WHERE typnamespace = (SELECT pgn.oid FROM pg_namespace pgn WHERE nspname = 'pg_catalog') -- Take only builting Postgres types with stable OID (extension types are not guaranted to be stable)
 AND typtype = 'b' -- Only basic types
 AND typelem = 0 -- Ignore aliases
 AND typisdefined -- Ignore undefined types
 */

module.exports = {
    BOOL: 16,
    BYTEA: 17,
    CHAR: 18,
    INT8: 20,
    INT2: 21,
    INT4: 23,
    REGPROC: 24,
    TEXT: 25,
    OID: 26,
    TID: 27,
    XID: 28,
    CID: 29,
    JSON: 114,
    XML: 142,
    PG_NODE_TREE: 194,
    SMGR: 210,
    PATH: 602,
    POLYGON: 604,
    CIDR: 650,
    FLOAT4: 700,
    FLOAT8: 701,
    ABSTIME: 702,
    RELTIME: 703,
    TINTERVAL: 704,
    CIRCLE: 718,
    MACADDR8: 774,
    MONEY: 790,
    MACADDR: 829,
    INET: 869,
    ACLITEM: 1033,
    BPCHAR: 1042,
    VARCHAR: 1043,
    DATE: 1082,
    TIME: 1083,
    TIMESTAMP: 1114,
    TIMESTAMPTZ: 1184,
    INTERVAL: 1186,
    TIMETZ: 1266,
    BIT: 1560,
    VARBIT: 1562,
    NUMERIC: 1700,
    REFCURSOR: 1790,
    REGPROCEDURE: 2202,
    REGOPER: 2203,
    REGOPERATOR: 2204,
    REGCLASS: 2205,
    REGTYPE: 2206,
    UUID: 2950,
    TXID_SNAPSHOT: 2970,
    PG_LSN: 3220,
    PG_NDISTINCT: 3361,
    PG_DEPENDENCIES: 3402,
    TSVECTOR: 3614,
    TSQUERY: 3615,
    GTSVECTOR: 3642,
    REGCONFIG: 3734,
    REGDICTIONARY: 3769,
    JSONB: 3802,
    REGNAMESPACE: 4089,
    REGROLE: 4096
};


/***/ }),

/***/ 4784:
/***/ ((module, __unused_webpack_exports, __nccwpck_require__) => {

var array = __nccwpck_require__(3879)
var arrayParser = __nccwpck_require__(6471);
var parseDate = __nccwpck_require__(2690);
var parseInterval = __nccwpck_require__(8755);
var parseByteA = __nccwpck_require__(463);

function allowNull (fn) {
  return function nullAllowed (value) {
    if (value === null) return value
    return fn(value)
  }
}

function parseBool (value) {
  if (value === null) return value
  return value === 'TRUE' ||
    value === 't' ||
    value === 'true' ||
    value === 'y' ||
    value === 'yes' ||
    value === 'on' ||
    value === '1';
}

function parseBoolArray (value) {
  if (!value) return null
  return array.parse(value, parseBool)
}

function parseBaseTenInt (string) {
  return parseInt(string, 10)
}

function parseIntegerArray (value) {
  if (!value) return null
  return array.parse(value, allowNull(parseBaseTenInt))
}

function parseBigIntegerArray (value) {
  if (!value) return null
  return array.parse(value, allowNull(function (entry) {
    return parseBigInteger(entry).trim()
  }))
}

var parsePointArray = function(value) {
  if(!value) { return null; }
  var p = arrayParser.create(value, function(entry) {
    if(entry !== null) {
      entry = parsePoint(entry);
    }
    return entry;
  });

  return p.parse();
};

var parseFloatArray = function(value) {
  if(!value) { return null; }
  var p = arrayParser.create(value, function(entry) {
    if(entry !== null) {
      entry = parseFloat(entry);
    }
    return entry;
  });

  return p.parse();
};

var parseStringArray = function(value) {
  if(!value) { return null; }

  var p = arrayParser.create(value);
  return p.parse();
};

var parseDateArray = function(value) {
  if (!value) { return null; }

  var p = arrayParser.create(value, function(entry) {
    if (entry !== null) {
      entry = parseDate(entry);
    }
    return entry;
  });

  return p.parse();
};

var parseIntervalArray = function(value) {
  if (!value) { return null; }

  var p = arrayParser.create(value, function(entry) {
    if (entry !== null) {
      entry = parseInterval(entry);
    }
    return entry;
  });

  return p.parse();
};

var parseByteAArray = function(value) {
  if (!value) { return null; }

  return array.parse(value, allowNull(parseByteA));
};

var parseInteger = function(value) {
  return parseInt(value, 10);
};

var parseBigInteger = function(value) {
  var valStr = String(value);
  if (/^\d+$/.test(valStr)) { return valStr; }
  return value;
};

var parseJsonArray = function(value) {
  if (!value) { return null; }

  return array.parse(value, allowNull(JSON.parse));
};

var parsePoint = function(value) {
  if (value[0] !== '(') { return null; }

  value = value.substring( 1, value.length - 1 ).split(',');

  return {
    x: parseFloat(value[0])
  , y: parseFloat(value[1])
  };
};

var parseCircle = function(value) {
  if (value[0] !== '<' && value[1] !== '(') { return null; }

  var point = '(';
  var radius = '';
  var pointParsed = false;
  for (var i = 2; i < value.length - 1; i++){
    if (!pointParsed) {
      point += value[i];
    }

    if (value[i] === ')') {
      pointParsed = true;
      continue;
    } else if (!pointParsed) {
      continue;
    }

    if (value[i] === ','){
      continue;
    }

    radius += value[i];
  }
  var result = parsePoint(point);
  result.radius = parseFloat(radius);

  return result;
};

var init = function(register) {
  register(20, parseBigInteger); // int8
  register(21, parseInteger); // int2
  register(23, parseInteger); // int4
  register(26, parseInteger); // oid
  register(700, parseFloat); // float4/real
  register(701, parseFloat); // float8/double
  register(16, parseBool);
  register(1082, parseDate); // date
  register(1114, parseDate); // timestamp without timezone
  register(1184, parseDate); // timestamp
  register(600, parsePoint); // point
  register(651, parseStringArray); // cidr[]
  register(718, parseCircle); // circle
  register(1000, parseBoolArray);
  register(1001, parseByteAArray);
  register(1005, parseIntegerArray); // _int2
  register(1007, parseIntegerArray); // _int4
  register(1028, parseIntegerArray); // oid[]
  register(1016, parseBigIntegerArray); // _int8
  register(1017, parsePointArray); // point[]
  register(1021, parseFloatArray); // _float4
  register(1022, parseFloatArray); // _float8
  register(1231, parseFloatArray); // _numeric
  register(1014, parseStringArray); //char
  register(1015, parseStringArray); //varchar
  register(1008, parseStringArray);
  register(1009, parseStringArray);
  register(1040, parseStringArray); // macaddr[]
  register(1041, parseStringArray); // inet[]
  register(1115, parseDateArray); // timestamp without time zone[]
  register(1182, parseDateArray); // _date
  register(1185, parseDateArray); // timestamp with time zone[]
  register(1186, parseInterval);
  register(1187, parseIntervalArray);
  register(17, parseByteA);
  register(114, JSON.parse.bind(JSON)); // json
  register(3802, JSON.parse.bind(JSON)); // jsonb
  register(199, parseJsonArray); // json[]
  register(3807, parseJsonArray); // jsonb[]
  register(3907, parseStringArray); // numrange[]
  register(2951, parseStringArray); // uuid[]
  register(791, parseStringArray); // money[]
  register(1183, parseStringArray); // time[]
  register(1270, parseStringArray); // timetz[]
};

module.exports = {
  init: init
};


/***/ }),

/***/ 5042:
/***/ ((module, __unused_webpack_exports, __nccwpck_require__) => {

const EventEmitter = (__nccwpck_require__(4434).EventEmitter)
const utils = __nccwpck_require__(9652)
const nodeUtils = __nccwpck_require__(9023)
const sasl = __nccwpck_require__(948)
const TypeOverrides = __nccwpck_require__(365)

const ConnectionParameters = __nccwpck_require__(646)
const Query = __nccwpck_require__(4473)
const defaults = __nccwpck_require__(8995)
const Connection = __nccwpck_require__(9809)
const crypto = __nccwpck_require__(4150)

const activeQueryDeprecationNotice = nodeUtils.deprecate(
  () => {},
  'Client.activeQuery is deprecated and will be removed in pg@9.0'
)

const queryQueueDeprecationNotice = nodeUtils.deprecate(
  () => {},
  'Client.queryQueue is deprecated and will be removed in pg@9.0.'
)

const pgPassDeprecationNotice = nodeUtils.deprecate(
  () => {},
  'pgpass support is deprecated and will be removed in pg@9.0. ' +
    'You can provide an async function as the password property to the Client/Pool constructor that returns a password instead. Within this function you can call the pgpass module in your own code.'
)

const byoPromiseDeprecationNotice = nodeUtils.deprecate(
  () => {},
  'Passing a custom Promise implementation to the Client/Pool constructor is deprecated and will be removed in pg@9.0.'
)

const queryQueueLengthDeprecationNotice = nodeUtils.deprecate(
  () => {},
  'Calling client.query() when the client is already executing a query is deprecated and will be removed in pg@9.0. Use async/await or an external async flow control mechanism instead.'
)

function coerceNumberOrDefault(value, defaultValue) {
  if (typeof value === 'number') {
    return Number.isFinite(value) ? value : defaultValue
  }
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value)
    return Number.isFinite(n) ? n : defaultValue
  }
  return defaultValue
}

class Client extends EventEmitter {
  constructor(config) {
    super()

    this.connectionParameters = new ConnectionParameters(config)
    this.user = this.connectionParameters.user
    this.database = this.connectionParameters.database
    this.port = this.connectionParameters.port
    this.host = this.connectionParameters.host

    // "hiding" the password so it doesn't show up in stack traces
    // or if the client is console.logged
    Object.defineProperty(this, 'password', {
      configurable: true,
      enumerable: false,
      writable: true,
      value: this.connectionParameters.password,
    })

    this.replication = this.connectionParameters.replication

    const c = config || {}

    if (c.Promise) {
      byoPromiseDeprecationNotice()
    }
    this._Promise = c.Promise || global.Promise
    this._types = new TypeOverrides(c.types)
    this._ending = false
    this._ended = false
    this._connecting = false
    this._connected = false
    this._connectionError = false
    this._queryable = true
    this._activeQuery = null
    this._txStatus = null

    this.enableChannelBinding = Boolean(c.enableChannelBinding) // set true to use SCRAM-SHA-256-PLUS when offered
    this.scramMaxIterations = coerceNumberOrDefault(c.scramMaxIterations, sasl.DEFAULT_MAX_SCRAM_ITERATIONS)
    this.connection =
      c.connection ||
      new Connection({
        stream: c.stream,
        ssl: this.connectionParameters.ssl,
        sslNegotiation: this.connectionParameters.sslnegotiation,
        keepAlive: c.keepAlive || false,
        keepAliveInitialDelayMillis: c.keepAliveInitialDelayMillis || 0,
        encoding: this.connectionParameters.client_encoding || 'utf8',
      })
    this._queryQueue = []
    this._sentQueryQueue = []
    this.pipeline = Boolean(c.pipeline)
    this.binary = c.binary || defaults.binary
    this.processID = null
    this.secretKey = null
    this.ssl = this.connectionParameters.ssl || false
    this.sslNegotiation = this.connectionParameters.sslnegotiation || 'postgres'
    // As with Password, make SSL->Key (the private key) non-enumerable.
    // It won't show up in stack traces
    // or if the client is console.logged
    if (this.ssl && this.ssl.key) {
      Object.defineProperty(this.ssl, 'key', {
        enumerable: false,
      })
    }

    this._connectionTimeoutMillis = c.connectionTimeoutMillis || 0
  }

  get activeQuery() {
    activeQueryDeprecationNotice()
    return this._activeQuery
  }

  set activeQuery(val) {
    activeQueryDeprecationNotice()
    this._activeQuery = val
  }

  _getActiveQuery() {
    return this._activeQuery
  }

  _errorAllQueries(err) {
    const enqueueError = (query) => {
      process.nextTick(() => {
        query.handleError(err, this.connection)
      })
    }

    const activeQuery = this._getActiveQuery()
    if (activeQuery) {
      enqueueError(activeQuery)
      this._activeQuery = null
    }

    this._sentQueryQueue.forEach(enqueueError)
    this._sentQueryQueue.length = 0

    this._queryQueue.forEach(enqueueError)
    this._queryQueue.length = 0
  }

  _connect(callback) {
    const self = this
    const con = this.connection
    this._connectionCallback = callback

    if (this._connecting || this._connected) {
      const err = new Error('Client has already been connected. You cannot reuse a client.')
      process.nextTick(() => {
        callback(err)
      })
      return
    }
    this._connecting = true

    if (this._connectionTimeoutMillis > 0) {
      this.connectionTimeoutHandle = setTimeout(() => {
        con._ending = true
        con.stream.destroy(new Error('timeout expired'))
      }, this._connectionTimeoutMillis)

      if (this.connectionTimeoutHandle.unref) {
        this.connectionTimeoutHandle.unref()
      }
    }

    if (this.host && this.host.indexOf('/') === 0) {
      con.connect(this.host + '/.s.PGSQL.' + this.port)
    } else {
      con.connect(this.port, this.host)
    }

    // once connection is established send startup message
    con.on('connect', function () {
      if (self.ssl) {
        // With direct SSL negotiation the connection upgrades to TLS without an
        // SSLRequest packet, so the startup message is sent after 'sslconnect'.
        if (self.sslNegotiation !== 'direct') {
          con.requestSsl()
        }
      } else {
        con.startup(self.getStartupConf())
      }
    })

    con.on('sslconnect', function () {
      con.startup(self.getStartupConf())
    })

    this._attachListeners(con)

    con.once('end', () => {
      const error = this._ending ? new Error('Connection terminated') : new Error('Connection terminated unexpectedly')

      clearTimeout(this.connectionTimeoutHandle)
      this._errorAllQueries(error)
      this._ended = true

      if (!this._ending) {
        // if the connection is ended without us calling .end()
        // on this client then we have an unexpected disconnection
        // treat this as an error unless we've already emitted an error
        // during connection.
        if (this._connecting && !this._connectionError) {
          if (this._connectionCallback) {
            this._connectionCallback(error)
          } else {
            this._handleErrorEvent(error)
          }
        } else if (!this._connectionError) {
          this._handleErrorEvent(error)
        }
      }

      process.nextTick(() => {
        this.emit('end')
      })
    })
  }

  connect(callback) {
    if (callback) {
      this._connect(callback)
      return
    }

    return new this._Promise((resolve, reject) => {
      this._connect((error) => {
        if (error) {
          reject(error)
        } else {
          resolve(this)
        }
      })
    })
  }

  _attachListeners(con) {
    // password request handling
    con.on('authenticationCleartextPassword', this._handleAuthCleartextPassword.bind(this))
    // password request handling
    con.on('authenticationMD5Password', this._handleAuthMD5Password.bind(this))
    // password request handling (SASL)
    con.on('authenticationSASL', this._handleAuthSASL.bind(this))
    con.on('authenticationSASLContinue', this._handleAuthSASLContinue.bind(this))
    con.on('authenticationSASLFinal', this._handleAuthSASLFinal.bind(this))
    con.on('backendKeyData', this._handleBackendKeyData.bind(this))
    con.on('error', this._handleErrorEvent.bind(this))
    con.on('errorMessage', this._handleErrorMessage.bind(this))
    con.on('readyForQuery', this._handleReadyForQuery.bind(this))
    con.on('notice', this._handleNotice.bind(this))
    con.on('rowDescription', this._handleRowDescription.bind(this))
    con.on('dataRow', this._handleDataRow.bind(this))
    con.on('portalSuspended', this._handlePortalSuspended.bind(this))
    con.on('emptyQuery', this._handleEmptyQuery.bind(this))
    con.on('commandComplete', this._handleCommandComplete.bind(this))
    con.on('parseComplete', this._handleParseComplete.bind(this))
    con.on('copyInResponse', this._handleCopyInResponse.bind(this))
    con.on('copyData', this._handleCopyData.bind(this))
    con.on('notification', this._handleNotification.bind(this))
  }

  _getPassword(cb) {
    const con = this.connection
    if (typeof this.password === 'function') {
      this._Promise
        .resolve()
        .then(() => this.password(this.connectionParameters))
        .then((pass) => {
          if (pass !== undefined) {
            if (typeof pass !== 'string') {
              con.emit('error', new TypeError('Password must be a string'))
              return
            }
            this.connectionParameters.password = this.password = pass
          } else {
            this.connectionParameters.password = this.password = null
          }
          cb()
        })
        .catch((err) => {
          con.emit('error', err)
        })
    } else if (this.password !== null) {
      cb()
    } else {
      try {
        const pgPass = __nccwpck_require__(3272)
        pgPass(this.connectionParameters, (pass) => {
          if (undefined !== pass) {
            pgPassDeprecationNotice()
            this.connectionParameters.password = this.password = pass
          }
          cb()
        })
      } catch (e) {
        this.emit('error', e)
      }
    }
  }

  _handleAuthCleartextPassword(msg) {
    this._getPassword(() => {
      this.connection.password(this.password)
    })
  }

  _handleAuthMD5Password(msg) {
    this._getPassword(async () => {
      try {
        const hashedPassword = await crypto.postgresMd5PasswordHash(this.user, this.password, msg.salt)
        this.connection.password(hashedPassword)
      } catch (e) {
        this.emit('error', e)
      }
    })
  }

  _handleAuthSASL(msg) {
    this._getPassword(() => {
      try {
        this.saslSession = sasl.startSession(
          msg.mechanisms,
          this.enableChannelBinding && this.connection.stream,
          this.scramMaxIterations
        )
        this.connection.sendSASLInitialResponseMessage(this.saslSession.mechanism, this.saslSession.response)
      } catch (err) {
        this.connection.emit('error', err)
      }
    })
  }

  async _handleAuthSASLContinue(msg) {
    try {
      await sasl.continueSession(
        this.saslSession,
        this.password,
        msg.data,
        this.enableChannelBinding && this.connection.stream
      )
      this.connection.sendSCRAMClientFinalMessage(this.saslSession.response)
    } catch (err) {
      this.connection.emit('error', err)
    }
  }

  _handleAuthSASLFinal(msg) {
    try {
      sasl.finalizeSession(this.saslSession, msg.data)
      this.saslSession = null
    } catch (err) {
      this.connection.emit('error', err)
    }
  }

  _handleBackendKeyData(msg) {
    this.processID = msg.processID
    this.secretKey = msg.secretKey
  }

  _handleReadyForQuery(msg) {
    if (this._connecting) {
      this._connecting = false
      this._connected = true
      clearTimeout(this.connectionTimeoutHandle)

      // process possible callback argument to Client#connect
      if (this._connectionCallback) {
        this._connectionCallback(null, this)
        // remove callback for proper error handling
        // after the connect event
        this._connectionCallback = null
      }
      this.emit('connect')
    }
    const activeQuery = this._getActiveQuery()
    this._activeQuery = null
    this._txStatus = msg?.status ?? null
    this.readyForQuery = true
    if (activeQuery) {
      activeQuery.handleReadyForQuery(this.connection)
    }
    this._pulseQueryQueue()
  }

  // if we receive an error event or error message
  // during the connection process we handle it here
  _handleErrorWhileConnecting(err) {
    if (this._connectionError) {
      // TODO(bmc): this is swallowing errors - we shouldn't do this
      return
    }
    this._connectionError = true
    clearTimeout(this.connectionTimeoutHandle)
    if (this._connectionCallback) {
      return this._connectionCallback(err)
    }
    this.emit('error', err)
  }

  // if we're connected and we receive an error event from the connection
  // this means the socket is dead - do a hard abort of all queries and emit
  // the socket error on the client as well
  _handleErrorEvent(err) {
    if (this._connecting) {
      return this._handleErrorWhileConnecting(err)
    }
    this._queryable = false
    this._errorAllQueries(err)
    this.emit('error', err)
  }

  // handle error messages from the postgres backend
  _handleErrorMessage(msg) {
    if (this._connecting) {
      return this._handleErrorWhileConnecting(msg)
    }
    const activeQuery = this._getActiveQuery()

    if (!activeQuery) {
      this._handleErrorEvent(msg)
      return
    }

    this._activeQuery = null
    if (activeQuery.name) {
      delete this.connection.submittedNamedStatements[activeQuery.name]
    }
    activeQuery.handleError(msg, this.connection)
  }

  _handleRowDescription(msg) {
    const activeQuery = this._getActiveQuery()
    if (activeQuery == null) {
      const error = new Error('Received unexpected rowDescription message from backend.')
      this._handleErrorEvent(error)
      return
    }
    // delegate rowDescription to active query
    activeQuery.handleRowDescription(msg)
  }

  _handleDataRow(msg) {
    const activeQuery = this._getActiveQuery()
    if (activeQuery == null) {
      const error = new Error('Received unexpected dataRow message from backend.')
      this._handleErrorEvent(error)
      return
    }
    // delegate dataRow to active query
    activeQuery.handleDataRow(msg)
  }

  _handlePortalSuspended(msg) {
    const activeQuery = this._getActiveQuery()
    if (activeQuery == null) {
      const error = new Error('Received unexpected portalSuspended message from backend.')
      this._handleErrorEvent(error)
      return
    }
    // delegate portalSuspended to active query
    activeQuery.handlePortalSuspended(this.connection)
  }

  _handleEmptyQuery(msg) {
    const activeQuery = this._getActiveQuery()
    if (activeQuery == null) {
      const error = new Error('Received unexpected emptyQuery message from backend.')
      this._handleErrorEvent(error)
      return
    }
    // delegate emptyQuery to active query
    activeQuery.handleEmptyQuery(this.connection)
  }

  _handleCommandComplete(msg) {
    const activeQuery = this._getActiveQuery()
    if (activeQuery == null) {
      const error = new Error('Received unexpected commandComplete message from backend.')
      this._handleErrorEvent(error)
      return
    }
    // delegate commandComplete to active query
    activeQuery.handleCommandComplete(msg, this.connection)
  }

  _handleParseComplete() {
    const activeQuery = this._getActiveQuery()
    if (activeQuery == null) {
      const error = new Error('Received unexpected parseComplete message from backend.')
      this._handleErrorEvent(error)
      return
    }
    // if a prepared statement has a name and properly parses
    // we track that its already been executed so we don't parse
    // it again on the same client
    if (activeQuery.name) {
      this.connection.parsedStatements[activeQuery.name] = activeQuery.text
      delete this.connection.submittedNamedStatements[activeQuery.name]
    }
  }

  _handleCopyInResponse(msg) {
    const activeQuery = this._getActiveQuery()
    if (activeQuery == null) {
      const error = new Error('Received unexpected copyInResponse message from backend.')
      this._handleErrorEvent(error)
      return
    }
    activeQuery.handleCopyInResponse(this.connection)
  }

  _handleCopyData(msg) {
    const activeQuery = this._getActiveQuery()
    if (activeQuery == null) {
      const error = new Error('Received unexpected copyData message from backend.')
      this._handleErrorEvent(error)
      return
    }
    activeQuery.handleCopyData(msg, this.connection)
  }

  _handleNotification(msg) {
    this.emit('notification', msg)
  }

  _handleNotice(msg) {
    this.emit('notice', msg)
  }

  getStartupConf() {
    const params = this.connectionParameters

    const data = {
      user: params.user,
      database: params.database,
    }

    const appName = params.application_name || params.fallback_application_name
    if (appName) {
      data.application_name = appName
    }
    if (params.replication) {
      data.replication = '' + params.replication
    }
    if (params.statement_timeout) {
      data.statement_timeout = String(parseInt(params.statement_timeout, 10))
    }
    if (params.lock_timeout) {
      data.lock_timeout = String(parseInt(params.lock_timeout, 10))
    }
    if (params.idle_in_transaction_session_timeout) {
      data.idle_in_transaction_session_timeout = String(parseInt(params.idle_in_transaction_session_timeout, 10))
    }
    if (params.options) {
      data.options = params.options
    }

    return data
  }

  cancel(client, query) {
    if (client.activeQuery === query) {
      const con = this.connection

      if (this.host && this.host.indexOf('/') === 0) {
        con.connect(this.host + '/.s.PGSQL.' + this.port)
      } else {
        con.connect(this.port, this.host)
      }

      // once connection is established send cancel message
      con.on('connect', function () {
        con.cancel(client.processID, client.secretKey)
      })
    } else if (client._queryQueue.indexOf(query) !== -1) {
      client._queryQueue.splice(client._queryQueue.indexOf(query), 1)
    } else if (client._sentQueryQueue.indexOf(query) !== -1) {
      // Query already sent on wire — can't remove it without corrupting the
      // pipeline. No-op the callback so the result is silently discarded.
      query.callback = () => {}
    }
  }

  setTypeParser(oid, format, parseFn) {
    return this._types.setTypeParser(oid, format, parseFn)
  }

  getTypeParser(oid, format) {
    return this._types.getTypeParser(oid, format)
  }

  // escapeIdentifier and escapeLiteral moved to utility functions & exported
  // on PG
  // re-exported here for backwards compatibility
  escapeIdentifier(str) {
    return utils.escapeIdentifier(str)
  }

  escapeLiteral(str) {
    return utils.escapeLiteral(str)
  }

  _pulseQueryQueue() {
    if (this.pipeline) {
      this._pulsePipelinedQueryQueue()
      return
    }
    if (this.readyForQuery === true) {
      this._activeQuery = this._queryQueue.shift()
      const activeQuery = this._getActiveQuery()
      if (activeQuery) {
        this.readyForQuery = false
        this.hasExecuted = true

        const queryError = activeQuery.submit(this.connection)
        if (queryError) {
          process.nextTick(() => {
            activeQuery.handleError(queryError, this.connection)
            this.readyForQuery = true
            this._pulseQueryQueue()
          })
        }
      } else if (this.hasExecuted) {
        this._activeQuery = null
        this.emit('drain')
      }
    }
  }

  _pulsePipelinedQueryQueue() {
    if (!this._connected || !this._queryable) {
      return
    }
    while (this._queryQueue.length > 0) {
      const query = this._queryQueue.shift()
      this.hasExecuted = true
      const queryError = query.submit(this.connection)
      if (queryError) {
        process.nextTick(() => {
          query.handleError(queryError, this.connection)
        })
        continue
      }
      this._sentQueryQueue.push(query)
    }
    if (this.readyForQuery && !this._activeQuery && this._sentQueryQueue.length > 0) {
      this._activeQuery = this._sentQueryQueue.shift()
      this.readyForQuery = false
    }
    if (!this._activeQuery && this._sentQueryQueue.length === 0 && this._queryQueue.length === 0 && this.hasExecuted) {
      this.emit('drain')
    }
  }

  query(config, values, callback) {
    // can take in strings, config object or query object
    let query
    let result

    if (config == null) {
      throw new TypeError('Client was passed a null or undefined query')
    }

    if (typeof config.submit === 'function') {
      result = query = config
      if (!query.callback) {
        if (typeof values === 'function') {
          query.callback = values
        } else if (callback) {
          query.callback = callback
        }
      }
    } else {
      query = new Query(config, values, callback)
      if (!query.callback) {
        result = new this._Promise((resolve, reject) => {
          query.callback = (err, res) => (err ? reject(err) : resolve(res))
        }).catch((err) => {
          // replace the stack trace that leads to `TCP.onStreamRead` with one that leads back to the
          // application that created the query
          Error.captureStackTrace(err)
          throw err
        })
      } else if (typeof query.callback !== 'function') {
        throw new TypeError('callback is not a function')
      }
    }

    const readTimeout = config.query_timeout || this.connectionParameters.query_timeout
    if (readTimeout) {
      const queryCallback = query.callback || (() => {})

      const readTimeoutTimer = setTimeout(() => {
        const error = new Error('Query read timeout')

        process.nextTick(() => {
          query.handleError(error, this.connection)
        })

        queryCallback(error)

        // we already returned an error,
        // just do nothing if query completes
        query.callback = () => {}

        // Remove from queue (only safe if not yet sent)
        const index = this._queryQueue.indexOf(query)
        if (index > -1) {
          this._queryQueue.splice(index, 1)
        } else if (this.pipeline) {
          // Query already sent — the pipeline is blocked until it completes.
          // Destroy the connection to unblock all remaining pipelined queries.
          this.connection.stream.destroy()
          return
        }

        this._pulseQueryQueue()
      }, readTimeout)

      query.callback = (err, res) => {
        clearTimeout(readTimeoutTimer)
        queryCallback(err, res)
      }
    }

    if (this.binary && !query.binary) {
      query.binary = true
    }

    if (query._result && !query._result._types) {
      query._result._types = this._types
    }

    // A query that keeps a portal open across round trips cannot share a pipelined connection: the
    // queries written behind it are answered out of its portal, so rows land on the wrong query and
    // the reads that follow fail with 'portal does not exist'. Refuse it instead of corrupting.
    if (this.pipeline) {
      const portalQuery =
        typeof config.submit === 'function' && !(query instanceof Query)
          ? 'Custom query classes such as pg-cursor and pg-query-stream are'
          : query.rows
          ? 'The `rows` option is'
          : null
      if (portalQuery) {
        process.nextTick(() => {
          query.handleError(new Error(`${portalQuery} not supported in pipeline mode`), this.connection)
        })
        return result
      }
    }

    if (!this._queryable) {
      process.nextTick(() => {
        query.handleError(new Error('Client has encountered a connection error and is not queryable'), this.connection)
      })
      return result
    }

    if (this._ending) {
      process.nextTick(() => {
        query.handleError(new Error('Client was closed and is not queryable'), this.connection)
      })
      return result
    }

    if (this._queryQueue.length > 0 && !this.pipeline) {
      queryQueueLengthDeprecationNotice()
    }
    this._queryQueue.push(query)
    this._pulseQueryQueue()
    return result
  }

  ref() {
    this.connection.ref()
  }

  unref() {
    this.connection.unref()
  }

  getTransactionStatus() {
    return this._txStatus
  }

  end(cb) {
    this._ending = true

    // if we have never connected, then end is a noop, callback immediately
    if (!this.connection._connecting || this._ended) {
      if (cb) {
        cb()
        return
      } else {
        return this._Promise.resolve()
      }
    }

    if (!this._queryable) {
      // socket is dead — force close
      this.connection.stream.destroy()
    } else if (
      this.pipeline &&
      (this._getActiveQuery() || this._sentQueryQueue.length > 0 || this._queryQueue.length > 0)
    ) {
      // pipelined queries are already on the wire (or queued to send) and will
      // complete normally; wait for drain then do a graceful goodbye
      this.once('drain', () => this.connection.end())
    } else if (this._getActiveQuery()) {
      // non-pipeline: a hung query could block end forever — force disconnect
      this.connection.stream.destroy()
    } else {
      this.connection.end()
    }

    if (cb) {
      this.connection.once('end', cb)
    } else {
      return new this._Promise((resolve) => {
        this.connection.once('end', resolve)
      })
    }
  }
  get queryQueue() {
    queryQueueDeprecationNotice()
    return this._queryQueue
  }
}

// expose a Query constructor
Client.Query = Query

module.exports = Client


/***/ }),

/***/ 646:
/***/ ((module, __unused_webpack_exports, __nccwpck_require__) => {



const dns = __nccwpck_require__(2250)

const defaults = __nccwpck_require__(8995)

const parse = (__nccwpck_require__(6122).parse) // parses a connection string

const val = function (key, config, envVar) {
  if (config[key]) {
    return config[key]
  }

  if (envVar === undefined) {
    envVar = process.env['PG' + key.toUpperCase()]
  } else if (envVar === false) {
    // do nothing ... use false
  } else {
    envVar = process.env[envVar]
  }

  return envVar || defaults[key]
}

const readSSLConfigFromEnvironment = function () {
  switch (process.env.PGSSLMODE) {
    case 'disable':
      return false
    case 'prefer':
    case 'require':
    case 'verify-ca':
    case 'verify-full':
      return true
    case 'no-verify':
      return { rejectUnauthorized: false }
  }
  return defaults.ssl
}

// Convert arg to a string, surround in single quotes, and escape single quotes and backslashes
const quoteParamValue = function (value) {
  return "'" + ('' + value).replace(/\\/g, '\\\\').replace(/'/g, "\\'") + "'"
}

const add = function (params, config, paramName) {
  const value = config[paramName]
  if (value !== undefined && value !== null) {
    params.push(paramName + '=' + quoteParamValue(value))
  }
}

class ConnectionParameters {
  constructor(config) {
    // if a string is passed, it is a raw connection string so we parse it into a config
    config = typeof config === 'string' ? parse(config) : config || {}

    // if the config has a connectionString defined, parse IT into the config we use
    // this will override other default values with what is stored in connectionString
    if (config.connectionString) {
      config = Object.assign({}, config, parse(config.connectionString))
    }

    this.user = val('user', config)
    this.database = val('database', config)

    if (this.database === undefined) {
      this.database = this.user
    }

    this.port = parseInt(val('port', config), 10)
    this.host = val('host', config)

    // "hiding" the password so it doesn't show up in stack traces
    // or if the client is console.logged
    Object.defineProperty(this, 'password', {
      configurable: true,
      enumerable: false,
      writable: true,
      value: val('password', config),
    })

    this.binary = val('binary', config)
    this.options = val('options', config)

    this.ssl = typeof config.ssl === 'undefined' ? readSSLConfigFromEnvironment() : config.ssl

    if (typeof this.ssl === 'string') {
      if (this.ssl === 'true') {
        this.ssl = true
      }
    }
    // support passing in ssl=no-verify via connection string
    if (this.ssl === 'no-verify') {
      this.ssl = { rejectUnauthorized: false }
    }
    if (this.ssl && this.ssl.key) {
      Object.defineProperty(this.ssl, 'key', {
        enumerable: false,
      })
    }

    // How to negotiate SSL: 'postgres' (default, the traditional SSLRequest
    // handshake) or 'direct' (start the TLS handshake immediately on connect).
    this.sslnegotiation = val('sslnegotiation', config, 'PGSSLNEGOTIATION')
    if (this.sslnegotiation !== undefined && this.sslnegotiation !== 'postgres' && this.sslnegotiation !== 'direct') {
      throw new Error(
        `Invalid sslnegotiation value: "${this.sslnegotiation}". Valid values are "postgres" and "direct".`
      )
    }
    if (this.sslnegotiation === 'direct' && !this.ssl) {
      throw new Error('sslnegotiation=direct requires SSL to be enabled')
    }

    this.client_encoding = val('client_encoding', config)
    this.replication = val('replication', config)
    // a domain socket begins with '/'
    this.isDomainSocket = !(this.host || '').indexOf('/')

    this.application_name = val('application_name', config, 'PGAPPNAME')
    this.fallback_application_name = val('fallback_application_name', config, false)
    this.statement_timeout = val('statement_timeout', config, false)
    this.lock_timeout = val('lock_timeout', config, false)
    this.idle_in_transaction_session_timeout = val('idle_in_transaction_session_timeout', config, false)
    this.query_timeout = val('query_timeout', config, false)

    if (config.connectionTimeoutMillis === undefined) {
      this.connect_timeout = process.env.PGCONNECT_TIMEOUT || 0
    } else {
      this.connect_timeout = Math.floor(config.connectionTimeoutMillis / 1000)
    }

    if (config.keepAlive === false) {
      this.keepalives = 0
    } else if (config.keepAlive === true) {
      this.keepalives = 1
    }

    if (typeof config.keepAliveInitialDelayMillis === 'number') {
      this.keepalives_idle = Math.floor(config.keepAliveInitialDelayMillis / 1000)
    }
  }

  getLibpqConnectionString(cb) {
    const params = []
    add(params, this, 'user')
    add(params, this, 'password')
    add(params, this, 'port')
    add(params, this, 'application_name')
    add(params, this, 'fallback_application_name')
    add(params, this, 'connect_timeout')
    add(params, this, 'options')

    const ssl = typeof this.ssl === 'object' ? this.ssl : this.ssl ? { sslmode: this.ssl } : {}
    add(params, ssl, 'sslmode')
    add(params, ssl, 'sslca')
    add(params, ssl, 'sslkey')
    add(params, ssl, 'sslcert')
    add(params, ssl, 'sslrootcert')
    add(params, this, 'sslnegotiation')

    if (this.database) {
      params.push('dbname=' + quoteParamValue(this.database))
    }
    if (this.replication) {
      params.push('replication=' + quoteParamValue(this.replication))
    }
    if (this.host) {
      params.push('host=' + quoteParamValue(this.host))
    }
    if (this.isDomainSocket) {
      return cb(null, params.join(' '))
    }
    if (this.client_encoding) {
      params.push('client_encoding=' + quoteParamValue(this.client_encoding))
    }
    dns.lookup(this.host, function (err, address) {
      if (err) return cb(err, null)
      params.push('hostaddr=' + quoteParamValue(address))
      return cb(null, params.join(' '))
    })
  }
}

module.exports = ConnectionParameters


/***/ }),

/***/ 9809:
/***/ ((module, __unused_webpack_exports, __nccwpck_require__) => {



const EventEmitter = (__nccwpck_require__(4434).EventEmitter)

const { parse, serialize } = __nccwpck_require__(4233)
const stream = __nccwpck_require__(829)
const { getStream } = stream

const flushBuffer = serialize.flush()
const syncBuffer = serialize.sync()
const endBuffer = serialize.end()

// TODO(bmc) support binary mode at some point
class Connection extends EventEmitter {
  constructor(config) {
    super()
    config = config || {}

    this.stream = config.stream || getStream(config.ssl)
    if (typeof this.stream === 'function') {
      this.stream = this.stream(config)
    }

    this._keepAlive = config.keepAlive
    this._keepAliveInitialDelayMillis = config.keepAliveInitialDelayMillis
    this.parsedStatements = {}
    this.submittedNamedStatements = {}
    this.ssl = config.ssl || false
    this.sslNegotiation = config.sslNegotiation || 'postgres'
    this._ending = false
    this._emitMessage = false
    const self = this
    this.on('newListener', function (eventName) {
      if (eventName === 'message') {
        self._emitMessage = true
      }
    })
  }

  connect(port, host) {
    const self = this

    this._connecting = true
    this.stream.setNoDelay(true)
    this.stream.connect(port, host)

    this.stream.once('connect', function () {
      if (self._keepAlive) {
        self.stream.setKeepAlive(true, self._keepAliveInitialDelayMillis)
      }
      self.emit('connect')
    })

    const reportStreamError = function (error) {
      // errors about disconnections should be ignored during disconnect
      if (self._ending && (error.code === 'ECONNRESET' || error.code === 'EPIPE')) {
        return
      }
      self.emit('error', error)
    }
    this.stream.on('error', reportStreamError)

    this.stream.on('close', function () {
      self.emit('end')
    })

    if (!this.ssl) {
      return this.attachListeners(this.stream)
    }

    // With direct SSL negotiation the TLS handshake starts immediately on the
    // raw socket, skipping the SSLRequest packet and the server's 'S'/'N' reply.
    if (this.sslNegotiation === 'direct') {
      return this.stream.once('connect', function () {
        self.upgradeToSSL(host, reportStreamError)
      })
    }

    this.stream.once('data', function (buffer) {
      const responseCode = buffer.toString('utf8')
      switch (responseCode) {
        case 'S': // Server supports SSL connections, continue with a secure connection
          break
        case 'N': // Server does not support SSL connections
          self.stream.end()
          return self.emit('error', new Error('The server does not support SSL connections'))
        default:
          // Any other response byte, including 'E' (ErrorResponse) indicating a server error
          self.stream.end()
          return self.emit('error', new Error('There was an error establishing an SSL connection'))
      }
      self.upgradeToSSL(host, reportStreamError)
    })
  }

  upgradeToSSL(host, reportStreamError) {
    const self = this
    const options = {
      socket: self.stream,
      // tls.connect checks the server identity against `servername`, falling
      // back to `host` and then to 'localhost'. `servername` must stay unset
      // for IP addresses (see below), so `host` is needed to keep certificate
      // validation working when connecting to an IP address.
      host,
    }

    if (self.ssl !== true) {
      Object.assign(options, self.ssl)

      if ('key' in self.ssl) {
        options.key = self.ssl.key
      }
    }

    // Direct SSL negotiation requires ALPN so the server can confirm it is
    // speaking the PostgreSQL protocol over the TLS connection.
    if (self.sslNegotiation === 'direct') {
      options.ALPNProtocols = ['postgresql']
    }

    // SNI must not be set to an IP address (RFC 6066 section 3)
    const net = __nccwpck_require__(9278)
    if (net.isIP && net.isIP(host) === 0) {
      options.servername = host
    }
    try {
      self.stream = stream.getSecureStream(options)
    } catch (err) {
      return self.emit('error', err)
    }
    self.attachListeners(self.stream)
    self.stream.on('error', reportStreamError)

    self.emit('sslconnect')
  }

  attachListeners(stream) {
    parse(stream, (msg) => {
      const eventName = msg.name === 'error' ? 'errorMessage' : msg.name
      if (this._emitMessage) {
        this.emit('message', msg)
      }
      this.emit(eventName, msg)
    })
  }

  requestSsl() {
    this.stream.write(serialize.requestSsl())
  }

  startup(config) {
    this.stream.write(serialize.startup(config))
  }

  cancel(processID, secretKey) {
    this._send(serialize.cancel(processID, secretKey))
  }

  password(password) {
    this._send(serialize.password(password))
  }

  sendSASLInitialResponseMessage(mechanism, initialResponse) {
    this._send(serialize.sendSASLInitialResponseMessage(mechanism, initialResponse))
  }

  sendSCRAMClientFinalMessage(additionalData) {
    this._send(serialize.sendSCRAMClientFinalMessage(additionalData))
  }

  _send(buffer) {
    if (!this.stream.writable) {
      return false
    }
    return this.stream.write(buffer)
  }

  query(text) {
    this._send(serialize.query(text))
  }

  // send parse message
  parse(query) {
    this._send(serialize.parse(query))
  }

  // send bind message
  bind(config) {
    this._send(serialize.bind(config))
  }

  // send execute message
  execute(config) {
    this._send(serialize.execute(config))
  }

  flush() {
    if (this.stream.writable) {
      this.stream.write(flushBuffer)
    }
  }

  sync() {
    // Sync is the extended-query protocol barrier, not a disconnect.
    // Only end()/Terminate (and connect-timeout teardown) should set _ending.
    this._send(syncBuffer)
  }

  ref() {
    this.stream.ref()
  }

  unref() {
    this.stream.unref()
  }

  end() {
    // 0x58 = 'X'
    this._ending = true
    if (!this._connecting || !this.stream.writable) {
      this.stream.end()
      return
    }
    return this.stream.write(endBuffer, () => {
      this.stream.end()
    })
  }

  close(msg) {
    this._send(serialize.close(msg))
  }

  describe(msg) {
    this._send(serialize.describe(msg))
  }

  sendCopyFromChunk(chunk) {
    this._send(serialize.copyData(chunk))
  }

  endCopyFrom() {
    this._send(serialize.copyDone())
  }

  sendCopyFail(msg) {
    this._send(serialize.copyFail(msg))
  }
}

module.exports = Connection


/***/ }),

/***/ 9765:
/***/ ((module) => {

function x509Error(msg, cert) {
  return new Error('SASL channel binding: ' + msg + ' when parsing public certificate ' + cert.toString('base64'))
}

function readASN1Length(data, index) {
  let length = data[index++]
  if (length < 0x80) return { length, index }

  const lengthBytes = length & 0x7f
  if (lengthBytes > 4) throw x509Error('bad length', data)

  length = 0
  for (let i = 0; i < lengthBytes; i++) {
    length = (length << 8) | data[index++]
  }

  return { length, index }
}

function readASN1OID(data, index) {
  if (data[index++] !== 0x6) throw x509Error('non-OID data', data) // 6 = OID

  const { length: OIDLength, index: indexAfterOIDLength } = readASN1Length(data, index)
  index = indexAfterOIDLength
  const lastIndex = index + OIDLength

  const byte1 = data[index++]
  let oid = ((byte1 / 40) >> 0) + '.' + (byte1 % 40)

  while (index < lastIndex) {
    // loop over numbers in OID
    let value = 0
    while (index < lastIndex) {
      // loop over bytes in number
      const nextByte = data[index++]
      value = (value << 7) | (nextByte & 0x7f)
      if (nextByte < 0x80) break
    }
    oid += '.' + value
  }

  return { oid, index }
}

function expectASN1Seq(data, index) {
  if (data[index++] !== 0x30) throw x509Error('non-sequence data', data) // 30 = Sequence
  return readASN1Length(data, index)
}

function signatureAlgorithmHashFromCertificate(data, index) {
  // read this thread: https://www.postgresql.org/message-id/17760-b6c61e752ec07060%40postgresql.org
  if (index === undefined) index = 0
  index = expectASN1Seq(data, index).index
  const { length: certInfoLength, index: indexAfterCertInfoLength } = expectASN1Seq(data, index)
  index = indexAfterCertInfoLength + certInfoLength // skip over certificate info
  index = expectASN1Seq(data, index).index // skip over signature length field
  const { oid, index: indexAfterOID } = readASN1OID(data, index)
  switch (oid) {
    // RSA
    case '1.2.840.113549.1.1.4':
      return 'MD5'
    case '1.2.840.113549.1.1.5':
      return 'SHA-1'
    case '1.2.840.113549.1.1.11':
      return 'SHA-256'
    case '1.2.840.113549.1.1.12':
      return 'SHA-384'
    case '1.2.840.113549.1.1.13':
      return 'SHA-512'
    case '1.2.840.113549.1.1.14':
      return 'SHA-224'
    case '1.2.840.113549.1.1.15':
      return 'SHA512-224'
    case '1.2.840.113549.1.1.16':
      return 'SHA512-256'
    // ECDSA
    case '1.2.840.10045.4.1':
      return 'SHA-1'
    case '1.2.840.10045.4.3.1':
      return 'SHA-224'
    case '1.2.840.10045.4.3.2':
      return 'SHA-256'
    case '1.2.840.10045.4.3.3':
      return 'SHA-384'
    case '1.2.840.10045.4.3.4':
      return 'SHA-512'
    // RSASSA-PSS: hash is indicated separately
    case '1.2.840.113549.1.1.10': {
      index = indexAfterOID
      index = expectASN1Seq(data, index).index
      if (data[index++] !== 0xa0) throw x509Error('non-tag data', data) // a0 = constructed tag 0
      index = readASN1Length(data, index).index // skip over tag length field
      index = expectASN1Seq(data, index).index // skip over sequence length field
      const { oid: hashOID } = readASN1OID(data, index)
      switch (hashOID) {
        // standalone hash OIDs
        case '1.2.840.113549.2.5':
          return 'MD5'
        case '1.3.14.3.2.26':
          return 'SHA-1'
        case '2.16.840.1.101.3.4.2.1':
          return 'SHA-256'
        case '2.16.840.1.101.3.4.2.2':
          return 'SHA-384'
        case '2.16.840.1.101.3.4.2.3':
          return 'SHA-512'
      }
      throw x509Error('unknown hash OID ' + hashOID, data)
    }
    // Ed25519 -- see https://github.com/openssl/openssl/issues/15477
    case '1.3.101.110':
    case '1.3.101.112': // ph
      return 'SHA-512'
    // Ed448 -- still not in pg 17.2 (if supported, digest would be SHAKE256 x 64 bytes)
    case '1.3.101.111':
    case '1.3.101.113': // ph
      throw x509Error('Ed448 certificate channel binding is not currently supported by Postgres')
  }
  throw x509Error('unknown OID ' + oid, data)
}

module.exports = { signatureAlgorithmHashFromCertificate }


/***/ }),

/***/ 948:
/***/ ((module, __unused_webpack_exports, __nccwpck_require__) => {


const crypto = __nccwpck_require__(4150)
const { signatureAlgorithmHashFromCertificate } = __nccwpck_require__(9765)

// SASLprep (RFC 4013) — minimal in-tree implementation.
//
// Per RFC 5802 §2.2, the SCRAM-SHA-256 client must normalize the password via
// SASLprep before feeding it into PBKDF2. PostgreSQL's server applies the same
// SASLprep when computing the stored verifier, and libpq does the same client
// side, so passwords whose NFKC form differs from the raw form
// would otherwise authenticate against psql/libpq but fail against pg with `28P01`.
//
// We deliberately implement only the three steps that change the byte content:
//   1. RFC 3454 Table C.1.2 (non-ASCII space) → U+0020 SPACE.
//   2. RFC 3454 Table B.1 (commonly mapped to nothing) → empty.
//   3. NFKC normalization.
// We skip the prohibition (RFC 4013 §2.3) and bidi (RFC 3454 §6) checks.
// libpq is forgiving on those paths and Postgres's own SASLprep matches that
// leniency for legacy roles, so omitting the rejection logic keeps existing
// roles working without adding complexity.
function saslprep(password) {
  // RFC 3454 Table C.1.2 — non-ASCII space characters, mapped to U+0020.
  const nonAsciiSpace = /[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/g
  // RFC 3454 Table B.1 — "commonly mapped to nothing". The set intentionally
  // contains zero-width joiners and variation selectors — the very characters
  // ESLint's no-misleading-character-class warns about — because they combine
  // with their neighbors and the RFC strips them for that reason.
  // eslint-disable-next-line no-misleading-character-class
  const mappedToNothing = /[\u00AD\u034F\u1806\u180B\u180C\u180D\u200C\u200D\u2060\uFE00-\uFE0F\uFEFF]/g
  return password.replace(nonAsciiSpace, ' ').replace(mappedToNothing, '').normalize('NFKC')
}

const DEFAULT_MAX_SCRAM_ITERATIONS = 100000

function startSession(mechanisms, stream, scramMaxIterations = DEFAULT_MAX_SCRAM_ITERATIONS) {
  const candidates = ['SCRAM-SHA-256']
  if (stream) candidates.unshift('SCRAM-SHA-256-PLUS') // higher-priority, so placed first

  const mechanism = candidates.find((candidate) => mechanisms.includes(candidate))

  if (!mechanism) {
    throw new Error('SASL: Only mechanism(s) ' + candidates.join(' and ') + ' are supported')
  }

  if (mechanism === 'SCRAM-SHA-256-PLUS' && typeof stream.getPeerCertificate !== 'function') {
    // this should never happen if we are really talking to a Postgres server
    throw new Error('SASL: Mechanism SCRAM-SHA-256-PLUS requires a certificate')
  }

  const clientNonce = crypto.randomBytes(18).toString('base64')
  const gs2Header = mechanism === 'SCRAM-SHA-256-PLUS' ? 'p=tls-server-end-point' : stream ? 'y' : 'n'

  return {
    mechanism,
    clientNonce,
    response: gs2Header + ',,n=*,r=' + clientNonce,
    message: 'SASLInitialResponse',
    scramMaxIterations,
  }
}

async function continueSession(session, password, serverData, stream) {
  if (session.message !== 'SASLInitialResponse') {
    throw new Error('SASL: Last message was not SASLInitialResponse')
  }
  if (typeof password !== 'string') {
    throw new Error('SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string')
  }
  if (password === '') {
    throw new Error('SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a non-empty string')
  }
  if (typeof serverData !== 'string') {
    throw new Error('SASL: SCRAM-SERVER-FIRST-MESSAGE: serverData must be a string')
  }

  const sv = parseServerFirstMessage(serverData)

  if (!sv.nonce.startsWith(session.clientNonce)) {
    throw new Error('SASL: SCRAM-SERVER-FIRST-MESSAGE: server nonce does not start with client nonce')
  } else if (sv.nonce.length === session.clientNonce.length) {
    throw new Error('SASL: SCRAM-SERVER-FIRST-MESSAGE: server nonce is too short')
  }

  const scramMaxIterations =
    typeof session.scramMaxIterations === 'number' ? session.scramMaxIterations : DEFAULT_MAX_SCRAM_ITERATIONS
  // a value of 0 disables the iteration count check
  if (scramMaxIterations !== 0 && sv.iteration > scramMaxIterations) {
    throw new Error(
      'SASL: SCRAM-SERVER-FIRST-MESSAGE: iteration count ' +
        sv.iteration +
        ' exceeds scramMaxIterations of ' +
        scramMaxIterations
    )
  }

  const clientFirstMessageBare = 'n=*,r=' + session.clientNonce
  const serverFirstMessage = 'r=' + sv.nonce + ',s=' + sv.salt + ',i=' + sv.iteration

  // without channel binding:
  let channelBinding = stream ? 'eSws' : 'biws' // 'y,,' or 'n,,', base64-encoded

  // override if channel binding is in use:
  if (session.mechanism === 'SCRAM-SHA-256-PLUS') {
    const peerCert = stream.getPeerCertificate().raw
    let hashName = signatureAlgorithmHashFromCertificate(peerCert)
    if (hashName === 'MD5' || hashName === 'SHA-1') hashName = 'SHA-256'
    const certHash = await crypto.hashByName(hashName, peerCert)
    const bindingData = Buffer.concat([Buffer.from('p=tls-server-end-point,,'), Buffer.from(certHash)])
    channelBinding = bindingData.toString('base64')
  }

  const clientFinalMessageWithoutProof = 'c=' + channelBinding + ',r=' + sv.nonce
  const authMessage = clientFirstMessageBare + ',' + serverFirstMessage + ',' + clientFinalMessageWithoutProof

  const saltBytes = Buffer.from(sv.salt, 'base64')
  const saltedPassword = await crypto.deriveKey(saslprep(password), saltBytes, sv.iteration)
  const clientKey = await crypto.hmacSha256(saltedPassword, 'Client Key')
  const storedKey = await crypto.sha256(clientKey)
  const clientSignature = await crypto.hmacSha256(storedKey, authMessage)
  const clientProof = xorBuffers(Buffer.from(clientKey), Buffer.from(clientSignature)).toString('base64')
  const serverKey = await crypto.hmacSha256(saltedPassword, 'Server Key')
  const serverSignatureBytes = await crypto.hmacSha256(serverKey, authMessage)

  session.message = 'SASLResponse'
  session.serverSignature = Buffer.from(serverSignatureBytes).toString('base64')
  session.response = clientFinalMessageWithoutProof + ',p=' + clientProof
}

function finalizeSession(session, serverData) {
  if (session.message !== 'SASLResponse') {
    throw new Error('SASL: Last message was not SASLResponse')
  }
  if (typeof serverData !== 'string') {
    throw new Error('SASL: SCRAM-SERVER-FINAL-MESSAGE: serverData must be a string')
  }

  const { serverSignature } = parseServerFinalMessage(serverData)

  if (serverSignature !== session.serverSignature) {
    throw new Error('SASL: SCRAM-SERVER-FINAL-MESSAGE: server signature does not match')
  }
}

/**
 * printable       = %x21-2B / %x2D-7E
 *                   ;; Printable ASCII except ",".
 *                   ;; Note that any "printable" is also
 *                   ;; a valid "value".
 */
function isPrintableChars(text) {
  if (typeof text !== 'string') {
    throw new TypeError('SASL: text must be a string')
  }
  return text
    .split('')
    .map((_, i) => text.charCodeAt(i))
    .every((c) => (c >= 0x21 && c <= 0x2b) || (c >= 0x2d && c <= 0x7e))
}

/**
 * base64-char     = ALPHA / DIGIT / "/" / "+"
 *
 * base64-4        = 4base64-char
 *
 * base64-3        = 3base64-char "="
 *
 * base64-2        = 2base64-char "=="
 *
 * base64          = *base64-4 [base64-3 / base64-2]
 */
function isBase64(text) {
  return /^(?:[a-zA-Z0-9+/]{4})*(?:[a-zA-Z0-9+/]{2}==|[a-zA-Z0-9+/]{3}=)?$/.test(text)
}

function parseAttributePairs(text) {
  if (typeof text !== 'string') {
    throw new TypeError('SASL: attribute pairs text must be a string')
  }

  return new Map(
    text.split(',').map((attrValue) => {
      if (!/^.=/.test(attrValue)) {
        throw new Error('SASL: Invalid attribute pair entry')
      }
      const name = attrValue[0]
      const value = attrValue.substring(2)
      return [name, value]
    })
  )
}

function parseServerFirstMessage(data) {
  const attrPairs = parseAttributePairs(data)

  const nonce = attrPairs.get('r')
  if (!nonce) {
    throw new Error('SASL: SCRAM-SERVER-FIRST-MESSAGE: nonce missing')
  } else if (!isPrintableChars(nonce)) {
    throw new Error('SASL: SCRAM-SERVER-FIRST-MESSAGE: nonce must only contain printable characters')
  }
  const salt = attrPairs.get('s')
  if (!salt) {
    throw new Error('SASL: SCRAM-SERVER-FIRST-MESSAGE: salt missing')
  } else if (!isBase64(salt)) {
    throw new Error('SASL: SCRAM-SERVER-FIRST-MESSAGE: salt must be base64')
  }
  const iterationText = attrPairs.get('i')
  if (!iterationText) {
    throw new Error('SASL: SCRAM-SERVER-FIRST-MESSAGE: iteration missing')
  } else if (!/^[1-9][0-9]*$/.test(iterationText)) {
    throw new Error('SASL: SCRAM-SERVER-FIRST-MESSAGE: invalid iteration count')
  }
  const iteration = parseInt(iterationText, 10)

  return {
    nonce,
    salt,
    iteration,
  }
}

function parseServerFinalMessage(serverData) {
  const attrPairs = parseAttributePairs(serverData)
  const error = attrPairs.get('e')
  const serverSignature = attrPairs.get('v')

  if (error) {
    throw new Error(`SASL: SCRAM-SERVER-FINAL-MESSAGE: server returned error: "${error}"`)
  }

  if (!serverSignature) {
    throw new Error('SASL: SCRAM-SERVER-FINAL-MESSAGE: server signature is missing')
  } else if (!isBase64(serverSignature)) {
    throw new Error('SASL: SCRAM-SERVER-FINAL-MESSAGE: server signature must be base64')
  }
  return {
    serverSignature,
  }
}

function xorBuffers(a, b) {
  if (!Buffer.isBuffer(a)) {
    throw new TypeError('first argument must be a Buffer')
  }
  if (!Buffer.isBuffer(b)) {
    throw new TypeError('second argument must be a Buffer')
  }
  if (a.length !== b.length) {
    throw new Error('Buffer lengths must match')
  }
  if (a.length === 0) {
    throw new Error('Buffers cannot be empty')
  }
  return Buffer.from(a.map((_, i) => a[i] ^ b[i]))
}

module.exports = {
  startSession,
  continueSession,
  finalizeSession,
  DEFAULT_MAX_SCRAM_ITERATIONS,
}


/***/ }),

/***/ 4150:
/***/ ((module, __unused_webpack_exports, __nccwpck_require__) => {

const nodeCrypto = __nccwpck_require__(6982)

module.exports = {
  postgresMd5PasswordHash,
  randomBytes,
  deriveKey,
  sha256,
  hashByName,
  hmacSha256,
  md5,
}

/**
 * The Web Crypto API - grabbed from the Node.js library or the global
 * @type Crypto
 */
// eslint-disable-next-line no-undef
const webCrypto = nodeCrypto.webcrypto || globalThis.crypto
/**
 * The SubtleCrypto API for low level crypto operations.
 * @type SubtleCrypto
 */
const subtleCrypto = webCrypto.subtle
const textEncoder = new TextEncoder()

/**
 *
 * @param {*} length
 * @returns
 */
function randomBytes(length) {
  return webCrypto.getRandomValues(Buffer.alloc(length))
}

async function md5(string) {
  try {
    return nodeCrypto.createHash('md5').update(string, 'utf-8').digest('hex')
  } catch (e) {
    // `createHash()` failed so we are probably not in Node.js, use the WebCrypto API instead.
    // Note that the MD5 algorithm on WebCrypto is not available in Node.js.
    // This is why we cannot just use WebCrypto in all environments.
    const data = typeof string === 'string' ? textEncoder.encode(string) : string
    const hash = await subtleCrypto.digest('MD5', data)
    return Array.from(new Uint8Array(hash))
      .map((b) => b.toString(16).padStart(2, '0'))
      .join('')
  }
}

// See AuthenticationMD5Password at https://www.postgresql.org/docs/current/static/protocol-flow.html
async function postgresMd5PasswordHash(user, password, salt) {
  const inner = await md5(password + user)
  const outer = await md5(Buffer.concat([Buffer.from(inner), salt]))
  return 'md5' + outer
}

/**
 * Create a SHA-256 digest of the given data
 * @param {Buffer} data
 */
async function sha256(text) {
  return await subtleCrypto.digest('SHA-256', text)
}

async function hashByName(hashName, text) {
  return await subtleCrypto.digest(hashName, text)
}

/**
 * Sign the message with the given key
 * @param {ArrayBuffer} keyBuffer
 * @param {string} msg
 */
async function hmacSha256(keyBuffer, msg) {
  const key = await subtleCrypto.importKey('raw', keyBuffer, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
  return await subtleCrypto.sign('HMAC', key, textEncoder.encode(msg))
}

/**
 * Derive a key from the password and salt
 * @param {string} password
 * @param {Uint8Array} salt
 * @param {number} iterations
 */
async function deriveKey(password, salt, iterations) {
  const key = await subtleCrypto.importKey('raw', textEncoder.encode(password), 'PBKDF2', false, ['deriveBits'])
  const params = { name: 'PBKDF2', hash: 'SHA-256', salt: salt, iterations: iterations }
  return await subtleCrypto.deriveBits(params, key, 32 * 8, ['deriveBits'])
}


/***/ }),

/***/ 8995:
/***/ ((module, __unused_webpack_exports, __nccwpck_require__) => {



let user
try {
  user = process.platform === 'win32' ? process.env.USERNAME : process.env.USER
} catch {
  // ignore, e.g., Deno without --allow-env
}

module.exports = {
  // database host. defaults to localhost
  host: 'localhost',

  // database user's name
  user,

  // name of database to connect
  database: undefined,

  // database user's password
  password: null,

  // a Postgres connection string to be used instead of setting individual connection items
  // NOTE:  Setting this value will cause it to override any other value (such as database or user) defined
  // in the defaults object.
  connectionString: undefined,

  // database port
  port: 5432,

  // number of rows to return at a time from a prepared statement's
  // portal. 0 will return all rows at once
  rows: 0,

  // binary result mode
  binary: false,

  // Connection pool options - see https://github.com/brianc/node-pg-pool

  // number of connections to use in connection pool
  // 0 will disable connection pooling
  max: 10,

  // max milliseconds a client can go unused before it is removed
  // from the pool and destroyed
  idleTimeoutMillis: 30000,

  client_encoding: '',

  ssl: false,

  // SSL negotiation style: 'postgres' (traditional SSLRequest) or 'direct'
  sslnegotiation: undefined,

  application_name: undefined,

  fallback_application_name: undefined,

  options: undefined,

  parseInputDatesAsUTC: false,

  // max milliseconds any query using this connection will execute for before timing out in error.
  // false=unlimited
  statement_timeout: false,

  // Abort any statement that waits longer than the specified duration in milliseconds while attempting to acquire a lock.
  // false=unlimited
  lock_timeout: false,

  // Terminate any session with an open transaction that has been idle for longer than the specified duration in milliseconds
  // false=unlimited
  idle_in_transaction_session_timeout: false,

  // max milliseconds to wait for query to complete (client side)
  query_timeout: false,

  connect_timeout: 0,

  keepalives: 1,

  keepalives_idle: 0,
}

const pgTypes = __nccwpck_require__(1549)
// save default parsers
const parseBigInteger = pgTypes.getTypeParser(20, 'text')
const parseBigIntegerArray = pgTypes.getTypeParser(1016, 'text')

// parse int8 so you can get your count values as actual numbers
module.exports.__defineSetter__('parseInt8', function (val) {
  pgTypes.setTypeParser(20, 'text', val ? pgTypes.getTypeParser(23, 'text') : parseBigInteger)
  pgTypes.setTypeParser(1016, 'text', val ? pgTypes.getTypeParser(1007, 'text') : parseBigIntegerArray)
})


/***/ }),

/***/ 3273:
/***/ ((module, __unused_webpack_exports, __nccwpck_require__) => {



const Client = __nccwpck_require__(5042)
const defaults = __nccwpck_require__(8995)
const Connection = __nccwpck_require__(9809)
const Result = __nccwpck_require__(6424)
const utils = __nccwpck_require__(9652)
const Pool = __nccwpck_require__(7558)
const TypeOverrides = __nccwpck_require__(365)
const { DatabaseError } = __nccwpck_require__(4233)
const { escapeIdentifier, escapeLiteral } = __nccwpck_require__(9652)

const poolFactory = (Client) => {
  return class BoundPool extends Pool {
    constructor(options) {
      super(options, Client)
    }
  }
}

const PG = function (clientConstructor) {
  this.defaults = defaults
  this.Client = clientConstructor
  this.Query = this.Client.Query
  this.Pool = poolFactory(this.Client)
  this._pools = []
  this.Connection = Connection
  this.types = __nccwpck_require__(1549)
  this.DatabaseError = DatabaseError
  this.TypeOverrides = TypeOverrides
  this.escapeIdentifier = escapeIdentifier
  this.escapeLiteral = escapeLiteral
  this.Result = Result
  this.utils = utils
}

let clientConstructor = Client

let forceNative = false
try {
  forceNative = !!process.env.NODE_PG_FORCE_NATIVE
} catch {
  // ignore, e.g., Deno without --allow-env
}

if (forceNative) {
  clientConstructor = __nccwpck_require__(5301)
}

module.exports = new PG(clientConstructor)

// lazy require native module...the native module may not have installed
Object.defineProperty(module.exports, "native", ({
  configurable: true,
  enumerable: false,
  get() {
    let native = null
    try {
      native = new PG(__nccwpck_require__(5301))
    } catch (err) {
      if (err.code !== 'MODULE_NOT_FOUND') {
        throw err
      }
    }

    // overwrite module.exports.native so that getter is never called again
    Object.defineProperty(module.exports, "native", ({
      value: native,
    }))

    return native
  },
}))


/***/ }),

/***/ 8942:
/***/ ((module, __unused_webpack_exports, __nccwpck_require__) => {

const nodeUtils = __nccwpck_require__(9023)
// eslint-disable-next-line
var Native
// eslint-disable-next-line no-useless-catch
try {
  // Wrap this `require()` in a try-catch to avoid upstream bundlers from complaining that this might not be available since it is an optional import
  Native = __nccwpck_require__(4390)
} catch (e) {
  throw e
}
const TypeOverrides = __nccwpck_require__(365)
const EventEmitter = (__nccwpck_require__(4434).EventEmitter)
const util = __nccwpck_require__(9023)
const ConnectionParameters = __nccwpck_require__(646)

const NativeQuery = __nccwpck_require__(7581)

const queryQueueLengthDeprecationNotice = nodeUtils.deprecate(
  () => {},
  'Calling client.query() when the client is already executing a query is deprecated and will be removed in pg@9.0. Use async/await or an external async flow control mechanism instead.'
)

const Client = (module.exports = function (config) {
  EventEmitter.call(this)
  config = config || {}

  this._Promise = config.Promise || global.Promise
  this._types = new TypeOverrides(config.types)

  this.native = new Native({
    types: this._types,
  })

  this._queryQueue = []
  this._ending = false
  this._connecting = false
  this._connected = false
  this._queryable = true
  this.pipeline = Boolean(config.pipeline)
  this._pipelineInFlight = false

  // keep these on the object for legacy reasons
  // for the time being. TODO: deprecate all this jazz
  const cp = (this.connectionParameters = new ConnectionParameters(config))
  if (config.nativeConnectionString) cp.nativeConnectionString = config.nativeConnectionString
  this.user = cp.user

  // "hiding" the password so it doesn't show up in stack traces
  // or if the client is console.logged
  Object.defineProperty(this, 'password', {
    configurable: true,
    enumerable: false,
    writable: true,
    value: cp.password,
  })
  this.database = cp.database
  this.host = cp.host
  this.port = cp.port

  // a hash to hold named queries
  this.namedQueries = {}
})

Client.Query = NativeQuery

util.inherits(Client, EventEmitter)

Client.prototype._errorAllQueries = function (err) {
  const enqueueError = (query) => {
    process.nextTick(() => {
      query.native = this.native
      query.handleError(err)
    })
  }

  if (this._hasActiveQuery()) {
    enqueueError(this._activeQuery)
    this._activeQuery = null
  }

  this._queryQueue.forEach(enqueueError)
  this._queryQueue.length = 0
}

// connect to the backend
// pass an optional callback to be called once connected
// or with an error if there was a connection error
Client.prototype._connect = function (cb) {
  const self = this

  if (this._connecting) {
    process.nextTick(() => cb(new Error('Client has already been connected. You cannot reuse a client.')))
    return
  }

  this._connecting = true

  this.connectionParameters.getLibpqConnectionString(function (err, conString) {
    if (self.connectionParameters.nativeConnectionString) conString = self.connectionParameters.nativeConnectionString
    if (err) return cb(err)
    self.native.connect(conString, function (err) {
      if (err) {
        self.native.end()
        return cb(err)
      }

      // set internal states to connected
      self._connected = true

      // handle connection errors from the native layer
      self.native.on('error', function (err) {
        self._queryable = false
        self._errorAllQueries(err)
        self.emit('error', err)
      })

      self.native.on('notification', function (msg) {
        self.emit('notification', {
          channel: msg.relname,
          payload: msg.extra,
        })
      })

      // signal we are connected now
      self.emit('connect')
      self._pulseQueryQueue(true)

      cb(null, this)
    })
  })
}

Client.prototype.connect = function (callback) {
  if (callback) {
    this._connect(callback)
    return
  }

  return new this._Promise((resolve, reject) => {
    this._connect((error) => {
      if (error) {
        reject(error)
      } else {
        resolve(this)
      }
    })
  })
}

// send a query to the server
// this method is highly overloaded to take
// 1) string query, optional array of parameters, optional function callback
// 2) object query with {
//    string query
//    optional array values,
//    optional function callback instead of as a separate parameter
//    optional string name to name & cache the query plan
//    optional string rowMode = 'array' for an array of results
//  }
Client.prototype.query = function (config, values, callback) {
  let query
  let result
  let readTimeout
  let readTimeoutTimer
  let queryCallback

  if (config === null || config === undefined) {
    throw new TypeError('Client was passed a null or undefined query')
  } else if (typeof config.submit === 'function') {
    readTimeout = config.query_timeout || this.connectionParameters.query_timeout
    result = query = config
    // accept query(new Query(...), (err, res) => { }) style
    if (typeof values === 'function') {
      config.callback = values
    }
  } else {
    readTimeout = config.query_timeout || this.connectionParameters.query_timeout
    query = new NativeQuery(config, values, callback)
    if (!query.callback) {
      let resolveOut, rejectOut
      result = new this._Promise((resolve, reject) => {
        resolveOut = resolve
        rejectOut = reject
      }).catch((err) => {
        Error.captureStackTrace(err)
        throw err
      })
      query.callback = (err, res) => (err ? rejectOut(err) : resolveOut(res))
    }
  }

  if (readTimeout) {
    queryCallback = query.callback || (() => {})

    readTimeoutTimer = setTimeout(() => {
      const error = new Error('Query read timeout')

      process.nextTick(() => {
        query.handleError(error, this.connection)
      })

      queryCallback(error)

      // we already returned an error,
      // just do nothing if query completes
      query.callback = () => {}

      // Remove from queue
      const index = this._queryQueue.indexOf(query)
      if (index > -1) {
        this._queryQueue.splice(index, 1)
      }

      this._pulseQueryQueue()
    }, readTimeout)

    query.callback = (err, res) => {
      clearTimeout(readTimeoutTimer)
      queryCallback(err, res)
    }
  }

  if (!this._queryable) {
    query.native = this.native
    process.nextTick(() => {
      query.handleError(new Error('Client has encountered a connection error and is not queryable'))
    })
    return result
  }

  if (this._ending) {
    query.native = this.native
    process.nextTick(() => {
      query.handleError(new Error('Client was closed and is not queryable'))
    })
    return result
  }

  if (this._queryQueue.length > 0 && !this.pipeline) {
    queryQueueLengthDeprecationNotice()
  }

  this._queryQueue.push(query)
  this._pulseQueryQueue()
  return result
}

// disconnect from the backend server
Client.prototype.end = function (cb) {
  const self = this

  this._ending = true

  if (this._connecting && !this._connected) {
    this.once('connect', () => {
      this.end(() => {})
    })
  }
  let result
  if (!cb) {
    result = new this._Promise(function (resolve, reject) {
      cb = (err) => (err ? reject(err) : resolve())
    })
  }

  const doEnd = function () {
    self.native.end(function () {
      self._connected = false

      self._errorAllQueries(new Error('Connection terminated'))

      process.nextTick(() => {
        self.emit('end')
        if (cb) cb()
      })
    })
  }

  // If pipeline has in-flight or queued queries, wait for them to drain before closing
  if (this.pipeline && (this._pipelineInFlight || this._queryQueue.length > 0)) {
    this.once('drain', doEnd)
  } else {
    doEnd()
  }
  return result
}

Client.prototype._hasActiveQuery = function () {
  return this._activeQuery && this._activeQuery.state !== 'error' && this._activeQuery.state !== 'end'
}

Client.prototype._pulseQueryQueue = function (initialConnection) {
  if (!this._connected) {
    return
  }
  if (this.pipeline && !initialConnection) {
    return this._pulsePipelinedQueryQueue()
  }
  if (this._hasActiveQuery()) {
    return
  }
  const query = this._queryQueue.shift()
  if (!query) {
    if (!initialConnection) {
      this.emit('drain')
    }
    return
  }
  this._activeQuery = query
  query.submit(this)
  const self = this
  query.once('_done', function () {
    self._pulseQueryQueue()
  })
}

Client.prototype._pulsePipelinedQueryQueue = function () {
  if (!this._connected || this._pipelineInFlight) {
    return
  }
  if (this._queryQueue.length === 0) {
    if (this.hasExecuted) {
      this.emit('drain')
    }
    return
  }

  this._pipelineInFlight = true
  const self = this
  const queries = []
  const nativeQueries = []
  const utils = __nccwpck_require__(9652)

  while (this._queryQueue.length > 0) {
    const query = this._queryQueue.shift()
    this.hasExecuted = true
    nativeQueries.push(query)

    const values = query.values ? query.values.map(utils.prepareValue) : null
    const pipelineEntry = { text: query.text, name: query.name, arrayMode: query._arrayMode }
    if (values) {
      pipelineEntry.values = values
    }
    if (query.name && this.namedQueries[query.name]) {
      pipelineEntry._alreadyPrepared = true
    }
    queries.push(pipelineEntry)
  }

  this.native.pipeline(queries, function (err, results) {
    self._pipelineInFlight = false

    if (err) {
      // Total pipeline failure. Per-query errors arrive on results[i].err, so reaching here means
      // the connection itself is gone: mark it unusable and say so, the way the JS client and the
      // non-pipelined native path both do. Without this the client looks healthy after losing its
      // backend, a Pool never discards it, and everything routed to it fails one query at a time
      // for the life of the process.
      self._connected = false
      self._queryable = false
      for (let i = 0; i < nativeQueries.length; i++) {
        const q = nativeQueries[i]
        q.native = self.native
        q.handleError(err)
      }
      self._errorAllQueries(err)
      self.emit('error', err)
      self.emit('end')
      return
    }

    // Deliver results to each query
    for (let i = 0; i < nativeQueries.length; i++) {
      const q = nativeQueries[i]
      const r = results[i]
      q.native = self.native

      if (r.err) {
        q.handleError(r.err)
      } else {
        // Track named queries on success
        if (q.name) {
          self.namedQueries[q.name] = q.text
        }
        q.state = 'end'
        q.emit('end', r.result)
        if (q.callback) {
          q.callback(null, r.result)
        }
      }

      setImmediate(function () {
        q.emit('_done')
      })
    }

    // Process any queries that arrived while we were reading
    self._pulsePipelinedQueryQueue()
  })
}

// attempt to cancel an in-progress query
Client.prototype.cancel = function (query) {
  if (this._activeQuery === query) {
    this.native.cancel(function () {})
  } else if (this._queryQueue.indexOf(query) !== -1) {
    this._queryQueue.splice(this._queryQueue.indexOf(query), 1)
  }
}

Client.prototype.ref = function () {}
Client.prototype.unref = function () {}

Client.prototype.setTypeParser = function (oid, format, parseFn) {
  return this._types.setTypeParser(oid, format, parseFn)
}

Client.prototype.getTypeParser = function (oid, format) {
  return this._types.getTypeParser(oid, format)
}

Client.prototype.isConnected = function () {
  return this._connected
}

Client.prototype.getTransactionStatus = function () {
  return this.native.getTransactionStatus()
}


/***/ }),

/***/ 5301:
/***/ ((module, __unused_webpack_exports, __nccwpck_require__) => {


module.exports = __nccwpck_require__(8942)


/***/ }),

/***/ 7581:
/***/ ((module, __unused_webpack_exports, __nccwpck_require__) => {



const EventEmitter = (__nccwpck_require__(4434).EventEmitter)
const util = __nccwpck_require__(9023)
const utils = __nccwpck_require__(9652)

const NativeQuery = (module.exports = function (config, values, callback) {
  EventEmitter.call(this)
  config = utils.normalizeQueryConfig(config, values, callback)
  this.text = config.text
  this.values = config.values
  this.name = config.name
  this.queryMode = config.queryMode
  this.callback = config.callback
  this.state = 'new'
  this._arrayMode = config.rowMode === 'array'

  // if the 'row' event is listened for
  // then emit them as they come in
  // without setting singleRowMode to true
  // this has almost no meaning because libpq
  // reads all rows into memory before returning any
  this._emitRowEvents = false
  this.on(
    'newListener',
    function (event) {
      if (event === 'row') this._emitRowEvents = true
    }.bind(this)
  )
})

util.inherits(NativeQuery, EventEmitter)

const errorFieldMap = {
  sqlState: 'code',
  statementPosition: 'position',
  messagePrimary: 'message',
  messageDetail: 'detail',
  messageHint: 'hint',
  context: 'where',
  schemaName: 'schema',
  tableName: 'table',
  columnName: 'column',
  dataTypeName: 'dataType',
  constraintName: 'constraint',
  sourceFile: 'file',
  sourceLine: 'line',
  sourceFunction: 'routine',
}

NativeQuery.prototype.handleError = function (err) {
  // copy pq error fields into the error object
  const fields = this.native && this.native.pq.resultErrorFields()
  if (fields) {
    for (const key in fields) {
      const normalizedFieldName = errorFieldMap[key] || key
      err[normalizedFieldName] = fields[key]
    }
  }
  if (this.callback) {
    this.callback(err)
  } else {
    this.emit('error', err)
  }
  this.state = 'error'
}

NativeQuery.prototype.then = function (onSuccess, onFailure) {
  return this._getPromise().then(onSuccess, onFailure)
}

NativeQuery.prototype.catch = function (callback) {
  return this._getPromise().catch(callback)
}

NativeQuery.prototype._getPromise = function () {
  if (this._promise) return this._promise
  this._promise = new Promise(
    function (resolve, reject) {
      this._once('end', resolve)
      this._once('error', reject)
    }.bind(this)
  )
  return this._promise
}

NativeQuery.prototype.submit = function (client) {
  this.state = 'running'
  const self = this
  this.native = client.native
  client.native.arrayMode = this._arrayMode

  let after = function (err, rows, results) {
    client.native.arrayMode = false
    setImmediate(function () {
      self.emit('_done')
    })

    // handle possible query error
    if (err) {
      return self.handleError(err)
    }

    // emit row events for each row in the result
    if (self._emitRowEvents) {
      if (results.length > 1) {
        rows.forEach((rowOfRows, i) => {
          rowOfRows.forEach((row) => {
            self.emit('row', row, results[i])
          })
        })
      } else {
        rows.forEach(function (row) {
          self.emit('row', row, results)
        })
      }
    }

    // handle successful result
    self.state = 'end'
    self.emit('end', results)
    if (self.callback) {
      self.callback(null, results)
    }
  }

  if (process.domain) {
    after = process.domain.bind(after)
  }

  // named query
  if (this.name) {
    if (this.name.length > 63) {
      console.error('Warning! Postgres only supports 63 characters for query names.')
      console.error('You supplied %s (%s)', this.name, this.name.length)
      console.error('This can cause conflicts and silent errors executing queries')
    }
    const values = (this.values || []).map(utils.prepareValue)

    // check if the client has already executed this named query
    // if so...just execute it again - skip the planning phase
    if (client.namedQueries[this.name] !== undefined) {
      if (this.text && client.namedQueries[this.name] !== this.text) {
        const err = new Error(`Prepared statements must be unique - '${this.name}' was used for a different statement`)
        return after(err)
      }
      return client.native.execute(this.name, values, after)
    }
    // plan the named query the first time, then execute it
    return client.native.prepare(this.name, this.text, values.length, function (err) {
      if (err) return after(err)
      client.namedQueries[self.name] = self.text
      return self.native.execute(self.name, values, after)
    })
  } else if (this.values) {
    if (!Array.isArray(this.values)) {
      const err = new Error('Query values must be an array')
      return after(err)
    }
    const vals = this.values.map(utils.prepareValue)
    client.native.query(this.text, vals, after)
  } else if (this.queryMode === 'extended') {
    client.native.query(this.text, [], after)
  } else {
    client.native.query(this.text, after)
  }
}


/***/ }),

/***/ 4473:
/***/ ((module, __unused_webpack_exports, __nccwpck_require__) => {



const { EventEmitter } = __nccwpck_require__(4434)

const Result = __nccwpck_require__(6424)
const utils = __nccwpck_require__(9652)

class Query extends EventEmitter {
  constructor(config, values, callback) {
    super()

    config = utils.normalizeQueryConfig(config, values, callback)

    this.text = config.text
    this.values = config.values
    this.rows = config.rows
    this.types = config.types
    this.name = config.name
    this.queryMode = config.queryMode
    this.binary = config.binary
    // use unique portal name each time
    this.portal = config.portal || ''
    this.callback = config.callback
    this._rowMode = config.rowMode
    if (process.domain && config.callback) {
      this.callback = process.domain.bind(config.callback)
    }
    this._result = new Result(this._rowMode, this.types)

    // potential for multiple results
    this._results = this._result
    this._canceledDueToError = false
  }

  requiresPreparation() {
    if (this.queryMode === 'extended') {
      return true
    }

    // named queries must always be prepared
    if (this.name) {
      return true
    }
    // always prepare if there are max number of rows expected per
    // portal execution
    if (this.rows) {
      return true
    }
    // don't prepare empty text queries
    if (!this.text) {
      return false
    }
    // prepare if there are values
    if (!this.values) {
      return false
    }
    return this.values.length > 0
  }

  _checkForMultirow() {
    // if we already have a result with a command property
    // then we've already executed one query in a multi-statement simple query
    // turn our results into an array of results
    if (this._result.command) {
      if (!Array.isArray(this._results)) {
        this._results = [this._result]
      }
      this._result = new Result(this._rowMode, this._result._types)
      this._results.push(this._result)
    }
  }

  // associates row metadata from the supplied
  // message with this query object
  // metadata used when parsing row results
  handleRowDescription(msg) {
    this._checkForMultirow()
    this._result.addFields(msg.fields)
    this._accumulateRows = this.callback || !this.listeners('row').length
  }

  handleDataRow(msg) {
    let row

    if (this._canceledDueToError) {
      return
    }

    try {
      row = this._result.parseRow(msg.fields)
    } catch (err) {
      this._canceledDueToError = err
      return
    }

    this.emit('row', row, this._result)
    if (this._accumulateRows) {
      this._result.addRow(row)
    }
  }

  handleCommandComplete(msg, connection) {
    this._checkForMultirow()
    this._result.addCommandComplete(msg)
    // need to sync after each command complete of a prepared statement
    // if we were using a row count which results in multiple calls to _getRows
    if (this.rows) {
      connection.sync()
    }
  }

  // if a named prepared statement is created with empty query text
  // the backend will send an emptyQuery message but *not* a command complete message
  // since we pipeline sync immediately after execute we don't need to do anything here
  // unless we have rows specified, in which case we did not pipeline the initial sync call
  handleEmptyQuery(connection) {
    if (this.rows) {
      connection.sync()
    }
  }

  handleError(err, connection) {
    // need to sync after error during a prepared statement
    if (this._canceledDueToError) {
      err = this._canceledDueToError
      this._canceledDueToError = false
    }
    // if callback supplied do not emit error event as uncaught error
    // events will bubble up to node process
    if (this.callback) {
      return this.callback(err)
    }
    this.emit('error', err)
  }

  handleReadyForQuery(con) {
    if (this._canceledDueToError) {
      return this.handleError(this._canceledDueToError, con)
    }
    if (this.callback) {
      try {
        this.callback(null, this._results)
      } catch (err) {
        process.nextTick(() => {
          throw err
        })
      }
    }
    this.emit('end', this._results)
  }

  submit(connection) {
    if (typeof this.text !== 'string' && typeof this.name !== 'string') {
      return new Error('A query must have either text or a name. Supplying neither is unsupported.')
    }
    const previous = connection.parsedStatements[this.name] || connection.submittedNamedStatements[this.name]
    if (this.text && previous && this.text !== previous) {
      return new Error(`Prepared statements must be unique - '${this.name}' was used for a different statement`)
    }
    if (this.values && !Array.isArray(this.values)) {
      return new Error('Query values must be an array')
    }
    if (this.requiresPreparation()) {
      // If we're using the extended query protocol we fire off several separate commands
      // to the backend. On some versions of node & some operating system versions
      // the network stack writes each message separately instead of buffering them together
      // causing the client & network to send more slowly. Corking & uncorking the stream
      // allows node to buffer up the messages internally before sending them all off at once.
      // note: we're checking for existence of cork/uncork because some versions of streams
      // might not have this (cloudflare?)
      connection.stream.cork && connection.stream.cork()
      try {
        this.prepare(connection)
      } finally {
        // while unlikely for this.prepare to throw, if it does & we don't uncork this stream
        // this client becomes unresponsive, so put in finally block "just in case"
        connection.stream.uncork && connection.stream.uncork()
      }
    } else {
      connection.query(this.text)
    }
    return null
  }

  hasBeenParsed(connection) {
    return (
      this.name &&
      (connection.parsedStatements[this.name] !== undefined ||
        connection.submittedNamedStatements[this.name] !== undefined)
    )
  }

  handlePortalSuspended(connection) {
    this._getRows(connection, this.rows)
  }

  _getRows(connection, rows) {
    connection.execute({
      portal: this.portal,
      rows: rows,
    })
    // if we're not reading pages of rows send the sync command
    // to indicate the pipeline is finished
    if (!rows) {
      connection.sync()
    } else {
      // otherwise flush the call out to read more rows
      connection.flush()
    }
  }

  // http://developer.postgresql.org/pgdocs/postgres/protocol-flow.html#PROTOCOL-FLOW-EXT-QUERY
  prepare(connection) {
    // TODO refactor this poor encapsulation
    if (!this.hasBeenParsed(connection)) {
      connection.parse({
        text: this.text,
        name: this.name,
        types: this.types,
      })
      if (this.name) {
        connection.submittedNamedStatements[this.name] = this.text
      }
    }

    // because we're mapping user supplied values to
    // postgres wire protocol compatible values it could
    // throw an exception, so try/catch this section
    try {
      connection.bind({
        portal: this.portal,
        statement: this.name,
        values: this.values,
        binary: this.binary,
        valueMapper: utils.prepareValue,
      })
    } catch (err) {
      // we should close parse to avoid leaking connections
      connection.close({ type: 'S', name: this.name })
      connection.sync()

      this.handleError(err, connection)
      return
    }

    connection.describe({
      type: 'P',
      name: this.portal || '',
    })

    this._getRows(connection, this.rows)
  }

  handleCopyInResponse(connection) {
    connection.sendCopyFail('No source stream defined')
  }

  handleCopyData(msg, connection) {
    // noop
  }
}

module.exports = Query


/***/ }),

/***/ 6424:
/***/ ((module, __unused_webpack_exports, __nccwpck_require__) => {



const types = __nccwpck_require__(1549)

const matchRegexp = /^([A-Za-z]+)(?: (\d+))?(?: (\d+))?/

// result object returned from query
// in the 'end' event and also
// passed as second argument to provided callback
class Result {
  constructor(rowMode, types) {
    this.command = null
    this.rowCount = null
    this.oid = null
    this.rows = []
    this.fields = []
    this._parsers = undefined
    this._types = types
    this.RowCtor = null
    this.rowAsArray = rowMode === 'array'
    if (this.rowAsArray) {
      this.parseRow = this._parseRowAsArray
    }
    this._prebuiltEmptyResultObject = null
  }

  // adds a command complete message
  addCommandComplete(msg) {
    let match
    if (msg.text) {
      // pure javascript
      match = matchRegexp.exec(msg.text)
    } else {
      // native bindings
      match = matchRegexp.exec(msg.command)
    }
    if (match) {
      this.command = match[1]
      if (match[3]) {
        // COMMAND OID ROWS
        this.oid = parseInt(match[2], 10)
        this.rowCount = parseInt(match[3], 10)
      } else if (match[2]) {
        // COMMAND ROWS
        this.rowCount = parseInt(match[2], 10)
      }
    }
  }

  _parseRowAsArray(rowData) {
    const row = new Array(rowData.length)
    for (let i = 0, len = rowData.length; i < len; i++) {
      const rawValue = rowData[i]
      if (rawValue !== null) {
        row[i] = this._parsers[i](rawValue)
      } else {
        row[i] = null
      }
    }
    return row
  }

  parseRow(rowData) {
    const row = { ...this._prebuiltEmptyResultObject }
    for (let i = 0, len = rowData.length; i < len; i++) {
      const rawValue = rowData[i]
      const field = this.fields[i].name
      if (rawValue !== null) {
        const v = this.fields[i].format === 'binary' ? Buffer.from(rawValue) : rawValue
        row[field] = this._parsers[i](v)
      } else {
        row[field] = null
      }
    }
    return row
  }

  addRow(row) {
    this.rows.push(row)
  }

  addFields(fieldDescriptions) {
    // clears field definitions
    // multiple query statements in 1 action can result in multiple sets
    // of rowDescriptions...eg: 'select NOW(); select 1::int;'
    // you need to reset the fields
    this.fields = fieldDescriptions
    if (this.fields.length) {
      this._parsers = new Array(fieldDescriptions.length)
    }

    const row = Object.create(null)

    for (let i = 0; i < fieldDescriptions.length; i++) {
      const desc = fieldDescriptions[i]
      row[desc.name] = null

      if (this._types) {
        this._parsers[i] = this._types.getTypeParser(desc.dataTypeID, desc.format || 'text')
      } else {
        this._parsers[i] = types.getTypeParser(desc.dataTypeID, desc.format || 'text')
      }
    }

    this._prebuiltEmptyResultObject = { ...row }
  }
}

module.exports = Result


/***/ }),

/***/ 829:
/***/ ((module, __unused_webpack_exports, __nccwpck_require__) => {

const { getStream, getSecureStream } = getStreamFuncs()

module.exports = {
  /**
   * Get a socket stream compatible with the current runtime environment.
   * @returns {Duplex}
   */
  getStream,
  /**
   * Get a TLS secured socket, compatible with the current environment,
   * using the socket and other settings given in `options`.
   * @returns {Duplex}
   */
  getSecureStream,
}

/**
 * The stream functions that work in Node.js
 */
function getNodejsStreamFuncs() {
  function getStream(ssl) {
    const net = __nccwpck_require__(9278)
    return new net.Socket()
  }

  function getSecureStream(options) {
    const tls = __nccwpck_require__(4756)
    return tls.connect(options)
  }
  return {
    getStream,
    getSecureStream,
  }
}

/**
 * The stream functions that work in Cloudflare Workers
 */
function getCloudflareStreamFuncs() {
  function getStream(ssl) {
    const { CloudflareSocket } = __nccwpck_require__(785)
    return new CloudflareSocket(ssl)
  }

  function getSecureStream(options) {
    options.socket.startTls(options)
    return options.socket
  }
  return {
    getStream,
    getSecureStream,
  }
}

/**
 * Are we running in a Cloudflare Worker?
 *
 * @returns true if the code is currently running inside a Cloudflare Worker.
 */
function isCloudflareRuntime() {
  // Since 2022-03-21 the `global_navigator` compatibility flag is on for Cloudflare Workers
  // which means that `navigator.userAgent` will be defined.
  // eslint-disable-next-line no-undef
  if (typeof navigator === 'object' && navigator !== null && typeof navigator.userAgent === 'string') {
    // eslint-disable-next-line no-undef
    return navigator.userAgent === 'Cloudflare-Workers'
  }
  // In case `navigator` or `navigator.userAgent` is not defined then try a more sneaky approach
  if (typeof Response === 'function') {
    const resp = new Response(null, { cf: { thing: true } })
    if (typeof resp.cf === 'object' && resp.cf !== null && resp.cf.thing) {
      return true
    }
  }
  return false
}

function getStreamFuncs() {
  if (isCloudflareRuntime()) {
    return getCloudflareStreamFuncs()
  }
  return getNodejsStreamFuncs()
}


/***/ }),

/***/ 365:
/***/ ((module, __unused_webpack_exports, __nccwpck_require__) => {



const types = __nccwpck_require__(1549)

function TypeOverrides(userTypes) {
  this._types = userTypes || types
  this.text = {}
  this.binary = {}
}

TypeOverrides.prototype.getOverrides = function (format) {
  switch (format) {
    case 'text':
      return this.text
    case 'binary':
      return this.binary
    default:
      return {}
  }
}

TypeOverrides.prototype.setTypeParser = function (oid, format, parseFn) {
  if (typeof format === 'function') {
    parseFn = format
    format = 'text'
  }
  this.getOverrides(format)[oid] = parseFn
}

TypeOverrides.prototype.getTypeParser = function (oid, format) {
  format = format || 'text'
  return this.getOverrides(format)[oid] || this._types.getTypeParser(oid, format)
}

module.exports = TypeOverrides


/***/ }),

/***/ 9652:
/***/ ((module, __unused_webpack_exports, __nccwpck_require__) => {



const defaults = __nccwpck_require__(8995)
const nodeUtils = __nccwpck_require__(9023)

const { isDate } = __nccwpck_require__(8253)

const invalidDateDeprecationNotice = nodeUtils.deprecate(
  () => {},
  'Sending an invalid date to Postgres is deprecated and will throw an error in the next major version of pg. Ensure any Date object passed as a query parameter is valid.',
  'PG_INVALID_DATE'
)

function escapeElement(elementRepresentation) {
  const escaped = elementRepresentation.replace(/\\/g, '\\\\').replace(/"/g, '\\"')

  return '"' + escaped + '"'
}

// convert a JS array to a postgres array literal
// uses comma separator so won't work for types like box that use
// a different array separator.
function arrayString(val) {
  let result = '{'
  for (let i = 0; i < val.length; i++) {
    if (i > 0) {
      result += ','
    }
    let item = val[i]
    if (item == null) {
      result += 'NULL'
    } else if (Array.isArray(item)) {
      result += arrayString(item)
    } else if (ArrayBuffer.isView(item)) {
      if (!(item instanceof Buffer)) {
        item = Buffer.from(item.buffer, item.byteOffset, item.byteLength)
      }
      result += '\\\\x' + item.toString('hex')
    } else {
      result += escapeElement(prepareValue(item))
    }
  }
  result += '}'
  return result
}

// converts values from javascript types
// to their 'raw' counterparts for use as a postgres parameter
// note: you can override this function to provide your own conversion mechanism
// for complex types, etc...
const prepareValue = function (val, seen) {
  // null and undefined are both null for postgres
  if (val == null) {
    return null
  }
  if (typeof val === 'object') {
    if (val instanceof Buffer) {
      return val
    }
    if (ArrayBuffer.isView(val)) {
      return Buffer.from(val.buffer, val.byteOffset, val.byteLength)
    }
    if (isDate(val)) {
      if (isNaN(val.getTime())) {
        invalidDateDeprecationNotice()
      }
      if (defaults.parseInputDatesAsUTC) {
        return dateToStringUTC(val)
      } else {
        return dateToString(val)
      }
    }
    if (Array.isArray(val)) {
      return arrayString(val)
    }

    return prepareObject(val, seen)
  }
  return val.toString()
}

function prepareObject(val, seen) {
  if (val && typeof val.toPostgres === 'function') {
    seen = seen || []
    if (seen.indexOf(val) !== -1) {
      throw new Error('circular reference detected while preparing "' + val + '" for query')
    }
    seen.push(val)

    return prepareValue(val.toPostgres(prepareValue), seen)
  }
  return JSON.stringify(val)
}

function dateToString(date) {
  let offset = -date.getTimezoneOffset()

  let year = date.getFullYear()
  const isBCYear = year < 1
  if (isBCYear) year = Math.abs(year) + 1 // negative years are 1 off their BC representation

  let ret =
    String(year).padStart(4, '0') +
    '-' +
    String(date.getMonth() + 1).padStart(2, '0') +
    '-' +
    String(date.getDate()).padStart(2, '0') +
    'T' +
    String(date.getHours()).padStart(2, '0') +
    ':' +
    String(date.getMinutes()).padStart(2, '0') +
    ':' +
    String(date.getSeconds()).padStart(2, '0') +
    '.' +
    String(date.getMilliseconds()).padStart(3, '0')

  if (offset < 0) {
    ret += '-'
    offset *= -1
  } else {
    ret += '+'
  }

  ret += String(Math.floor(offset / 60)).padStart(2, '0') + ':' + String(offset % 60).padStart(2, '0')
  if (isBCYear) ret += ' BC'
  return ret
}

function dateToStringUTC(date) {
  let year = date.getUTCFullYear()
  const isBCYear = year < 1
  if (isBCYear) year = Math.abs(year) + 1 // negative years are 1 off their BC representation

  let ret =
    String(year).padStart(4, '0') +
    '-' +
    String(date.getUTCMonth() + 1).padStart(2, '0') +
    '-' +
    String(date.getUTCDate()).padStart(2, '0') +
    'T' +
    String(date.getUTCHours()).padStart(2, '0') +
    ':' +
    String(date.getUTCMinutes()).padStart(2, '0') +
    ':' +
    String(date.getUTCSeconds()).padStart(2, '0') +
    '.' +
    String(date.getUTCMilliseconds()).padStart(3, '0')

  ret += '+00:00'
  if (isBCYear) ret += ' BC'
  return ret
}

function normalizeQueryConfig(config, values, callback) {
  // can take in strings or config objects
  // Copy config so normalization does not mutate the caller's object.
  config = typeof config === 'string' ? { text: config } : cloneQueryConfig(config)
  if (values) {
    if (typeof values === 'function') {
      config.callback = values
    } else {
      config.values = values
    }
  }
  if (callback) {
    config.callback = callback
  }
  return config
}

function cloneQueryConfig(config) {
  if (config == null) {
    return config
  }
  return Object.defineProperties(Object.create(Object.getPrototypeOf(config)), Object.getOwnPropertyDescriptors(config))
}

// Ported from PostgreSQL 9.2.4 source code in src/interfaces/libpq/fe-exec.c
const escapeIdentifier = function (str) {
  return '"' + str.replace(/"/g, '""') + '"'
}

const escapeLiteral = function (str) {
  let hasBackslash = false
  let escaped = "'"

  if (str == null) {
    return "''"
  }

  if (typeof str !== 'string') {
    return "''"
  }

  for (let i = 0; i < str.length; i++) {
    const c = str[i]
    if (c === "'") {
      escaped += c + c
    } else if (c === '\\') {
      escaped += c + c
      hasBackslash = true
    } else {
      escaped += c
    }
  }

  escaped += "'"

  if (hasBackslash === true) {
    escaped = ' E' + escaped
  }

  return escaped
}

module.exports = {
  prepareValue: function prepareValueWrapper(value) {
    // this ensures that extra arguments do not get passed into prepareValue
    // by accident, eg: from calling values.map(utils.prepareValue)
    return prepareValue(value)
  },
  normalizeQueryConfig,
  escapeIdentifier,
  escapeLiteral,
}


/***/ }),

/***/ 8702:
/***/ ((module, __unused_webpack_exports, __nccwpck_require__) => {



var path = __nccwpck_require__(6928)
  , Stream = (__nccwpck_require__(2203).Stream)
  , split = __nccwpck_require__(5286)
  , util = __nccwpck_require__(9023)
  , defaultPort = 5432
  , isWin = (process.platform === 'win32')
  , warnStream = process.stderr
;


var S_IRWXG = 56     //    00070(8)
  , S_IRWXO = 7      //    00007(8)
  , S_IFMT  = 61440  // 00170000(8)
  , S_IFREG = 32768  //  0100000(8)
;
function isRegFile(mode) {
    return ((mode & S_IFMT) == S_IFREG);
}

var fieldNames = [ 'host', 'port', 'database', 'user', 'password' ];
var nrOfFields = fieldNames.length;
var passKey = fieldNames[ nrOfFields -1 ];


function warn() {
    var isWritable = (
        warnStream instanceof Stream &&
          true === warnStream.writable
    );

    if (isWritable) {
        var args = Array.prototype.slice.call(arguments).concat("\n");
        warnStream.write( util.format.apply(util, args) );
    }
}


Object.defineProperty(module.exports, "isWin", ({
    get : function() {
        return isWin;
    } ,
    set : function(val) {
        isWin = val;
    }
}));


module.exports.warnTo = function(stream) {
    var old = warnStream;
    warnStream = stream;
    return old;
};

module.exports.getFileName = function(rawEnv){
    var env = rawEnv || process.env;
    var file = env.PGPASSFILE || (
        isWin ?
          path.join( env.APPDATA || './' , 'postgresql', 'pgpass.conf' ) :
          path.join( env.HOME || './', '.pgpass' )
    );
    return file;
};

module.exports.usePgPass = function(stats, fname) {
    if (Object.prototype.hasOwnProperty.call(process.env, 'PGPASSWORD')) {
        return false;
    }

    if (isWin) {
        return true;
    }

    fname = fname || '<unkn>';

    if (! isRegFile(stats.mode)) {
        warn('WARNING: password file "%s" is not a plain file', fname);
        return false;
    }

    if (stats.mode & (S_IRWXG | S_IRWXO)) {
        /* If password file is insecure, alert the user and ignore it. */
        warn('WARNING: password file "%s" has group or world access; permissions should be u=rw (0600) or less', fname);
        return false;
    }

    return true;
};


var matcher = module.exports.match = function(connInfo, entry) {
    return fieldNames.slice(0, -1).reduce(function(prev, field, idx){
        if (idx == 1) {
            // the port
            if ( Number( connInfo[field] || defaultPort ) === Number( entry[field] ) ) {
                return prev && true;
            }
        }
        return prev && (
            entry[field] === '*' ||
              entry[field] === connInfo[field]
        );
    }, true);
};


module.exports.getPassword = function(connInfo, stream, cb) {
    var pass;
    var lineStream = stream.pipe(split());

    function onLine(line) {
        var entry = parseLine(line);
        if (entry && isValidEntry(entry) && matcher(connInfo, entry)) {
            pass = entry[passKey];
            lineStream.end(); // -> calls onEnd(), but pass is set now
        }
    }

    var onEnd = function() {
        stream.destroy();
        cb(pass);
    };

    var onErr = function(err) {
        stream.destroy();
        warn('WARNING: error on reading file: %s', err);
        cb(undefined);
    };

    stream.on('error', onErr);
    lineStream
        .on('data', onLine)
        .on('end', onEnd)
        .on('error', onErr)
    ;

};


var parseLine = module.exports.parseLine = function(line) {
    if (line.length < 11 || line.match(/^\s+#/)) {
        return null;
    }

    var curChar = '';
    var prevChar = '';
    var fieldIdx = 0;
    var startIdx = 0;
    var endIdx = 0;
    var obj = {};
    var isLastField = false;
    var addToObj = function(idx, i0, i1) {
        var field = line.substring(i0, i1);

        if (! Object.hasOwnProperty.call(process.env, 'PGPASS_NO_DEESCAPE')) {
            field = field.replace(/\\([:\\])/g, '$1');
        }

        obj[ fieldNames[idx] ] = field;
    };

    for (var i = 0 ; i < line.length-1 ; i += 1) {
        curChar = line.charAt(i+1);
        prevChar = line.charAt(i);

        isLastField = (fieldIdx == nrOfFields-1);

        if (isLastField) {
            addToObj(fieldIdx, startIdx);
            break;
        }

        if (i >= 0 && curChar == ':' && prevChar !== '\\') {
            addToObj(fieldIdx, startIdx, i+1);

            startIdx = i+2;
            fieldIdx += 1;
        }
    }

    obj = ( Object.keys(obj).length === nrOfFields ) ? obj : null;

    return obj;
};


var isValidEntry = module.exports.isValidEntry = function(entry){
    var rules = {
        // host
        0 : function(x){
            return x.length > 0;
        } ,
        // port
        1 : function(x){
            if (x === '*') {
                return true;
            }
            x = Number(x);
            return (
                isFinite(x) &&
                  x > 0 &&
                  x < 9007199254740992 &&
                  Math.floor(x) === x
            );
        } ,
        // database
        2 : function(x){
            return x.length > 0;
        } ,
        // username
        3 : function(x){
            return x.length > 0;
        } ,
        // password
        4 : function(x){
            return x.length > 0;
        }
    };

    for (var idx = 0 ; idx < fieldNames.length ; idx += 1) {
        var rule = rules[idx];
        var value = entry[ fieldNames[idx] ] || '';

        var res = rule(value);
        if (!res) {
            return false;
        }
    }

    return true;
};



/***/ }),

/***/ 3272:
/***/ ((module, __unused_webpack_exports, __nccwpck_require__) => {



var path = __nccwpck_require__(6928)
  , fs = __nccwpck_require__(9896)
  , helper = __nccwpck_require__(8702)
;


module.exports = function(connInfo, cb) {
    var file = helper.getFileName();
    
    fs.stat(file, function(err, stat){
        if (err || !helper.usePgPass(stat, file)) {
            return cb(undefined);
        }

        var st = fs.createReadStream(file);

        helper.getPassword(connInfo, st, cb);
    });
};

module.exports.warnTo = helper.warnTo;


/***/ }),

/***/ 3879:
/***/ ((__unused_webpack_module, exports) => {



exports.parse = function (source, transform) {
  return new ArrayParser(source, transform).parse()
}

class ArrayParser {
  constructor (source, transform) {
    this.source = source
    this.transform = transform || identity
    this.position = 0
    this.entries = []
    this.recorded = []
    this.dimension = 0
  }

  isEof () {
    return this.position >= this.source.length
  }

  nextCharacter () {
    var character = this.source[this.position++]
    if (character === '\\') {
      return {
        value: this.source[this.position++],
        escaped: true
      }
    }
    return {
      value: character,
      escaped: false
    }
  }

  record (character) {
    this.recorded.push(character)
  }

  newEntry (includeEmpty) {
    var entry
    if (this.recorded.length > 0 || includeEmpty) {
      entry = this.recorded.join('')
      if (entry === 'NULL' && !includeEmpty) {
        entry = null
      }
      if (entry !== null) entry = this.transform(entry)
      this.entries.push(entry)
      this.recorded = []
    }
  }

  consumeDimensions () {
    if (this.source[0] === '[') {
      while (!this.isEof()) {
        var char = this.nextCharacter()
        if (char.value === '=') break
      }
    }
  }

  parse (nested) {
    var character, parser, quote
    this.consumeDimensions()
    while (!this.isEof()) {
      character = this.nextCharacter()
      if (character.value === '{' && !quote) {
        this.dimension++
        if (this.dimension > 1) {
          parser = new ArrayParser(this.source.substr(this.position - 1), this.transform)
          this.entries.push(parser.parse(true))
          this.position += parser.position - 2
        }
      } else if (character.value === '}' && !quote) {
        this.dimension--
        if (!this.dimension) {
          this.newEntry()
          if (nested) return this.entries
        }
      } else if (character.value === '"' && !character.escaped) {
        if (quote) this.newEntry(true)
        quote = !quote
      } else if (character.value === ',' && !quote) {
        this.newEntry()
      } else {
        this.record(character.value)
      }
    }
    if (this.dimension !== 0) {
      throw new Error('array dimension not balanced')
    }
    return this.entries
  }
}

function identity (value) {
  return value
}


/***/ }),

/***/ 463:
/***/ ((module) => {



var bufferFrom = Buffer.from || Buffer

module.exports = function parseBytea (input) {
  if (/^\\x/.test(input)) {
    // new 'hex' style response (pg >9.0)
    return bufferFrom(input.substr(2), 'hex')
  }
  var output = ''
  var i = 0
  while (i < input.length) {
    if (input[i] !== '\\') {
      output += input[i]
      ++i
    } else {
      if (/[0-7]{3}/.test(input.substr(i + 1, 3))) {
        output += String.fromCharCode(parseInt(input.substr(i + 1, 3), 8))
        i += 4
      } else {
        var backslashes = 1
        while (i + backslashes < input.length && input[i + backslashes] === '\\') {
          backslashes++
        }
        for (var k = 0; k < Math.floor(backslashes / 2); ++k) {
          output += '\\'
        }
        i += Math.floor(backslashes / 2) * 2
      }
    }
  }
  return bufferFrom(output, 'binary')
}


/***/ }),

/***/ 2690:
/***/ ((module) => {



var DATE_TIME = /(\d{1,})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(\.\d{1,})?.*?( BC)?$/
var DATE = /^(\d{1,})-(\d{2})-(\d{2})( BC)?$/
var TIME_ZONE = /([Z+-])(\d{2})?:?(\d{2})?:?(\d{2})?/
var INFINITY = /^-?infinity$/

module.exports = function parseDate (isoDate) {
  if (INFINITY.test(isoDate)) {
    // Capitalize to Infinity before passing to Number
    return Number(isoDate.replace('i', 'I'))
  }
  var matches = DATE_TIME.exec(isoDate)

  if (!matches) {
    // Force YYYY-MM-DD dates to be parsed as local time
    return getDate(isoDate) || null
  }

  var isBC = !!matches[8]
  var year = parseInt(matches[1], 10)
  if (isBC) {
    year = bcYearToNegativeYear(year)
  }

  var month = parseInt(matches[2], 10) - 1
  var day = matches[3]
  var hour = parseInt(matches[4], 10)
  var minute = parseInt(matches[5], 10)
  var second = parseInt(matches[6], 10)

  var ms = matches[7]
  ms = ms ? 1000 * parseFloat(ms) : 0

  var date
  var offset = timeZoneOffset(isoDate)
  if (offset != null) {
    date = new Date(Date.UTC(year, month, day, hour, minute, second, ms))

    // Account for years from 0 to 99 being interpreted as 1900-1999
    // by Date.UTC / the multi-argument form of the Date constructor
    if (is0To99(year)) {
      date.setUTCFullYear(year)
    }

    if (offset !== 0) {
      date.setTime(date.getTime() - offset)
    }
  } else {
    date = new Date(year, month, day, hour, minute, second, ms)

    if (is0To99(year)) {
      date.setFullYear(year)
    }
  }

  return date
}

function getDate (isoDate) {
  var matches = DATE.exec(isoDate)
  if (!matches) {
    return
  }

  var year = parseInt(matches[1], 10)
  var isBC = !!matches[4]
  if (isBC) {
    year = bcYearToNegativeYear(year)
  }

  var month = parseInt(matches[2], 10) - 1
  var day = matches[3]
  // YYYY-MM-DD will be parsed as local time
  var date = new Date(year, month, day)

  if (is0To99(year)) {
    date.setFullYear(year)
  }

  return date
}

// match timezones:
// Z (UTC)
// -05
// +06:30
function timeZoneOffset (isoDate) {
  if (isoDate.endsWith('+00')) {
    return 0
  }

  var zone = TIME_ZONE.exec(isoDate.split(' ')[1])
  if (!zone) return
  var type = zone[1]

  if (type === 'Z') {
    return 0
  }
  var sign = type === '-' ? -1 : 1
  var offset = parseInt(zone[2], 10) * 3600 +
    parseInt(zone[3] || 0, 10) * 60 +
    parseInt(zone[4] || 0, 10)

  return offset * sign * 1000
}

function bcYearToNegativeYear (year) {
  // Account for numerical difference between representations of BC years
  // See: https://github.com/bendrucker/postgres-date/issues/5
  return -(year - 1)
}

function is0To99 (num) {
  return num >= 0 && num < 100
}


/***/ }),

/***/ 8755:
/***/ ((module, __unused_webpack_exports, __nccwpck_require__) => {



var extend = __nccwpck_require__(223)

module.exports = PostgresInterval

function PostgresInterval (raw) {
  if (!(this instanceof PostgresInterval)) {
    return new PostgresInterval(raw)
  }
  extend(this, parse(raw))
}
var properties = ['seconds', 'minutes', 'hours', 'days', 'months', 'years']
PostgresInterval.prototype.toPostgres = function () {
  var filtered = properties.filter(this.hasOwnProperty, this)

  // In addition to `properties`, we need to account for fractions of seconds.
  if (this.milliseconds && filtered.indexOf('seconds') < 0) {
    filtered.push('seconds')
  }

  if (filtered.length === 0) return '0'
  return filtered
    .map(function (property) {
      var value = this[property] || 0

      // Account for fractional part of seconds,
      // remove trailing zeroes.
      if (property === 'seconds' && this.milliseconds) {
        value = (value + this.milliseconds / 1000).toFixed(6).replace(/\.?0+$/, '')
      }

      return value + ' ' + property
    }, this)
    .join(' ')
}

var propertiesISOEquivalent = {
  years: 'Y',
  months: 'M',
  days: 'D',
  hours: 'H',
  minutes: 'M',
  seconds: 'S'
}
var dateProperties = ['years', 'months', 'days']
var timeProperties = ['hours', 'minutes', 'seconds']
// according to ISO 8601
PostgresInterval.prototype.toISOString = PostgresInterval.prototype.toISO = function () {
  var datePart = dateProperties
    .map(buildProperty, this)
    .join('')

  var timePart = timeProperties
    .map(buildProperty, this)
    .join('')

  return 'P' + datePart + 'T' + timePart

  function buildProperty (property) {
    var value = this[property] || 0

    // Account for fractional part of seconds,
    // remove trailing zeroes.
    if (property === 'seconds' && this.milliseconds) {
      value = (value + this.milliseconds / 1000).toFixed(6).replace(/0+$/, '')
    }

    return value + propertiesISOEquivalent[property]
  }
}

var NUMBER = '([+-]?\\d+)'
var YEAR = NUMBER + '\\s+years?'
var MONTH = NUMBER + '\\s+mons?'
var DAY = NUMBER + '\\s+days?'
var TIME = '([+-])?([\\d]*):(\\d\\d):(\\d\\d)\\.?(\\d{1,6})?'
var INTERVAL = new RegExp([YEAR, MONTH, DAY, TIME].map(function (regexString) {
  return '(' + regexString + ')?'
})
  .join('\\s*'))

// Positions of values in regex match
var positions = {
  years: 2,
  months: 4,
  days: 6,
  hours: 9,
  minutes: 10,
  seconds: 11,
  milliseconds: 12
}
// We can use negative time
var negatives = ['hours', 'minutes', 'seconds', 'milliseconds']

function parseMilliseconds (fraction) {
  // add omitted zeroes
  var microseconds = fraction + '000000'.slice(fraction.length)
  return parseInt(microseconds, 10) / 1000
}

function parse (interval) {
  if (!interval) return {}
  var matches = INTERVAL.exec(interval)
  var isNegative = matches[8] === '-'
  return Object.keys(positions)
    .reduce(function (parsed, property) {
      var position = positions[property]
      var value = matches[position]
      // no empty string
      if (!value) return parsed
      // milliseconds are actually microseconds (up to 6 digits)
      // with omitted trailing zeroes.
      value = property === 'milliseconds'
        ? parseMilliseconds(value)
        : parseInt(value, 10)
      // no zeros
      if (!value) return parsed
      if (isNegative && ~negatives.indexOf(property)) {
        value *= -1
      }
      parsed[property] = value
      return parsed
    }, {})
}


/***/ }),

/***/ 5286:
/***/ ((module, __unused_webpack_exports, __nccwpck_require__) => {

/*
Copyright (c) 2014-2021, Matteo Collina <hello@matteocollina.com>

Permission to use, copy, modify, and/or distribute this software for any
purpose with or without fee is hereby granted, provided that the above
copyright notice and this permission notice appear in all copies.

THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF OR
IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
*/



const { Transform } = __nccwpck_require__(2203)
const { StringDecoder } = __nccwpck_require__(3193)
const kLast = Symbol('last')
const kDecoder = Symbol('decoder')

function transform (chunk, enc, cb) {
  let list
  if (this.overflow) { // Line buffer is full. Skip to start of next line.
    const buf = this[kDecoder].write(chunk)
    list = buf.split(this.matcher)

    if (list.length === 1) return cb() // Line ending not found. Discard entire chunk.

    // Line ending found. Discard trailing fragment of previous line and reset overflow state.
    list.shift()
    this.overflow = false
  } else {
    this[kLast] += this[kDecoder].write(chunk)
    list = this[kLast].split(this.matcher)
  }

  this[kLast] = list.pop()

  for (let i = 0; i < list.length; i++) {
    try {
      push(this, this.mapper(list[i]))
    } catch (error) {
      return cb(error)
    }
  }

  this.overflow = this[kLast].length > this.maxLength
  if (this.overflow && !this.skipOverflow) {
    cb(new Error('maximum buffer reached'))
    return
  }

  cb()
}

function flush (cb) {
  // forward any gibberish left in there
  this[kLast] += this[kDecoder].end()

  if (this[kLast]) {
    try {
      push(this, this.mapper(this[kLast]))
    } catch (error) {
      return cb(error)
    }
  }

  cb()
}

function push (self, val) {
  if (val !== undefined) {
    self.push(val)
  }
}

function noop (incoming) {
  return incoming
}

function split (matcher, mapper, options) {
  // Set defaults for any arguments not supplied.
  matcher = matcher || /\r?\n/
  mapper = mapper || noop
  options = options || {}

  // Test arguments explicitly.
  switch (arguments.length) {
    case 1:
      // If mapper is only argument.
      if (typeof matcher === 'function') {
        mapper = matcher
        matcher = /\r?\n/
      // If options is only argument.
      } else if (typeof matcher === 'object' && !(matcher instanceof RegExp) && !matcher[Symbol.split]) {
        options = matcher
        matcher = /\r?\n/
      }
      break

    case 2:
      // If mapper and options are arguments.
      if (typeof matcher === 'function') {
        options = mapper
        mapper = matcher
        matcher = /\r?\n/
      // If matcher and options are arguments.
      } else if (typeof mapper === 'object') {
        options = mapper
        mapper = noop
      }
  }

  options = Object.assign({}, options)
  options.autoDestroy = true
  options.transform = transform
  options.flush = flush
  options.readableObjectMode = true

  const stream = new Transform(options)

  stream[kLast] = ''
  stream[kDecoder] = new StringDecoder('utf8')
  stream.matcher = matcher
  stream.mapper = mapper
  stream.maxLength = options.maxLength
  stream.skipOverflow = options.skipOverflow || false
  stream.overflow = false
  stream._destroy = function (err, cb) {
    // Weird Node v12 bug that we need to work around
    this._writableState.errorEmitted = false
    cb(err)
  }

  return stream
}

module.exports = split


/***/ }),

/***/ 223:
/***/ ((module) => {

module.exports = extend

var hasOwnProperty = Object.prototype.hasOwnProperty;

function extend(target) {
    for (var i = 1; i < arguments.length; i++) {
        var source = arguments[i]

        for (var key in source) {
            if (hasOwnProperty.call(source, key)) {
                target[key] = source[key]
            }
        }
    }

    return target
}


/***/ }),

/***/ 9439:
/***/ ((__unused_webpack_module, __webpack_exports__, __nccwpck_require__) => {

/* harmony export */ __nccwpck_require__.d(__webpack_exports__, {
/* harmony export */   NB: () => (/* binding */ backupIdTime),
/* harmony export */   _H: () => (/* binding */ newBackupId),
/* harmony export */   "if": () => (/* binding */ isBackupId)
/* harmony export */ });
/* harmony import */ var node_crypto__WEBPACK_IMPORTED_MODULE_0__ = __nccwpck_require__(7598);
/* harmony import */ var node_crypto__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__nccwpck_require__.n(node_crypto__WEBPACK_IMPORTED_MODULE_0__);

/**
 * `YYYYMMDD_HHMMSS_mmm_<8 hex>`: sorts by time as plain text, never collides (32 random
 * bits within one millisecond), and is safe everywhere it travels: file names, S3 and
 * cache keys, and unquoted inside a schema name (`lifeboat_restore_<id>`).
 */
function newBackupId(now = new Date()) {
    const iso = now.toISOString(); // 2026-11-24T00:03:12.345Z
    const date = iso.slice(0, 10).replace(/-/g, '');
    const time = iso.slice(11, 19).replace(/:/g, '');
    const millis = iso.slice(20, 23);
    return `${date}_${time}_${millis}_${(0,node_crypto__WEBPACK_IMPORTED_MODULE_0__.randomBytes)(4).toString('hex')}`;
}
const ID_PATTERN = /^\d{8}_\d{6}_\d{3}_[0-9a-f]{8}$/;
function isBackupId(text) {
    return ID_PATTERN.test(text);
}
/** The time a backup id was minted, for age checks that must not trust file times. */
function backupIdTime(id) {
    if (!isBackupId(id))
        return undefined;
    const iso = `${id.slice(0, 4)}-${id.slice(4, 6)}-${id.slice(6, 8)}T${id.slice(9, 11)}:${id.slice(11, 13)}:${id.slice(13, 15)}.${id.slice(16, 19)}Z`;
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? undefined : date;
}


/***/ }),

/***/ 5581:
/***/ ((module, __unused_webpack___webpack_exports__, __nccwpck_require__) => {

__nccwpck_require__.a(module, async (__webpack_handle_async_dependencies__, __webpack_async_result__) => { try {
/* harmony import */ var _cli_main_js__WEBPACK_IMPORTED_MODULE_0__ = __nccwpck_require__(879);

process.exitCode = await (0,_cli_main_js__WEBPACK_IMPORTED_MODULE_0__/* .cli */ .x)(process.argv.slice(2));

__webpack_async_result__();
} catch(e) { __webpack_async_result__(e); } }, 1);

/***/ }),

/***/ 879:
/***/ ((__unused_webpack_module, __webpack_exports__, __nccwpck_require__) => {


// EXPORTS
__nccwpck_require__.d(__webpack_exports__, {
  x: () => (/* binding */ cli)
});

;// CONCATENATED MODULE: external "node:readline/promises"
const promises_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:readline/promises");
// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __nccwpck_require__(7598);
;// CONCATENATED MODULE: ./node_modules/@scure/base/index.js
/*! scure-base - MIT License (c) 2022 Paul Miller (paulmillr.com) */
// Freeze the result of a thunk. `/* @__PURE__ */ freeze(() => expr)` keeps the whole
// initializer tree-shakable: the annotated call's only argument is a function literal,
// so bundlers drop everything (inner chain()/alphabet() calls included) when unused.
const freeze = (fn) => Object.freeze(fn());
function isBytes(a) {
    // Plain `instanceof Uint8Array` is too strict for some Buffer / proxy / cross-realm cases. The
    // fallback still requires a real ArrayBuffer view, so plain JSON-deserialized
    // `{ constructor: ... }` spoofing is rejected. `BYTES_PER_ELEMENT === 1` keeps the
    // fallback on byte-oriented views.
    return (a instanceof Uint8Array ||
        (ArrayBuffer.isView(a) &&
            a.constructor.name === 'Uint8Array' &&
            'BYTES_PER_ELEMENT' in a &&
            a.BYTES_PER_ELEMENT === 1));
}
/** Asserts something is Uint8Array. */
function abytes(b) {
    if (!isBytes(b))
        throw new TypeError('Uint8Array expected');
}
function isArrayOf(isString, arr) {
    if (!Array.isArray(arr))
        return false;
    if (arr.length === 0)
        return true;
    if (isString) {
        return arr.every((item) => typeof item === 'string');
    }
    else {
        return arr.every((item) => Number.isSafeInteger(item));
    }
}
function afn(input) {
    if (typeof input !== 'function')
        throw new TypeError('function expected');
    return true;
}
function astr(label, input) {
    if (typeof input !== 'string')
        throw new TypeError(`${label}: string expected`);
    return true;
}
function anumber(n, title = 'number') {
    if (typeof n !== 'number')
        throw new TypeError(`${title}: expected number, got ${typeof n}`);
    if (!Number.isSafeInteger(n))
        throw new RangeError(`${title}: expected safe integer, got ${n}`);
}
function anumArr(label, input) {
    if (!isArrayOf(false, input))
        throw new TypeError(`${label}: array of numbers expected`);
}
function chain(...args) {
    const id = (a) => a;
    // Wrap call in closure so JIT can inline calls
    const wrap = (a, b) => (c) => a(b(c));
    // Construct chain of args[-1].encode(args[-2].encode([...]))
    const encode = args.map((x) => x.encode).reduceRight(wrap, id);
    // Construct chain of args[0].decode(args[1].decode(...))
    const decode = args.map((x) => x.decode).reduce(wrap, id);
    return { encode, decode };
}
function normalize(fn) {
    afn(fn);
    return { encode: (from) => from, decode: (to) => fn(to) };
}
const powers = /* @__PURE__ */ (() => {
    let res = [];
    for (let i = 0; i < 40; i++)
        res.push(2 ** i);
    return res;
})();
// Indexed copy loops instead of Array.from / Uint8Array.from: those go through the
// iterator protocol on typed arrays, which is ~10x slower and would swamp the fast
// links' gains on the conversion boundaries.
function u8ToNumArr(u8, len = u8.length) {
    const res = new Array(len);
    for (let i = 0; i < len; i++)
        res[i] = u8[i];
    return res;
}
// UTF-8 TextDecoder builds a string from ASCII codes 2x faster than `TextDecoder('latin1')`
// (4x on freshly allocated, our exact case).
// All codes here are < 128 (range is validated elsewhere): UTF-8 agrees with ASCII byte-for-byte.
// UTF-8 needs no ICU, so the probe only guards runtimes without TextDecoder at all (Hermes).
const asciiDecoder = /* @__PURE__ */ (() => {
    try {
        const decoder = new TextDecoder();
        // Self-check on the domain we use (codes < 128): reject broken polyfills at
        // probe time instead of producing corrupted codec output later.
        return decoder.decode(Uint8Array.of(0x41, 0x30, 0x2b, 0x7f)) === 'A0+\x7f'
            ? decoder
            : undefined;
    }
    catch (e) {
        return undefined;
    }
})();
const B2S_CHUNK = 8192; // char codes per String.fromCharCode call, avoids arg-count limits
function charcodesToString(codes) {
    const len = codes.length;
    // Measured crossover: the TextDecoder's per-call setup dominates below ~12 chars,
    // where String.fromCharCode wins (bech32 checksums, base58xmr blocks).
    if (asciiDecoder !== undefined && len >= 12)
        return asciiDecoder.decode(codes);
    if (len <= B2S_CHUNK)
        return String.fromCharCode.apply(null, codes);
    let res = '';
    for (let i = 0; i < len; i += B2S_CHUNK)
        res += String.fromCharCode.apply(null, codes.subarray(i, i + B2S_CHUNK));
    return res;
}
/**
 * Linear 8 <-> bits regrouping (radix2Slow semantics), with Uint8Array digits and
 * preallocated output.
 */
function radix2(bits) {
    anumber(bits);
    if (bits <= 0 || bits > 8)
        throw new RangeError('radix2: bits should be in (0..8]');
    const mask = powers[bits] - 1;
    return {
        encode: (bytes) => {
            abytes(bytes);
            const len = bytes.length;
            // 8->bits with zero-bit padding of the last digit, like convertRadix2(padding=true)
            const res = new Uint8Array(Math.ceil((len * 8) / bits));
            let carry = 0;
            let pos = 0;
            let j = 0;
            for (let i = 0; i < len;) {
                // At most 7 residual bits plus 24 new bits fit in the signed 32-bit carry.
                if (i + 2 < len) {
                    carry = (carry << 24) | (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
                    pos += 24;
                    i += 3;
                }
                else {
                    // Constant mask instead of convertRadix2's exact powers[pos]-1 cleanup: with
                    // bits <= 8 the residual is pos <= 7 bits, so carry needs at most pos + 8 <= 15
                    // meaningful bits. Stale bits in [pos, 16) shift to >= bits on extraction and
                    // are removed by `& mask` there and in the tail below.
                    carry = ((carry << 8) | bytes[i]) & 0xffff;
                    pos += 8;
                    i++;
                }
                // Each input adds at least `bits`, so the first extraction is unconditional.
                for (;;) {
                    pos -= bits;
                    res[j++] = (carry >> pos) & mask;
                    if (pos < bits)
                        break;
                }
            }
            if (pos > 0)
                res[j] = (carry << (bits - pos)) & mask;
            return res;
        },
        decode: (digits) => {
            // bits->8, strict canonical form, like convertRadix2(padding=false):
            // rejects leftover whole input words and non-zero pad bits.
            const len = digits.length;
            const res = new Uint8Array(Math.floor((len * bits) / 8));
            let carry = 0;
            let pos = 0;
            let j = 0;
            for (let i = 0; i < len; i++) {
                // Same constant-mask carry bound as encode: pos <= 7 residual plus bits <= 8
                // incoming keeps meaningful carry within 15 bits; stale bits above pos are
                // masked out on extraction and in the tail check below.
                carry = ((carry << bits) | digits[i]) & 0xffff;
                pos += bits;
                for (; pos >= 8; pos -= 8)
                    res[j++] = (carry >> (pos - 8)) & 0xff;
            }
            carry = (carry << (8 - pos)) & 0xff;
            if (pos >= bits)
                throw new Error('Excess padding');
            if (carry > 0)
                throw new Error(`Non-zero padding: ${carry}`);
            return res;
        },
    };
}
/**
 * Digit <-> letter mapping fused with string join (chain(alphabetSlow(letters), join(''))
 * semantics), via char-code lookup tables.
 */
function alphabet(letters, aliases) {
    const len = letters.length;
    // Larger indexes would wrap in the Int8Array reverse table and decode to wrong digits.
    if (len > 128)
        throw new Error('alphabet: max 128 letters');
    const encTable = new Uint8Array(len);
    const decTable = new Int8Array(128).fill(-1);
    for (let i = 0; i < len; i++) {
        const code = letters.charCodeAt(i);
        if (letters.codePointAt(i) !== code || code > 127)
            throw new Error('alphabet: single-char ASCII letters only');
        encTable[i] = code;
        decTable[code] = i;
    }
    // Aliases decode like their canonical letter (e.g. hex case-folding), without a
    // separate normalization pass over the input string.
    if (aliases !== undefined) {
        for (const alias of Object.keys(aliases)) {
            const code = alias.charCodeAt(0);
            const target = decTable[aliases[alias].charCodeAt(0)];
            if (alias.length !== 1 || code > 127 || target === undefined || target === -1)
                throw new Error(`alphabet: invalid alias ${alias}`);
            decTable[code] = target;
        }
    }
    return {
        encode: (digits) => {
            const codes = new Uint8Array(digits.length);
            for (let i = 0; i < digits.length; i++) {
                const d = digits[i];
                const code = encTable[d];
                // Reuse the table lookup's bounds result for the required per-digit range check.
                // Chained radix2 always emits digits < 2**bits === len; check anyway so a
                // mismatched chain throws (like alphabetSlow) instead of silently emitting letter 0.
                if (code === undefined)
                    throw new Error(`alphabet.encode: invalid digit ${d}`);
                codes[i] = code;
            }
            return charcodesToString(codes);
        },
        decode: (input) => {
            // Uniform label: this is the decode entry link for nopad codecs, padding for padded
            // ones. Keeps "decode: string expected" identical across all built-in codecs
            // (released 2.x said "join.decode: string expected").
            astr('decode', input);
            const slen = input.length;
            const digits = new Uint8Array(slen);
            for (let i = 0; i < slen; i++) {
                const code = input.charCodeAt(i);
                const digit = code < 128 ? decTable[code] : -1;
                if (digit === -1)
                    throw new Error(`Unknown letter "${input[i]}". Allowed: ${letters}`);
                digits[i] = digit;
            }
            return digits;
        },
    };
}
/**
 * Pad / unpad (paddingSlow semantics), on the joined string.
 */
function padding(bits, chr = '=') {
    anumber(bits);
    astr('padding', chr);
    return {
        encode(data) {
            while ((data.length * bits) % 8)
                data += chr;
            return data;
        },
        decode(input) {
            // Uniform label, see alphabet.decode above.
            astr('decode', input);
            let end = input.length;
            if ((end * bits) % 8)
                throw new Error('padding: invalid length');
            for (; end > 0 && input[end - 1] === chr; end--) {
                const byte = (end - 1) * bits;
                if (byte % 8 === 0)
                    throw new Error('padding: excess padding');
            }
            return input.slice(0, end);
        },
    };
}
function unsafeWrapper(fn) {
    afn(fn);
    return function (...args) {
        // Only for *Unsafe APIs that intentionally collapse validation failures to `undefined`.
        // Do not wrap code that needs to preserve exception details.
        try {
            return fn.apply(null, args);
        }
        catch (e) { }
    };
}
function checksum(len, fn) {
    anumber(len);
    // Reject degenerate zero-byte checksums up front so callers don't accidentally
    // build a no-op checksum stage.
    if (len <= 0)
        throw new RangeError(`checksum length must be positive: ${len}`);
    afn(fn);
    const _fn = fn;
    // Uses the first `len` bytes of fn(data) in both directions.
    // Current call sites rely on `len > 0` and checksum functions that return at least that many bytes.
    return {
        encode(data) {
            abytes(data);
            const sum = _fn(data).slice(0, len);
            const res = new Uint8Array(data.length + len);
            res.set(data);
            res.set(sum, data.length);
            return res;
        },
        decode(data) {
            abytes(data);
            const payload = data.slice(0, -len);
            const oldChecksum = data.slice(-len);
            const newChecksum = _fn(payload).slice(0, len);
            for (let i = 0; i < len; i++)
                if (newChecksum[i] !== oldChecksum[i])
                    throw new Error('Invalid checksum');
            return payload;
        },
    };
}
// RFC 4648 aka RFC 3548
// ---------------------
/**
 * base16 encoding from RFC 4648.
 * This codec uses RFC 4648 Table 5's uppercase alphabet directly.
 * RFC 4648 §8 calls base16 "case-insensitive hex encoding", but we intentionally do not case-fold decode input here.
 * Use `hex` for case-insensitive hex decoding.
 * @example
 * ```js
 * base16.encode(Uint8Array.from([0x12, 0xab]));
 * // => '12AB'
 * ```
 */
const base16 = /* @__PURE__ */ (/* unused pure expression or super */ null && (freeze(() => chain(radix2(4), alphabet('0123456789ABCDEF')))));
/**
 * base32 encoding from RFC 4648. Has padding.
 * RFC 4648 §6 Table 3 uses uppercase letters, and RFC 4648 §3.4 allows applications to choose
 * upper- or lowercase alphabets. We keep the published uppercase table and do not case-fold decode input.
 * Use `base32nopad` for unpadded version.
 * Also check out `base32hex`, `base32hexnopad`, `base32crockford`.
 * @example
 * ```js
 * base32.encode(Uint8Array.from([0x12, 0xab]));
 * // => 'CKVQ===='
 * base32.decode('CKVQ====');
 * // => Uint8Array.from([0x12, 0xab])
 * ```
 */
const base32 = /* @__PURE__ */ (/* unused pure expression or super */ null && (freeze(() => chain(radix2(5), alphabet('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'), padding(5)))));
/**
 * base32 encoding from RFC 4648. No padding.
 * This variant inherits RFC 4648 base32's uppercase table and intentionally does not case-fold decode input.
 * Use `base32` for padded version.
 * Also check out `base32hex`, `base32hexnopad`, `base32crockford`.
 * @example
 * ```js
 * base32nopad.encode(Uint8Array.from([0x12, 0xab]));
 * // => 'CKVQ'
 * base32nopad.decode('CKVQ');
 * // => Uint8Array.from([0x12, 0xab])
 * ```
 */
const base32nopad = /* @__PURE__ */ (/* unused pure expression or super */ null && (freeze(() => chain(radix2(5), alphabet('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')))));
/**
 * base32 encoding from RFC 4648. Padded. Compared to ordinary `base32`, slightly different alphabet.
 * RFC 4648 §7 Table 4 uses uppercase letters, and we intentionally keep that table without case-folding decode input.
 * Use `base32hexnopad` for unpadded version.
 * @example
 * ```js
 * base32hex.encode(Uint8Array.from([0x12, 0xab]));
 * // => '2ALG===='
 * base32hex.decode('2ALG====');
 * // => Uint8Array.from([0x12, 0xab])
 * ```
 */
const base32hex = /* @__PURE__ */ (/* unused pure expression or super */ null && (freeze(() => chain(radix2(5), alphabet('0123456789ABCDEFGHIJKLMNOPQRSTUV'), padding(5)))));
/**
 * base32 encoding from RFC 4648. No padding. Compared to ordinary `base32`, slightly different alphabet.
 * This variant inherits RFC 4648 base32hex's uppercase table and intentionally does not case-fold decode input.
 * Use `base32hex` for padded version.
 * @example
 * ```js
 * base32hexnopad.encode(Uint8Array.from([0x12, 0xab]));
 * // => '2ALG'
 * base32hexnopad.decode('2ALG');
 * // => Uint8Array.from([0x12, 0xab])
 * ```
 */
const base32hexnopad = /* @__PURE__ */ (/* unused pure expression or super */ null && (freeze(() => chain(radix2(5), alphabet('0123456789ABCDEFGHIJKLMNOPQRSTUV')))));
const BASE32_CROCKFORD_ASCII = /^[\x00-\x7f]*$/;
/**
 * base32 encoding from RFC 4648. Doug Crockford's version.
 * See {@link https://www.crockford.com/base32.html | Douglas Crockford's Base32}.
 * @example
 * ```js
 * base32crockford.encode(Uint8Array.from([0x12, 0xab]));
 * // => '2ANG'
 * base32crockford.decode('2ANG');
 * // => Uint8Array.from([0x12, 0xab])
 * ```
 */
const base32crockford = /* @__PURE__ */ (/* unused pure expression or super */ null && (freeze(() => chain(radix2(5), alphabet('0123456789ABCDEFGHJKMNPQRSTVWXYZ'), normalize((s) => {
    astr('base32crockford.decode', s);
    const upper = s.toUpperCase();
    if (s !== upper && !BASE32_CROCKFORD_ASCII.test(s))
        throw new Error('base32crockford.decode: ASCII expected');
    return upper.replace(/O/g, '0').replace(/[IL]/g, '1');
})))));
// Built-in base64 conversion https://caniuse.com/mdn-javascript_builtins_uint8array_frombase64
// Require both directions before taking the native fast path, so base64/base64url don't mix native and JS behavior.
// prettier-ignore
const hasBase64Builtin = /* @__PURE__ */ (/* unused pure expression or super */ null && ((() => typeof Uint8Array.from([]).toBase64 === 'function' &&
    typeof Uint8Array.fromBase64 === 'function')()));
// Native `Uint8Array.fromBase64()` accepts these ASCII whitespace chars.
// Reject them first so the native base64 path still follows RFC 4648 §3.3.
// ASCII whitespace is U+0009 TAB, U+000A LF, U+000C FF, U+000D CR, or U+0020 SPACE
const ASCII_WHITESPACE = /[\t\n\f\r ]/;
const decodeBase64Builtin = (s, isUrl) => {
    astr('base64', s);
    const alphabet = isUrl ? 'base64url' : 'base64';
    // Per spec, .fromBase64 already throws on any other non-alphabet symbols except ASCII whitespace
    // And checking just for whitespace makes decoding about 3x faster than a full range check.
    // lastChunkHandling: 'strict' rejects loose tails and non-zero pad bits so native decoding stays canonical.
    if (s.length > 0 && ASCII_WHITESPACE.test(s))
        throw new Error('invalid base64');
    return Uint8Array.fromBase64(s, { alphabet, lastChunkHandling: 'strict' });
};
/** base64 from RFC 4648. Padded. Pure JS version */
const base64Fallback = /* @__PURE__ */ (/* unused pure expression or super */ null && (freeze(() => chain(radix2(6), alphabet('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'), padding(6)))));
/** base64url from RFC 4648. Padded. Pure JS version */
const base64urlFallback = /* @__PURE__ */ (/* unused pure expression or super */ null && (freeze(() => chain(radix2(6), alphabet('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'), padding(6)))));
/**
 * base64 from RFC 4648. Padded.
 * Alternative variants: `base64nopad`, `base64url`, `base64urlnopad`.
 * Utilizes native `Uint8Array.fromBase64` builtin, otherwise falls back to `base64fallback` when it's unavailable.
 * @example
 * ```js
 * base64.encode(Uint8Array.from([0x12, 0xab]));
 * // => 'Eqs='
 * base64.decode('Eqs=');
 * // => Uint8Array.from([0x12, 0xab])
 * ```
 */
// prettier-ignore
const base64 = /* @__PURE__ */ (/* unused pure expression or super */ null && (freeze(() => hasBase64Builtin ? {
    encode(b) { abytes(b); return b.toBase64(); },
    decode(s) { return decodeBase64Builtin(s, false); },
} : base64Fallback)));
/**
 * base64 from RFC 4648. No padding.
 * Use `base64` for padded version.
 * @example
 * ```js
 * base64nopad.encode(Uint8Array.from([0x12, 0xab]));
 * // => 'Eqs'
 * base64nopad.decode('Eqs');
 * // => Uint8Array.from([0x12, 0xab])
 * ```
 */
const base64nopad = /* @__PURE__ */ (/* unused pure expression or super */ null && (freeze(() => chain(radix2(6), alphabet('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')))));
/**
 * base64 from RFC 4648, using URL-safe alphabet. Padded.
 * Use `base64urlnopad` for unpadded version.
 * Falls back to built-in function, when available.
 * @example
 * ```js
 * base64url.encode(Uint8Array.from([0x12, 0xab]));
 * // => 'Eqs='
 * base64url.decode('Eqs=');
 * // => Uint8Array.from([0x12, 0xab])
 * ```
 */
// prettier-ignore
const base64url = /* @__PURE__ */ (/* unused pure expression or super */ null && (freeze(() => hasBase64Builtin ? {
    encode(b) { abytes(b); return b.toBase64({ alphabet: 'base64url' }); },
    decode(s) { return decodeBase64Builtin(s, true); },
} : base64urlFallback)));
/**
 * base64 from RFC 4648, using URL-safe alphabet. No padding.
 * Use `base64url` for padded version.
 * @example
 * ```js
 * base64urlnopad.encode(Uint8Array.from([0x12, 0xab]));
 * // => 'Eqs'
 * base64urlnopad.decode('Eqs');
 * // => Uint8Array.from([0x12, 0xab])
 * ```
 */
const base64urlnopad = /* @__PURE__ */ (/* unused pure expression or super */ null && (freeze(() => chain(radix2(6), alphabet('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_')))));
// baseN radix code (base58, base36)
// ---------------------------------
// Base conversion 256 <-> BASE done on 16-bit limbs, five baseN digits (one divmod by
// BASE**5) per pass, ~10x fewer inner-loop iterations than digit-at-a-time conversion.
// Exactness: every intermediate is a non-negative integer below 2**53, so float64
// arithmetic (including Math.floor of the quotients) is exact for any GROUP = BASE**5 < 2**30:
// - encode: carry * 2**16 + limb < BASE**5 * 2**16 < 2**46
// - decode: limb * BASE**5 + carry < 2**16 * BASE**5 + 2**30 < 2**46
// Still O(n^2) overall like any positional-base conversion — see the base58 DoS note.
// GROUP literals (not `BASE ** 5`) so bundlers can drop unused coders as dead code.
const B58_GROUP = 656356768; // 58**5 < 2**30
const B36_GROUP = 60466176; // 36**5 < 2**26
const RADIX_BASE_N_MAX_LENGTH = 65536;
const BASE_N_MAX_BYTES = 2048;
const BASE_N_MAX_CHARS = 4096;
const radixBaseN = (BASE, GROUP) => ({
    encode: (bytes) => {
        abytes(bytes);
        const blen = bytes.length;
        if (blen === 0)
            return new Uint8Array(0);
        if (blen >= RADIX_BASE_N_MAX_LENGTH)
            throw new Error('invalid length');
        // Leading zero bytes map 1:1 to leading zero digits (at most blen-1 explicit zeros;
        // an all-zero value still contributes one digit below).
        let zeros = 0;
        while (zeros < blen - 1 && bytes[zeros] === 0)
            zeros++;
        // Pack big-endian 16-bit limbs; odd length makes the top limb a single byte.
        const nlimbs = Math.ceil(blen / 2);
        const limbs = new Uint16Array(nlimbs);
        const odd = blen & 1;
        if (odd)
            limbs[0] = bytes[0];
        for (let i = odd, j = odd; i < blen; i += 2, j++)
            limbs[j] = (bytes[i] << 8) | bytes[i + 1];
        // Repeated divmod by BASE**5; each pass emits one 5-digit group, least significant
        // first. No carry-overflow guard like convertRadix had: that one faced arbitrary
        // caller-chosen bases, while these bounds are static and proven exact above.
        const groups = [];
        let pos = 0; // limbs before pos are known zero
        while (pos < nlimbs) {
            let carry = 0;
            for (let i = pos; i < nlimbs; i++) {
                const cur = carry * 0x10000 + limbs[i];
                const q = Math.floor(cur / GROUP);
                carry = cur - q * GROUP;
                limbs[i] = q;
                if (q === 0 && i === pos)
                    pos++;
            }
            groups.push(carry);
        }
        // The top group is nonzero unless the whole value is zero, so total significant
        // digit count is 5 per full group plus the top group's own width. (Writing 5 digits
        // per group and trimming via subarray is smaller code, but the offset view slows
        // encode ~25% and base58xmr 2x — measured.)
        const top = groups.length - 1;
        let sig = top * 5;
        for (let v = groups[top];; v = Math.floor(v / BASE)) {
            sig++;
            if (v < BASE)
                break;
        }
        const res = new Uint8Array(zeros + sig); // leading zero digits are already 0
        let j = res.length - 1;
        for (let g = 0; g < top; g++) {
            let v = groups[g];
            for (let k = 0; k < 5; k++) {
                res[j--] = v % BASE;
                v = Math.floor(v / BASE);
            }
        }
        for (let v = groups[top]; j >= zeros; v = Math.floor(v / BASE))
            res[j--] = v % BASE;
        return res;
    },
    decode: (digits) => {
        abytes(digits);
        const dlen = digits.length;
        if (dlen === 0)
            return new Uint8Array(0);
        if (dlen >= RADIX_BASE_N_MAX_LENGTH)
            throw new Error('invalid length');
        let zeros = 0;
        while (zeros < dlen - 1 && digits[zeros] === 0)
            zeros++;
        // Multiply-accumulate 16-bit limbs (little-endian, `used` live) group by group,
        // most significant group first; the first group may be shorter than 5 digits, and
        // its BASE**group factor falls out of the digit fold.
        const limbs = new Uint16Array(Math.ceil((dlen * 6) / 16) + 1);
        let used = 0;
        let i = 0;
        let group = dlen % 5 || 5;
        while (i < dlen) {
            let gval = 0;
            let factor = 1;
            for (const end = i + group; i < end; i++) {
                const d = digits[i];
                // Unreachable through the public chain (alphabet emits digits < BASE); guards
                // internal misuse from silently corrupting output.
                if (d >= BASE)
                    throw new Error(`invalid integer: ${d}`);
                gval = gval * BASE + d;
                factor *= BASE;
            }
            group = 5;
            let carry = gval;
            for (let k = 0; k < used; k++) {
                const cur = limbs[k] * factor + carry;
                carry = Math.floor(cur / 0x10000);
                limbs[k] = cur - carry * 0x10000;
            }
            for (; carry > 0; carry = Math.floor(carry / 0x10000))
                limbs[used++] = carry % 0x10000;
        }
        // used === 0 means the value is zero: it still contributes one byte, like a lone
        // zero digit does.
        const valueBytes = used === 0 ? 1 : used * 2 - (limbs[used - 1] < 256 ? 1 : 0);
        const res = new Uint8Array(zeros + valueBytes); // leading zero bytes are already 0
        let j = res.length - 1;
        for (let k = 0; k < used; k++) {
            const limb = limbs[k];
            res[j--] = limb & 0xff;
            if (j >= zeros)
                res[j--] = limb >> 8;
        }
        return res;
    },
});
const genBaseN = (radix, abc) => {
    const letters = alphabet(abc);
    return {
        encode(bytes) {
            abytes(bytes);
            if (bytes.length > BASE_N_MAX_BYTES)
                throw new Error('invalid length');
            return letters.encode(radix.encode(bytes));
        },
        decode(str) {
            astr('baseN.decode', str);
            if (str.length > BASE_N_MAX_CHARS)
                throw new Error('invalid length');
            return radix.decode(letters.decode(str));
        },
    };
};
const radix58 = /* @__PURE__ */ (/* unused pure expression or super */ null && (radixBaseN(58, B58_GROUP)));
/**
 * base36: lowercase alphanumeric, big-endian positional (multibase `k` payload,
 * used by e.g. IPNS/CID addresses). Leading zero bytes map to leading `0` digits.
 * Quadratic (O(n^2)) - so, can't be used on large inputs.
 * @example
 * ```js
 * const text = base36.encode(Uint8Array.from([0, 1, 2]));
 * base36.decode(text);
 * // => Uint8Array.from([0, 1, 2])
 * ```
 */
const base36 = /* @__PURE__ */ (/* unused pure expression or super */ null && (freeze(() => genBaseN(radixBaseN(36, B36_GROUP), '0123456789abcdefghijklmnopqrstuvwxyz'))));
const genBase58 = (abc) => genBaseN(radix58, abc);
/**
 * base58: base64 without ambigous characters +, /, 0, O, I, l.
 * Quadratic (O(n^2)) - so, can't be used on large inputs.
 * @example
 * ```js
 * const text = base58.encode(Uint8Array.from([0, 1, 2]));
 * base58.decode(text);
 * // => Uint8Array.from([0, 1, 2])
 * ```
 */
const base58 = /* @__PURE__ */ (/* unused pure expression or super */ null && (freeze(() => genBase58('123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'))));
/**
 * base58: flickr version. Check out `base58`.
 * @example
 * Round-trip bytes with the Flickr alphabet.
 * ```ts
 * const text = base58flickr.encode(Uint8Array.from([0, 1, 2]));
 * base58flickr.decode(text);
 * ```
 */
const base58flickr = /* @__PURE__ */ (/* unused pure expression or super */ null && (freeze(() => genBase58('123456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ'))));
/**
 * base58: XRP version. Check out `base58`.
 * @example
 * Round-trip bytes with the XRP alphabet.
 * ```ts
 * const text = base58xrp.encode(Uint8Array.from([0, 1, 2]));
 * base58xrp.decode(text);
 * ```
 */
const base58xrp = /* @__PURE__ */ (/* unused pure expression or super */ null && (freeze(() => genBase58('rpshnaf39wBUDNEGHJKLM4PQRST7VWXYZ2bcdeCg65jkm8oFqi1tuvAxyz'))));
// Data len (index) -> encoded block len.
// Monero pads each 1..8-byte block to this fixed base58 width so decode can recover the tail length.
const XMR_BLOCK_LEN = (/* unused pure expression or super */ null && ([0, 2, 3, 5, 6, 7, 9, 10, 11]));
/**
 * base58: XMR version. Check out `base58`.
 * Done in 8-byte blocks (which equals 11 chars in decoding). Last (non-full) block padded with '1' to size in XMR_BLOCK_LEN.
 * Block encoding significantly reduces quadratic complexity of base58.
 * @example
 * Round-trip bytes with the Monero block codec.
 * ```ts
 * const text = base58xmr.encode(Uint8Array.from([0, 1, 2]));
 * base58xmr.decode(text);
 * ```
 */
const base58xmr = /* @__PURE__ */ (/* unused pure expression or super */ null && (freeze(() => ({
    encode(data) {
        abytes(data);
        let res = '';
        for (let i = 0; i < data.length; i += 8) {
            const block = data.subarray(i, i + 8);
            res += base58.encode(block).padStart(XMR_BLOCK_LEN[block.length], '1');
        }
        return res;
    },
    decode(str) {
        astr('base58xmr.decode', str);
        const strLen = str.length;
        // Only the last block may be short, and only to one of the XMR_BLOCK_LEN widths —
        // so the output length is known up front and blocks write into place. Growing a
        // number[] via concat per block was quadratic; this keeps decode linear like the
        // block encoding always intended.
        const tailChars = strLen % 11;
        const tailBytes = tailChars === 0 ? 0 : XMR_BLOCK_LEN.indexOf(tailChars);
        if (tailBytes === -1)
            throw new Error(`base58xmr: invalid block length ${tailChars}`);
        const res = new Uint8Array(Math.floor(strLen / 11) * 8 + tailBytes);
        let w = 0;
        for (let i = 0; i < strLen; i += 11) {
            const slice = str.slice(i, i + 11);
            const blockLen = slice.length === 11 ? 8 : tailBytes;
            const block = base58.decode(slice);
            for (let j = 0; j < block.length - blockLen; j++) {
                if (block[j] !== 0)
                    throw new Error('base58xmr: wrong padding');
            }
            for (let j = block.length - blockLen; j < block.length; j++)
                res[w++] = block[j];
        }
        return res;
    },
}))));
/**
 * Method, which creates base58check encoder.
 * Requires function, calculating sha256.
 * Callers must include any version bytes in `data`; this helper only applies the
 * 4-byte double-SHA256 checksum used by Bitcoin Base58Check.
 * @param sha256 - Function used to calculate the checksum hash.
 * @returns base58check codec using 4 checksum bytes.
 * @throws On wrong argument types. {@link TypeError}
 * @example
 * Create a base58check codec from a SHA-256 implementation.
 * ```ts
 * import { createBase58check } from '@scure/base';
 * import { sha256 } from '@noble/hashes/sha2.js';
 * const coder = createBase58check(sha256);
 * coder.encode(Uint8Array.from([1, 2, 3]));
 * ```
 */
const createBase58check = (sha256) => {
    // Validate the hash function at construction time so wrong inputs fail before returning a coder.
    afn(sha256);
    const _sha256 = sha256;
    return chain(checksum(4, (data) => _sha256(_sha256(data))), base58);
};
/**
 * Use `createBase58check` instead.
 * @deprecated Use {@link createBase58check} instead.
 * Callers must include any version bytes in `data`; this alias keeps the same
 * 4-byte double-SHA256 checksum behavior as `createBase58check`.
 * @param sha256 - Function used to calculate the checksum hash.
 * @returns base58check codec using 4 checksum bytes.
 * @example
 * Create a base58check codec with the deprecated alias.
 * ```ts
 * import { base58check } from '@scure/base';
 * import { sha256 } from '@noble/hashes/sha2.js';
 * const coder = base58check(sha256);
 * coder.encode(Uint8Array.from([1, 2, 3]));
 * ```
 */
const base58check = (/* unused pure expression or super */ null && (createBase58check));
// BIP 173 character table.
// Callers adapt the public number[] words API to Uint8Array at the edges (wordsToU8 below):
// feeding number[] into alphabet.encode would work at runtime, but it turns the shared
// hot loop polymorphic and measurably slows the RFC 4648 codecs using the same literal.
const BECH_ALPHABET = /* @__PURE__ */ alphabet('qpzry9x8gf2tvdw0s3jn54khce6mua7l');
const BECH_UPPERCASE_PRINTABLE = /^[\x21-\x60\x7b-\x7e]+$/;
function assertBech32Printable(label, value) {
    for (let i = 0; i < value.length; i++) {
        const c = value.charCodeAt(i);
        if (c < 33 || c > 126)
            throw new Error(`${label}: printable ASCII expected`);
    }
}
// Range-checks while packing: a plain copy would silently wrap out-of-range words
// (256 -> 0 would encode to a valid letter). Same message the old slow alphabet threw.
function wordsToU8(words) {
    const len = words.length;
    const res = new Uint8Array(len);
    for (let i = 0; i < len; i++) {
        const w = words[i];
        if (w < 0 || w >= 32)
            throw new Error(`alphabet.encode: invalid digit ${w}`);
        res[i] = w;
    }
    return res;
}
// BIP 173 `bech32_polymod` GEN coefficients.
const POLYMOD_GENERATORS = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
// BIP 173 step split: this applies the polymod state transition before callers xor in the next 5-bit value.
function bech32Polymod(pre) {
    const b = pre >> 25;
    let chk = (pre & 0x1ffffff) << 5;
    for (let i = 0; i < POLYMOD_GENERATORS.length; i++) {
        if (((b >> i) & 1) === 1)
            chk ^= POLYMOD_GENERATORS[i];
    }
    return chk;
}
function bechChecksum(prefix, words, encodingConst = 1) {
    const len = prefix.length;
    let chk = 1;
    for (let i = 0; i < len; i++) {
        const c = prefix.charCodeAt(i);
        if (c < 33 || c > 126)
            throw new Error(`Invalid prefix (${prefix})`);
        chk = bech32Polymod(chk) ^ (c >> 5);
    }
    chk = bech32Polymod(chk);
    for (let i = 0; i < len; i++)
        chk = bech32Polymod(chk) ^ (prefix.charCodeAt(i) & 0x1f);
    for (let v of words)
        chk = bech32Polymod(chk) ^ v;
    for (let i = 0; i < 6; i++)
        chk = bech32Polymod(chk);
    // BIP 173/BIP 350: xor the final checksum constant, then emit the 30-bit state as six 5-bit symbols.
    chk ^= encodingConst;
    const sum = new Uint8Array(6);
    for (let i = 0; i < 6; i++)
        sum[i] = (chk >>> (5 * (5 - i))) & 31;
    return BECH_ALPHABET.encode(sum);
}
function genBech32(encoding) {
    // BIP 173 uses final xor constant 1; BIP 350 swaps in 0x2bc830a3 for Bech32m.
    const ENCODING_CONST = encoding === 'bech32' ? 1 : 0x2bc830a3;
    // Public API words are number[], so adapt the fast radix2's Uint8Array protocol at the edge.
    const _words = radix2(5);
    const toWords = (from) => {
        abytes(from);
        // Dedicated 8->5 regrouping (radix2(5).encode semantics) writing the public number[]
        // directly; encode-into-Uint8Array plus a copy loop measurably regressed this hot path.
        const len = from.length;
        const res = new Array(Math.ceil((len * 8) / 5));
        let carry = 0;
        let pos = 0;
        let j = 0;
        for (let i = 0; i < len; i++) {
            // No carry cleanup needed: stale bits sit above pos and every extraction (including
            // the tail below) masks with `& 31`, so they never reach the output. Masking carry
            // here measurably slowed the loop.
            carry = (carry << 8) | from[i];
            pos += 8;
            for (; pos >= 5; pos -= 5)
                res[j++] = (carry >> (pos - 5)) & 31;
        }
        if (pos > 0)
            res[j] = (carry << (5 - pos)) & 31;
        return res;
    };
    const fromWords = (to) => {
        anumArr('radix2.decode', to);
        // Range-check while packing into the byte buffer: a plain copy would silently
        // truncate out-of-range words. Rejecting negatives is a deliberate fix — the old
        // convertRadix2 path silently corrupted output for them.
        const len = to.length;
        const digits = new Uint8Array(len);
        for (let i = 0; i < len; i++) {
            const w = to[i];
            if (w < 0 || w >= 32)
                throw new Error(`convertRadix2: invalid word=${w}`);
            digits[i] = w;
        }
        return _words.decode(digits);
    };
    const fromWordsUnsafe = unsafeWrapper(fromWords);
    function encode(prefix, words, limit = 90) {
        astr('bech32.encode prefix', prefix);
        if (limit !== false)
            anumber(limit, 'limit');
        if (isBytes(words))
            words = u8ToNumArr(words);
        anumArr('bech32.encode', words);
        const plen = prefix.length;
        if (plen === 0)
            throw new TypeError(`Invalid prefix length ${plen}`);
        // Total output is hrp + `1` separator + payload words + 6 checksum chars.
        const actualLength = plen + 7 + words.length;
        if (limit !== false && actualLength > limit)
            throw new TypeError(`Length ${actualLength} exceeds limit ${limit}`);
        assertBech32Printable('bech32.encode prefix', prefix);
        const lowered = prefix.toLowerCase();
        const sum = bechChecksum(lowered, words, ENCODING_CONST);
        return `${lowered}1${BECH_ALPHABET.encode(wordsToU8(words))}${sum}`;
    }
    function decode(str, limit = 90) {
        astr('bech32.decode input', str);
        if (limit !== false)
            anumber(limit, 'limit');
        const slen = str.length;
        // Minimum length is 1-char hrp + `1` separator + 6-char checksum.
        if (slen < 8 || (limit !== false && slen > limit))
            throw new TypeError(`invalid string length ${slen}, expected (8..${limit})`);
        // don't allow mixed case
        const lowered = str.toLowerCase();
        if (str !== lowered) {
            // Case folding is the only way a non-ASCII input can become valid: unchanged
            // characters are rejected by the prefix and alphabet checks below.
            if (!BECH_UPPERCASE_PRINTABLE.test(str)) {
                assertBech32Printable('bech32.decode input', str);
                throw new Error(`mixed-case string not allowed`);
            }
        }
        const sepIndex = lowered.lastIndexOf('1');
        if (sepIndex === 0 || sepIndex === -1)
            throw new Error(`invalid separator "1"`);
        const prefix = lowered.slice(0, sepIndex);
        const data = lowered.slice(sepIndex + 1);
        if (data.length < 6)
            throw new Error('invalid data length');
        const digits = BECH_ALPHABET.decode(data);
        const words = u8ToNumArr(digits, digits.length - 6);
        const sum = bechChecksum(prefix, words, ENCODING_CONST);
        if (!data.endsWith(sum))
            throw new Error(`Invalid checksum in ${str}`);
        return { prefix, words };
    }
    const decodeUnsafe = unsafeWrapper(decode);
    function decodeToBytes(str, limit = 90) {
        const { prefix, words } = decode(str, limit);
        return {
            prefix,
            words,
            bytes: fromWords(words),
        };
    }
    function encodeFromBytes(prefix, bytes) {
        // Keep the convenience wrapper on encode()'s default 90-char cap; custom limits should call encode(prefix, toWords(bytes), limit).
        return encode(prefix, toWords(bytes));
    }
    return {
        encode,
        decode,
        encodeFromBytes,
        decodeToBytes,
        decodeUnsafe,
        fromWords,
        fromWordsUnsafe,
        toWords,
    };
}
/**
 * bech32 from BIP 173. Operates on words.
 * For high-level helpers, check out {@link https://github.com/paulmillr/scure-btc-signer | scure-btc-signer}.
 * @example
 * Convert bytes to words, encode them, then decode back.
 * ```ts
 * const words = bech32.toWords(Uint8Array.from([1, 2, 3]));
 * const text = bech32.encode('bc', words);
 * bech32.decode(text);
 * ```
 */
const bech32 = /* @__PURE__ */ freeze(() => genBech32('bech32'));
/**
 * bech32m from BIP 350. Operates on words.
 * It was to mitigate `bech32` weaknesses.
 * For high-level helpers, check out {@link https://github.com/paulmillr/scure-btc-signer | scure-btc-signer}.
 * @example
 * Convert bytes to words, encode them with bech32m, then decode back.
 * ```ts
 * const words = bech32m.toWords(Uint8Array.from([1, 2, 3]));
 * const text = bech32m.encode('bc', words);
 * bech32m.decode(text);
 * ```
 */
const bech32m = /* @__PURE__ */ (/* unused pure expression or super */ null && (freeze(() => genBech32('bech32m'))));
/**
 * ASCII-to-byte decoder. Rejects non-ASCII text and bytes instead of doing UTF-8 replacement.
 * Method names follow `BytesCoder`, so `encode(bytes)` returns a string and `decode(string)` returns bytes.
 * @example
 * ```js
 * const b = ascii.decode("ABC"); // => new Uint8Array([ 65, 66, 67 ])
 * const str = ascii.encode(b); // "ABC"
 * ```
 */
const ascii = /* @__PURE__ */ (/* unused pure expression or super */ null && (freeze(() => ({
    encode(data) {
        abytes(data);
        for (let i = 0; i < data.length; i++) {
            const byte = data[i];
            // ASCII is 7-bit; reject bytes outside 0x00..0x7f instead of silently widening to
            // Latin-1/UTF-8. Validating up front keeps the error position exact while the
            // string itself is built in bulk (~3x faster at 1KB than per-char concat).
            if (byte > 127)
                throw new RangeError(`non-ASCII byte ${byte} at ${i}`);
        }
        return charcodesToString(data);
    },
    decode(str) {
        if (typeof str !== 'string')
            throw new TypeError('ascii string expected, got ' + typeof str);
        const res = new Uint8Array(str.length);
        for (let i = 0; i < str.length; i++) {
            // Indexed access is much faster than Uint8Array.from(str, mapFn) here and keeps
            // exact error positions.
            const charCode = str.charCodeAt(i);
            if (charCode > 127)
                throw new RangeError(`non-ASCII char "${str[i]}" (${charCode}) at ${i}`);
            res[i] = charCode;
        }
        return res;
    },
}))));
const _isWellFormedShim = (str) => {
    // encodeURI rejects malformed UTF-16, giving a compact fallback that matches native
    // isWellFormed on our tests/fuzz corpus.
    try {
        return encodeURI(str) !== null;
    }
    catch {
        return false;
    }
};
const _isWellFormed = /* @__PURE__ */ (/* unused pure expression or super */ null && ((() => 
// Pick the native check once so utf8.decode doesn't re-probe String.prototype on every call.
typeof ''.isWellFormed === 'function'
    ? (str) => str.isWellFormed()
    : _isWellFormedShim)()));
// This fallback stays small because strict UTF-8 only needs fatal decoding plus well-formed
// UTF-16 checks, not the replacement, streaming, or legacy-encoding behavior of full platform
// text codecs.
const utf8err = (i) => new TypeError(`invalid utf8 at byte ${i}`);
const utf8Fallback = /* @__PURE__ */ (/* unused pure expression or super */ null && (freeze(() => ({
    encode(data) {
        abytes(data);
        let res = '';
        for (let i = 0; i < data.length;) {
            const a = data[i++];
            if (a < 0b1000_0000) {
                res += String.fromCharCode(a);
                continue;
            }
            if (a < 0b1100_0010 || i >= data.length)
                throw utf8err(i - 1);
            const b = data[i++];
            if ((b & 0b1100_0000) !== 0b1000_0000)
                throw utf8err(i - 1);
            let cp = ((a & 0b0001_1111) << 6) | (b & 0b0011_1111);
            if (a >= 0b1110_0000) {
                if (i >= data.length)
                    throw utf8err(i - 1);
                const c = data[i++];
                if ((c & 0b1100_0000) !== 0b1000_0000 ||
                    (a === 0b1110_0000 && b < 0b1010_0000) ||
                    (a === 0xed && b >= 0b1010_0000))
                    throw utf8err(i - 1);
                cp = ((a & 0b0000_1111) << 12) | ((b & 0b0011_1111) << 6) | (c & 0b0011_1111);
                if (a >= 0b1111_0000) {
                    if (i >= data.length)
                        throw utf8err(i - 1);
                    const d = data[i++];
                    if (a > 0b1111_0100 ||
                        (d & 0b1100_0000) !== 0b1000_0000 ||
                        (a === 0b1111_0000 && b < 0b1001_0000) ||
                        (a === 0b1111_0100 && b >= 0b1001_0000))
                        throw utf8err(i - 1);
                    cp =
                        ((a & 7) << 18) |
                            ((b & 0b0011_1111) << 12) |
                            ((c & 0b0011_1111) << 6) |
                            (d & 0b0011_1111);
                }
            }
            if (cp < 0x10000)
                res += String.fromCharCode(cp);
            else {
                cp -= 0x10000;
                res += String.fromCharCode((cp >> 10) + 0xd800, (cp & 0x3ff) + 0xdc00);
            }
        }
        return res;
    },
    decode(str) {
        astr('utf8', str);
        if (!_isWellFormed(str))
            throw new TypeError('utf8 expected well-formed string');
        // Direct Uint8Array writes are much faster than number[] + Uint8Array.from on Hermes and
        // large Node inputs.
        const res = new Uint8Array(str.length * 3);
        let pos = 0;
        for (let i = 0; i < str.length; i++) {
            let c = str.charCodeAt(i);
            if (c < 0b1000_0000) {
                res[pos++] = c;
                continue;
            }
            if (c >= 0xd800 && c <= 0xdfff) {
                const d = str.charCodeAt(++i);
                c = 0x10000 + ((c - 0xd800) << 10) + d - 0xdc00;
            }
            if (c >= 0x10000) {
                res[pos++] = (c >> 18) | 0b1111_0000;
                res[pos++] = ((c >> 12) & 0b0011_1111) | 0b1000_0000;
            }
            else if (c >= 0x800)
                res[pos++] = (c >> 12) | 0b1110_0000;
            else
                res[pos++] = (c >> 6) | 0b1100_0000;
            if (c >= 0x800)
                res[pos++] = ((c >> 6) & 0b0011_1111) | 0b1000_0000;
            res[pos++] = (c & 0b0011_1111) | 0b1000_0000;
        }
        return res.subarray(0, pos);
    },
}))));
/**
 * Strict UTF-8-to-byte decoder. Uses built-in TextDecoder / TextEncoder when available.
 * Method names follow `BytesCoder`, so `encode(bytes)` returns a string and
 * `decode(string)` returns bytes.
 * `encode(bytes)` requires Uint8Array input, preserves an explicit leading BOM, and
 *   throws on invalid UTF-8 bytes.
 * `decode(string)` requires a primitive string and throws on malformed UTF-16 strings with
 *   lone surrogates.
 * @example
 * ```js
 * const b = utf8.decode("hey"); // => new Uint8Array([ 104, 101, 121 ])
 * const str = utf8.encode(b); // "hey"
 * ```
 */
const utf8 = /* @__PURE__ */ (/* unused pure expression or super */ null && (freeze(() => {
    let _utf8Encoder;
    let _utf8Decoder;
    const utf8Builtin = {
        // ignoreBOM preserves an explicit leading U+FEFF;
        // fatal rejects invalid UTF-8 bytes instead of replacing them.
        encode(data) {
            abytes(data);
            return (_utf8Decoder || (_utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true, fatal: true }))).decode(data);
        },
        decode(str) {
            astr('utf8', str);
            if (!_isWellFormed(str))
                throw new TypeError('utf8 expected well-formed string');
            return (_utf8Encoder || (_utf8Encoder = new TextEncoder())).encode(str);
        },
    };
    return {
        // Select each direction once at module init, since
        // TextEncoder and TextDecoder can exist independently.
        encode: typeof TextDecoder === 'function' ? utf8Builtin.encode : utf8Fallback.encode,
        decode: typeof TextEncoder === 'function' ? utf8Builtin.decode : utf8Fallback.decode,
    };
})));
/** Lowercase hex with case-insensitive decoding. Pure JS version. */
const hexFallback = /* @__PURE__ */ (/* unused pure expression or super */ null && (freeze(() => chain(radix2(4), 
// Case-insensitive decode via table aliases instead of a toLowerCase pass.
alphabet('0123456789abcdef', { A: 'a', B: 'b', C: 'c', D: 'd', E: 'e', F: 'f' }), normalize((s) => {
    // astr first: same non-string message as the native path, and no `s.length`
    // access on null / undefined while building the error.
    astr('hex', s);
    if (s.length % 2 !== 0)
        throw new TypeError(`hex.decode: odd-length string (${s.length})`);
    return s;
})))));
// Keep internal parity probes behind a test-only export.
const __TESTS = /* @__PURE__ */ (/* unused pure expression or super */ null && (freeze(() => ({
    alphabet: alphabet,
    base64Fallback: base64Fallback,
    base64urlFallback: base64urlFallback,
    hexFallback: hexFallback,
    radix2: radix2,
    radix58: radix58,
    checksum: checksum,
    utf8Fallback: utf8Fallback,
    _isWellFormedShim: _isWellFormedShim,
}))));
// Built-in hex conversion https://caniuse.com/mdn-javascript_builtins_uint8array_fromhex
// prettier-ignore
const hasHexBuiltin = /* @__PURE__ */ (/* unused pure expression or super */ null && ((() => 
// Require both directions before enabling the native hex path so encode/decode stay symmetric.
typeof Uint8Array.from([]).toHex === 'function' &&
    typeof Uint8Array.fromHex === 'function')()));
// prettier-ignore
const hexBuiltin = {
    // Keep local type guards so the native path preserves library-level input errors.
    // Native toHex emits lowercase hex, matching the fallback alphabet and Node's hex strings.
    encode(data) { abytes(data); return data.toHex(); },
    // Native fromHex accepts either hex case and rejects odd-length / non-hex syntax.
    decode(s) { astr('hex', s); return Uint8Array.fromHex(s); },
};
/**
 * hex string decoder. Uses built-in function, when available.
 * Lowercase codec; unlike `base16`, this variant accepts either hex case and emits lowercase.
 * @example
 * ```js
 * const b = hex.decode("0102ff"); // => new Uint8Array([ 1, 2, 255 ])
 * const str = hex.encode(b); // "0102ff"
 * ```
 */
const hex = /* @__PURE__ */ (/* unused pure expression or super */ null && (freeze(() => hasHexBuiltin ? hexBuiltin : hexFallback)));

// EXTERNAL MODULE: ./src/errors.ts
var src_errors = __nccwpck_require__(3916);
;// CONCATENATED MODULE: ./src/archive/age/keys.ts
/**
 * age X25519 keys: recipients (`age1…`, public) and identities (`AGE-SECRET-KEY-1…`, secret),
 * bech32-encoded 32-byte values. Errors name the input and the entry's position but never
 * repeat its text, because a secret pasted into the wrong input must not reach a log.
 */



const RECIPIENT_PREFIX = 'age';
const IDENTITY_PREFIX = 'AGE-SECRET-KEY-';
// DER framing around a raw 32-byte X25519 key (RFC 8410), the portable way to hand raw keys to node:crypto.
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');
const KEYGEN_HINT = 'Generate a key pair with `age-keygen -o key.txt`; it prints the public key (age1…).';
/**
 * Decodes bech32 without the BIP-173 90-character limit (age keys have none) and without
 * throwing. Both spellings must be single-case; age fixes which case each kind of key uses.
 */
function decodeKey(text, prefix) {
    const decoded = bech32.decodeUnsafe(text, false);
    if (!decoded || decoded.prefix !== prefix.toLowerCase())
        return undefined;
    const bytes = bech32.fromWordsUnsafe(decoded.words);
    return bytes && bytes.length === 32 ? Buffer.from(bytes) : undefined;
}
function encodeKey(prefix, bytes) {
    return bech32.encode(prefix, bech32.toWords(bytes), false);
}
function x25519PrivateKey(raw) {
    return (0,external_node_crypto_.createPrivateKey)({ key: Buffer.concat([PKCS8_X25519, raw]), format: 'der', type: 'pkcs8' });
}
function rawPublicKey(key) {
    return key.export({ format: 'der', type: 'spki' }).subarray(SPKI_X25519.length);
}
/**
 * X25519 with a raw 32-byte peer key, or undefined for a low-order peer: OpenSSL refuses an
 * all-zero shared secret, which the age spec requires rejecting.
 */
function sharedSecret(privateKey, peer) {
    try {
        const publicKey = (0,external_node_crypto_.createPublicKey)({
            key: Buffer.concat([SPKI_X25519, peer]),
            format: 'der',
            type: 'spki',
        });
        return (0,external_node_crypto_.diffieHellman)({ privateKey, publicKey });
    }
    catch {
        return undefined;
    }
}
/** A fresh key pair whose public half (the "share") travels in the stanza. */
function ephemeralKey() {
    const { privateKey, publicKey } = (0,external_node_crypto_.generateKeyPairSync)('x25519');
    return { privateKey, share: rawPublicKey(publicKey) };
}
/** The 32-byte public key of a recipient string, or undefined when it is not one. */
function recipientBytes(recipient) {
    return recipient === recipient.toLowerCase() ? decodeKey(recipient, RECIPIENT_PREFIX) : undefined;
}
function identityKey(identity) {
    if (identity !== identity.toUpperCase())
        return undefined;
    const raw = decodeKey(identity, IDENTITY_PREFIX);
    if (!raw)
        return undefined;
    const privateKey = x25519PrivateKey(raw);
    return { privateKey, publicKey: rawPublicKey((0,external_node_crypto_.createPublicKey)(privateKey)) };
}
/** Checks keys handed to the streams directly; inputs get their friendlier errors from the parsers below. */
function x25519Recipients(recipients) {
    if (recipients.length === 0)
        throw new src_errors/* LifeboatError */.H3('key', 'No recipient given to encrypt to.', { hint: KEYGEN_HINT });
    return recipients.map((recipient, index) => {
        const bytes = recipientBytes(recipient);
        if (bytes)
            return bytes;
        throw new src_errors/* LifeboatError */.H3('key', `Recipient ${index + 1} is not an age public key (age1…).`, {
            hint: KEYGEN_HINT,
        });
    });
}
function x25519Identities(identities) {
    if (identities.length === 0)
        throw new src_errors/* LifeboatError */.H3('key', 'No identity given to decrypt with.', { hint: KEYGEN_HINT });
    return identities.map((text, index) => {
        const identity = identityKey(text.trim());
        if (identity)
            return identity;
        const message = `Identity ${index + 1} is not an age identity (AGE-SECRET-KEY-1…).`;
        throw new src_errors/* LifeboatError */.H3('key', message, { hint: KEYGEN_HINT });
    });
}
function generateIdentity() {
    const { privateKey, publicKey } = (0,external_node_crypto_.generateKeyPairSync)('x25519');
    const jwk = privateKey.export({ format: 'jwk' });
    const raw = Buffer.from(jwk.d ?? '', 'base64url');
    return {
        identity: encodeKey(IDENTITY_PREFIX, raw).toUpperCase(),
        recipient: encodeKey(RECIPIENT_PREFIX, rawPublicKey(publicKey)),
    };
}
function recipientOf(identity) {
    const key = identityKey(identity.trim());
    if (!key) {
        throw new src_errors/* LifeboatError */.H3('key', 'The value is not an age identity (expected AGE-SECRET-KEY-1…).', {
            hint: KEYGEN_HINT,
        });
    }
    return encodeKey(RECIPIENT_PREFIX, key.publicKey);
}
/** Says what a wrong entry looks like without quoting it. */
function describeRecipientMistake(entry) {
    if (/^age-secret-key-1/i.test(entry)) {
        return 'is a secret identity (AGE-SECRET-KEY-1…), not a public key; never share it — give its age1… public key instead';
    }
    if (/^ssh-|^ecdsa-/.test(entry))
        return 'is an SSH public key, which Lifeboat does not support';
    if (/^age1[a-z0-9]+1/.test(entry)) {
        return 'is a plugin or post-quantum age recipient, which Lifeboat does not support';
    }
    if (/^AGE1/.test(entry))
        return 'is upper-case; age public keys are written in lower case';
    if (/^age1/.test(entry))
        return 'starts like an age public key but is mistyped or truncated (checksum fails)';
    return 'is not an age public key';
}
function splitEntries(text) {
    return text.split(/[\s,]+/).filter((entry) => entry.length > 0);
}
/** Splits on commas, whitespace and newlines; every entry must be an X25519 recipient (age1…). */
function parseRecipients(text, inputName) {
    const entries = splitEntries(text);
    if (entries.length === 0) {
        throw new src_errors/* LifeboatError */.H3('key', `${inputName} is empty: give at least one age public key (age1…).`, {
            hint: KEYGEN_HINT,
        });
    }
    entries.forEach((entry, index) => {
        if (recipientBytes(entry))
            return;
        throw new src_errors/* LifeboatError */.H3('key', `Entry ${index + 1} of ${inputName} ${describeRecipientMistake(entry)}. ` +
            `${inputName} accepts age public keys (age1…), separated by commas, spaces or newlines.`, { hint: KEYGEN_HINT });
    });
    return [...new Set(entries)];
}
function describeIdentityMistake(entry) {
    if (/^age1/.test(entry)) {
        return 'is a public key (age1…); the identity is the AGE-SECRET-KEY-1… line of the key file';
    }
    if (/^age-secret-key-1/.test(entry))
        return 'is lower-case; age identities are written in upper case';
    if (/^-----BEGIN|^ssh-/.test(entry))
        return 'looks like an SSH key, which Lifeboat does not support';
    if (entry.startsWith('age-encryption.org/')) {
        return 'is an encrypted identity file, which Lifeboat cannot unlock; give the plain key file';
    }
    if (/^AGE-SECRET-KEY-1/.test(entry))
        return 'is mistyped or truncated (checksum fails)';
    if (/^AGE-PLUGIN-/.test(entry))
        return 'is an age plugin identity, which Lifeboat does not support';
    return 'is not an age identity';
}
/**
 * Reads identities from a key file's text (as `age-keygen` writes it): comment and blank lines
 * are skipped, every other entry must be an X25519 identity.
 */
function parseIdentities(text, inputName) {
    const identities = [];
    text.split(/\r?\n/).forEach((line, index) => {
        const trimmed = line.trim();
        if (trimmed === '' || trimmed.startsWith('#'))
            return;
        for (const entry of splitEntries(trimmed)) {
            if (!identityKey(entry)) {
                throw new src_errors/* LifeboatError */.H3('key', `Line ${index + 1} of ${inputName} ${describeIdentityMistake(entry)}. ` +
                    `${inputName} accepts age identities (AGE-SECRET-KEY-1…), one per line; '#' lines are ignored.`, { hint: KEYGEN_HINT });
            }
            identities.push(entry);
        }
    });
    if (identities.length === 0) {
        throw new src_errors/* LifeboatError */.H3('key', `${inputName} holds no age identity (AGE-SECRET-KEY-1…).`, {
            hint: 'Paste the whole key file written by `age-keygen`, or just its AGE-SECRET-KEY-1… line.',
        });
    }
    return [...new Set(identities)];
}

// EXTERNAL MODULE: external "node:stream"
var external_node_stream_ = __nccwpck_require__(7075);
;// CONCATENATED MODULE: ./src/archive/age/header.ts
/**
 * The age v1 header: a version line, one stanza per recipient (each wraps the 16-byte file
 * key), and an HMAC over all of it, so no stanza can be added, dropped or altered unnoticed.
 * Text layout and checks follow https://age-encryption.org/v1.
 */



const VERSION_LINE = 'age-encryption.org/v1';
const FILE_KEY_SIZE = 16;
// A header carries one short stanza per recipient; anything this large is not one.
const MAX_HEADER_SIZE = 1024 * 1024;
const MAC_SIZE = 32;
const LINE_WIDTH = 64;
function hkdf(ikm, salt, info) {
    return Buffer.from((0,external_node_crypto_.hkdfSync)('sha256', ikm, salt, info, 32));
}
function headerMac(fileKey, macInput) {
    return (0,external_node_crypto_.createHmac)('sha256', hkdf(fileKey, Buffer.alloc(0), 'header'))
        .update(macInput)
        .digest();
}
/** age uses unpadded standard base64. */
function encodeBase64(bytes) {
    return Buffer.from(bytes).toString('base64').replace(/=+$/, '');
}
/** Strict decoding: Node's own decoder skips junk and would accept many spellings of one value. */
function decodeBase64(text) {
    if (!/^[A-Za-z0-9+/]*$/.test(text) || text.length % 4 === 1)
        return undefined;
    const bytes = Buffer.from(text, 'base64');
    return encodeBase64(bytes) === text ? bytes : undefined;
}
function formatError(message) {
    return new src_errors/* LifeboatError */.H3('format', `Not a valid age archive: ${message}.`, {
        hint: 'The file is not an age-encrypted Lifeboat archive, or its header is damaged.',
    });
}
function formatStanza(stanza) {
    const encoded = encodeBase64(stanza.body);
    const lines = [];
    for (let at = 0; at < encoded.length; at += LINE_WIDTH)
        lines.push(encoded.slice(at, at + LINE_WIDTH));
    // The body ends with its first short line, so a full last line needs an empty one after it.
    if (encoded.length % LINE_WIDTH === 0)
        lines.push('');
    return `-> ${[stanza.type, ...stanza.args].join(' ')}\n${lines.join('\n')}\n`;
}
/** Serialises and MACs a header; the result ends with the newline before the payload. */
function formatHeader(stanzas, fileKey) {
    const macInput = Buffer.from(`${VERSION_LINE}\n${stanzas.map(formatStanza).join('')}---`, 'latin1');
    const mac = headerMac(fileKey, macInput);
    return Buffer.concat([macInput, Buffer.from(` ${encodeBase64(mac)}\n`, 'latin1')]);
}
/**
 * Where the header ends (the index just past the MAC line's newline), or -1 when `bytes`
 * does not hold all of it yet. Base64 bodies never contain `-`, so `\n--- ` only starts the MAC line.
 */
function findHeaderEnd(bytes) {
    const macLine = bytes.indexOf('\n--- ');
    if (macLine < 0)
        return -1;
    const end = bytes.indexOf('\n', macLine + 1);
    return end < 0 ? -1 : end + 1;
}
const ARG = /^[\x21-\x7e]+$/;
function parseStanza(lines, at) {
    const args = (lines[at] ?? '').slice(3).split(' ');
    if (!args.every((arg) => ARG.test(arg)))
        throw formatError(`malformed stanza on header line ${at + 1}`);
    const parts = [];
    for (let index = at + 1;; index++) {
        const line = lines[index];
        if (line === undefined || line.length > LINE_WIDTH || line.startsWith('-')) {
            throw formatError(`stanza on header line ${at + 1} has a malformed body`);
        }
        parts.push(line);
        if (line.length < LINE_WIDTH) {
            const body = decodeBase64(parts.join(''));
            if (!body)
                throw formatError(`stanza on header line ${at + 1} has a body that is not base64`);
            const [type = '', ...rest] = args;
            return { stanza: { type, args: rest, body }, next: index + 1 };
        }
    }
}
/** Parses a complete header (as located by `findHeaderEnd`). */
function parseHeader(header) {
    const text = header.toString('latin1');
    if (!/^[\x20-\x7e\n]*$/.test(text))
        throw formatError('the header holds non-text bytes');
    const lines = text.slice(0, -1).split('\n');
    if (lines[0] !== VERSION_LINE)
        throw formatError(`the first line is not "${VERSION_LINE}"`);
    const stanzas = [];
    let at = 1;
    while (at < lines.length - 1) {
        if (!(lines[at] ?? '').startsWith('-> '))
            throw formatError(`unexpected header line ${at + 1}`);
        const { stanza, next } = parseStanza(lines, at);
        stanzas.push(stanza);
        at = next;
    }
    const macLine = lines[at] ?? '';
    const mac = macLine.startsWith('--- ') ? decodeBase64(macLine.slice(4)) : undefined;
    if (at !== lines.length - 1 || !mac || mac.length !== MAC_SIZE) {
        throw formatError('the header does not end with a valid MAC line');
    }
    if (stanzas.length === 0)
        throw formatError('the header has no recipient stanza');
    const macInput = header.subarray(0, header.length - macLine.length - 1 + 3);
    return { stanzas, macInput, mac };
}
function verifyHeaderMac(header, fileKey) {
    return (0,external_node_crypto_.timingSafeEqual)(headerMac(fileKey, header.macInput), header.mac);
}
/** ChaCha20-Poly1305 with a 16-byte tag appended, as age uses it for stanzas and payload chunks. */
function seal(key, nonce, plaintext) {
    const cipher = (0,external_node_crypto_.createCipheriv)('chacha20-poly1305', key, nonce, { authTagLength: 16 });
    const head = cipher.update(plaintext);
    cipher.final();
    return Buffer.concat([head, cipher.getAuthTag()], plaintext.length + 16);
}
/** The plaintext, or undefined when the tag does not authenticate (nothing unauthenticated leaks). */
function header_open(key, nonce, sealed) {
    if (sealed.length < 16)
        return undefined;
    const decipher = (0,external_node_crypto_.createDecipheriv)('chacha20-poly1305', key, nonce, { authTagLength: 16 });
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    const plaintext = decipher.update(sealed.subarray(0, sealed.length - 16));
    try {
        decipher.final();
    }
    catch {
        return undefined;
    }
    return plaintext;
}
const ZERO_NONCE = Buffer.alloc(12);
const X25519_LABEL = 'age-encryption.org/v1/X25519';
const SCRYPT_LABEL = 'age-encryption.org/v1/scrypt';
/** The age CLI's work factor for new files. */
const SCRYPT_WORK_FACTOR = 18;
/** 2^22 already needs 4 GiB and seconds of CPU; larger factors are refused, not attempted. */
const MAX_SCRYPT_WORK_FACTOR = 22;
function wrapX25519(fileKey, recipient) {
    const { privateKey, share } = ephemeralKey();
    const shared = sharedSecret(privateKey, recipient);
    if (!shared)
        throw new src_errors/* LifeboatError */.H3('key', 'A recipient is not a usable X25519 public key.');
    const wrapKey = hkdf(shared, Buffer.concat([share, recipient]), X25519_LABEL);
    return { type: 'X25519', args: [encodeBase64(share)], body: seal(wrapKey, ZERO_NONCE, fileKey) };
}
function unwrapX25519(stanza, identity) {
    const share = stanza.args.length === 1 ? decodeBase64(stanza.args[0] ?? '') : undefined;
    if (!share || share.length !== 32 || stanza.body.length !== FILE_KEY_SIZE + 16) {
        throw formatError('an X25519 stanza is malformed');
    }
    const shared = sharedSecret(identity.privateKey, share);
    if (!shared)
        throw formatError('an X25519 stanza has an invalid ephemeral share');
    const wrapKey = hkdf(shared, Buffer.concat([share, identity.publicKey]), X25519_LABEL);
    return header_open(wrapKey, ZERO_NONCE, stanza.body);
}
function scryptKey(passphrase, salt, logN) {
    const N = 2 ** logN;
    // Node's default memory cap (32 MiB) stops at N = 2^15; age files use 2^18 and more.
    const options = { N, r: 8, p: 1, maxmem: 128 * N * 8 + 32 * 1024 * 1024 };
    const fullSalt = Buffer.concat([Buffer.from(SCRYPT_LABEL, 'latin1'), salt]);
    return new Promise((resolve, reject) => {
        (0,external_node_crypto_.scrypt)(Buffer.from(passphrase, 'utf8'), fullSalt, 32, options, (error, key) => {
            if (error)
                reject(new src_errors/* LifeboatError */.H3('crypto', `scrypt (work factor ${logN}) failed: ${error.message}`));
            else
                resolve(key);
        });
    });
}
async function unwrapScrypt(stanza, passphrase) {
    const [saltText = '', logNText = ''] = stanza.args;
    const salt = decodeBase64(saltText);
    const wellFormed = stanza.args.length === 2 && salt?.length === 16 && /^[1-9][0-9]*$/.test(logNText);
    if (!salt || !wellFormed || stanza.body.length !== FILE_KEY_SIZE + 16) {
        throw formatError('the passphrase (scrypt) stanza is malformed');
    }
    const logN = Number(logNText);
    if (logN > MAX_SCRYPT_WORK_FACTOR) {
        const message = `The archive's passphrase work factor is ${logN}; Lifeboat refuses factors above ${MAX_SCRYPT_WORK_FACTOR}.`;
        const hint = 'Each step doubles memory and time (22 needs 4 GiB); the age CLI writes 18.';
        throw new src_errors/* LifeboatError */.H3('unsupported', message, { hint });
    }
    return header_open(await scryptKey(passphrase, salt, logN), ZERO_NONCE, stanza.body);
}
function cryptoError(message, hint) {
    return new src_errors/* LifeboatError */.H3('crypto', message, { hint });
}
/** Validates the keys now (so a bad key fails before any data flows) and returns the header builder. */
function headerBuilder(keys) {
    if ('passphrase' in keys) {
        const { passphrase } = keys;
        if (passphrase.length === 0)
            throw new src_errors/* LifeboatError */.H3('key', 'The passphrase is empty.', { hint: 'Set a long random passphrase.' });
        return async (fileKey) => {
            const salt = (0,external_node_crypto_.randomBytes)(16);
            const wrapKey = await scryptKey(passphrase, salt, SCRYPT_WORK_FACTOR);
            const args = [encodeBase64(salt), String(SCRYPT_WORK_FACTOR)];
            return formatHeader([{ type: 'scrypt', args, body: seal(wrapKey, ZERO_NONCE, fileKey) }], fileKey);
        };
    }
    const recipients = x25519Recipients(keys.recipients);
    return async (fileKey) => formatHeader(recipients.map((to) => wrapX25519(fileKey, to)), fileKey);
}
async function unlockWithPassphrase(stanzas, passphrase) {
    const stanza = stanzas.find((candidate) => candidate.type === 'scrypt');
    if (!stanza) {
        const hint = 'Decrypt it with the identity (AGE-SECRET-KEY-1…) that matches its recipient.';
        throw cryptoError('The archive is encrypted to age public keys, not with a passphrase.', hint);
    }
    const fileKey = await unwrapScrypt(stanza, passphrase);
    if (!fileKey)
        throw cryptoError('Wrong passphrase: it does not unlock this archive.', 'Check the passphrase.');
    return fileKey;
}
function unlockWithIdentities(stanzas, identities) {
    if (stanzas.some((stanza) => stanza.type === 'scrypt')) {
        const hint = 'Decrypt it with the passphrase it was encrypted with.';
        throw cryptoError('The archive is passphrase-encrypted; an identity cannot open it.', hint);
    }
    const x25519 = stanzas.filter((stanza) => stanza.type === 'X25519');
    for (const stanza of x25519) {
        for (const identity of identities) {
            const fileKey = unwrapX25519(stanza, identity);
            if (fileKey)
                return fileKey;
        }
    }
    throw cryptoError(`No identity matches: none of the ${identities.length} given identities is among the archive's ` +
        `${x25519.length} X25519 recipients.`, 'Use the identity whose public key the backup was encrypted to; `age-keygen -y key.txt` prints it.');
}
/** Validates the keys now and returns the function that recovers (and MAC-checks) a header's file key. */
function headerUnlocker(keys) {
    const identities = 'identities' in keys ? x25519Identities(keys.identities) : [];
    return async (header) => {
        const { stanzas } = header;
        if (stanzas.length > 1 && stanzas.some((stanza) => stanza.type === 'scrypt')) {
            throw formatError('a scrypt stanza must be the only one');
        }
        const fileKey = 'passphrase' in keys
            ? await unlockWithPassphrase(stanzas, keys.passphrase)
            : unlockWithIdentities(stanzas, identities);
        if (fileKey.length !== FILE_KEY_SIZE || !verifyHeaderMac(header, fileKey)) {
            throw new src_errors/* LifeboatError */.H3('integrity', 'The archive header was altered: its MAC does not match.', {
                hint: 'The archive is damaged or was tampered with; use another backup.',
            });
        }
        return fileKey;
    };
}

;// CONCATENATED MODULE: ./src/archive/age/stream.ts
/**
 * The age payload as Node Transform streams: a 16-byte nonce, then the plaintext in 64 KiB
 * chunks, each sealed with ChaCha20-Poly1305 under a 12-byte nonce (11-byte big-endian
 * counter + a flag byte set only on the final chunk), so reordering, truncation and
 * appended data all fail authentication.
 *
 * We implement the format on node:crypto instead of using the `age-encryption` package because
 * that pure-JavaScript implementation runs at under 100 MB/s, too slow for multi-GB backups,
 * while OpenSSL's native cipher is many times faster. The format is small, and the tests check
 * it against both reference implementations (the age CLI and `age-encryption`) in both directions.
 */




const CHUNK_SIZE = 64 * 1024;
const TAG_SIZE = 16;
const SEALED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE;
const NONCE_SIZE = 16;
const MAGIC = Buffer.from(`${VERSION_LINE}\n`, 'latin1');
const ARMOR_LINE = '-----BEGIN AGE ENCRYPTED FILE-----';
const EMPTY = Buffer.alloc(0);
function chunkNonce(counter, last) {
    const nonce = Buffer.alloc(12);
    // 48 bits of the 88-bit counter are plenty: 2^48 chunks of 64 KiB is 16 EiB.
    nonce.writeUIntBE(counter, 5, 6);
    nonce[11] = last ? 1 : 0;
    return nonce;
}
function payloadKey(fileKey, nonce) {
    return hkdf(fileKey, nonce, 'payload');
}
/**
 * Feeds `chunk` through a one-chunk staging buffer and hands every complete chunk to `emit`.
 * A full chunk is held back until more bytes arrive, because only the end of the input tells
 * whether it is the final one. Whole chunks inside large writes are passed on without a copy.
 */
function rechunk(state, chunk, emit) {
    const size = state.staging.length;
    let at = 0;
    while (at < chunk.length) {
        if (state.filled === size) {
            emit(state.staging);
            state.filled = 0;
        }
        if (state.filled === 0 && chunk.length - at > size) {
            emit(chunk.subarray(at, at + size));
            at += size;
            continue;
        }
        const copied = chunk.copy(state.staging, state.filled, at, Math.min(chunk.length, at + size - state.filled));
        state.filled += copied;
        at += copied;
    }
}
class EncryptStream extends external_node_stream_.Transform {
    buildHeader;
    state = { staging: Buffer.allocUnsafe(CHUNK_SIZE), filled: 0 };
    counter = 0;
    key = EMPTY;
    constructor(buildHeader) {
        super();
        this.buildHeader = buildHeader;
    }
    _construct(callback) {
        const fileKey = (0,external_node_crypto_.randomBytes)(FILE_KEY_SIZE);
        const nonce = (0,external_node_crypto_.randomBytes)(NONCE_SIZE);
        this.buildHeader(fileKey).then((header) => {
            this.key = payloadKey(fileKey, nonce);
            this.push(Buffer.concat([header, nonce]));
            callback();
        }, callback);
    }
    _transform(chunk, _encoding, callback) {
        rechunk(this.state, chunk, (piece) => this.sealChunk(piece, false));
        callback();
    }
    _flush(callback) {
        // An empty input still gets one (empty) final chunk, as age writes it.
        this.sealChunk(this.state.staging.subarray(0, this.state.filled), true);
        callback();
    }
    sealChunk(plaintext, last) {
        this.push(seal(this.key, chunkNonce(this.counter++, last), plaintext));
    }
}
function integrityError(message) {
    return new src_errors/* LifeboatError */.H3('integrity', message, {
        hint: 'The archive is incomplete or damaged; check the store, or use another backup.',
    });
}
function stream_formatError(message, hint = 'Give an archive written by Lifeboat or by `age`.') {
    return new src_errors/* LifeboatError */.H3('format', message, { hint });
}
function checkMagic(bytes) {
    const length = Math.min(bytes.length, MAGIC.length);
    if (bytes.subarray(0, length).equals(MAGIC.subarray(0, length)))
        return;
    const start = bytes.toString('latin1', 0, 64);
    if (start.startsWith(ARMOR_LINE)) {
        throw stream_formatError('The input is an ASCII-armored age file; Lifeboat reads only binary age files.', 'Decrypt it with `age -d`, which reads both.');
    }
    if (start.startsWith('age-encryption.org/'))
        throw stream_formatError('The input uses an unsupported age format version.');
    throw stream_formatError(`The input is not an age-encrypted file: it does not start with "${VERSION_LINE}".`);
}
/** Where chunk `index` starts in the plaintext, for messages. */
function describeChunk(index) {
    return `chunk ${index + 1} (plaintext offset ${index * CHUNK_SIZE})`;
}
class DecryptStream extends external_node_stream_.Transform {
    unlock;
    state = { staging: Buffer.allocUnsafe(SEALED_CHUNK_SIZE), filled: 0 };
    counter = 0;
    /** Bytes read before the payload chunks: the header, then the payload nonce. */
    gathered = EMPTY;
    fileKey;
    key;
    constructor(unlock) {
        super();
        this.unlock = unlock;
    }
    _transform(chunk, _encoding, callback) {
        if (this.key) {
            try {
                this.payload(chunk);
            }
            catch (error) {
                return callback(error);
            }
            return callback();
        }
        this.start(chunk).then(() => callback(), callback);
    }
    async start(chunk) {
        this.gathered = this.gathered.length === 0 ? chunk : Buffer.concat([this.gathered, chunk]);
        if (!this.fileKey) {
            checkMagic(this.gathered);
            const end = findHeaderEnd(this.gathered);
            if (end < 0) {
                if (this.gathered.length > MAX_HEADER_SIZE)
                    throw stream_formatError('The age header is too long to be genuine.');
                return;
            }
            this.fileKey = await this.unlock(parseHeader(this.gathered.subarray(0, end)));
            this.gathered = this.gathered.subarray(end);
        }
        if (this.gathered.length < NONCE_SIZE)
            return;
        this.key = payloadKey(this.fileKey, this.gathered.subarray(0, NONCE_SIZE));
        const rest = this.gathered.subarray(NONCE_SIZE);
        this.gathered = EMPTY;
        this.payload(rest);
    }
    payload(chunk) {
        rechunk(this.state, chunk, (sealed) => this.openChunk(sealed, false));
    }
    _flush(callback) {
        try {
            this.finish();
        }
        catch (error) {
            return callback(error);
        }
        callback();
    }
    finish() {
        const { filled } = this.state;
        if (!this.fileKey) {
            if (this.gathered.length < MAGIC.length)
                throw stream_formatError('The input is empty or too short to be an age file.');
            throw integrityError('The archive ends inside its age header: it is truncated.');
        }
        if (!this.key)
            throw integrityError('The archive ends right after its header, before the payload: it is truncated.');
        // A chunk is only released once bytes follow it, so an empty staging buffer means no chunk at all.
        if (filled === 0) {
            throw integrityError('The archive ends right after its header: the payload has no chunks (truncated).');
        }
        if (filled < TAG_SIZE)
            throw integrityError(`The archive ends early, inside ${describeChunk(this.counter)}.`);
        this.openChunk(this.state.staging.subarray(0, filled), true);
    }
    openChunk(sealed, atEnd) {
        const key = this.key ?? EMPTY;
        const index = this.counter;
        const plaintext = header_open(key, chunkNonce(index, atEnd), sealed);
        if (!plaintext) {
            // Only to say precisely what went wrong: a chunk that opens with the other flag is intact.
            if (header_open(key, chunkNonce(index, !atEnd), sealed)) {
                throw atEnd
                    ? integrityError(`The archive ends early: it stops on a chunk boundary after ${describeChunk(index)}, ` +
                        'which is not the final chunk (truncated).')
                    : integrityError(`The archive has unexpected data after its final chunk, ${describeChunk(index)}.`);
            }
            throw integrityError(`Authentication failed for ${describeChunk(index)}: the archive was altered or is truncated.`);
        }
        // age never writes an empty final chunk after full ones; accepting one would allow two encodings.
        if (atEnd && plaintext.length === 0 && index > 0) {
            throw integrityError(`The archive's final chunk, ${describeChunk(index)}, is empty, which age never writes.`);
        }
        this.counter++;
        this.push(plaintext);
    }
}
/** Encrypts to age recipients or a passphrase (scrypt, work factor 18). Throws a `key` error at once for bad keys. */
function createEncryptStream(keys) {
    return new EncryptStream(headerBuilder(keys));
}
/** Decrypts and authenticates an age file; a failed check destroys the stream with a `LifeboatError`. */
function createDecryptStream(keys) {
    return new DecryptStream(headerUnlocker(keys));
}
async function runThrough(stream, data) {
    const parts = [];
    stream.end(data);
    for await (const part of stream)
        parts.push(part);
    return Buffer.concat(parts);
}
async function encryptBytes(data, keys) {
    return runThrough(createEncryptStream(keys), data);
}
async function decryptBytes(data, keys) {
    return runThrough(createDecryptStream(keys), data);
}

;// CONCATENATED MODULE: ./src/archive/age/index.ts



;// CONCATENATED MODULE: ./src/constants.ts
/** Every input, output and label name in one place (the contract with action.yml). */
const Inputs = {
    Mode: 'mode',
    DatabaseUrl: 'database-url',
    Store: 'store',
    Name: 'name',
    EncryptionRecipient: 'encryption-recipient',
    EncryptionIdentity: 'encryption-identity',
    EncryptionPassphrase: 'encryption-passphrase',
    PgBinDir: 'pg-bin-dir',
    Keep: 'keep',
    VerifyContent: 'verify-content',
    MaxAge: 'max-age',
    Require: 'require',
    MigrationsTable: 'migrations-table',
    MigrationsDir: 'migrations-dir',
    FailOnStale: 'fail-on-stale',
    GithubToken: 'github-token',
    TargetUrl: 'target-url',
    BackupId: 'backup-id',
    RtoTarget: 'rto-target',
    RpoTarget: 'rpo-target',
    VerifySql: 'verify-sql',
    Profile: 'profile',
    KeepDatabase: 'keep-database',
    Confirm: 'confirm',
    DryRun: 'dry-run',
    Tables: 'tables',
};
const Outputs = {
    BackupId: 'backup-id',
    Sha256: 'sha256',
    SizeBytes: 'size-bytes',
    Verified: 'verified',
    Fresh: 'fresh',
    AgeSeconds: 'age-seconds',
    Reason: 'reason',
    Status: 'status',
    RtoSeconds: 'rto-seconds',
    RpoSeconds: 'rpo-seconds',
    ReportPath: 'report-path',
    IssueUrl: 'issue-url',
    SafetyBackupId: 'safety-backup-id',
};
const Modes = ['backup', 'gate', 'drill', 'restore'];
const VerificationLevels = ['stored', 'readable', 'restored'];
const Profiles = ['auto', 'supabase', 'postgres'];
const Labels = {
    Drill: 'lifeboat-drill',
    DrillFailed: 'drill-failed',
};
/** Hidden markers that let Lifeboat find its own comments and issues again. */
const Markers = {
    GateComment: '<!-- lifeboat:gate -->',
    DrillData: 'lifeboat:drill-data',
};

;// CONCATENATED MODULE: ./src/duration.ts

const UNITS = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
/** Parses `90s`, `90m`, `6h`, `7d`, `2w` (or a combination like `1h30m`) into seconds. */
function parseDuration(text, inputName) {
    const trimmed = text.trim().toLowerCase();
    const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)\s*([smhdw])/g)];
    const consumed = parts.map((p) => p[0]).join('');
    if (parts.length === 0 || consumed.replace(/\s/g, '') !== trimmed.replace(/\s/g, '')) {
        throw new src_errors/* LifeboatError */.H3('input', `Input \`${inputName}\` is not a duration: "${text}".`, {
            hint: 'Use a number with a unit: `90m`, `6h`, `7d` (units s, m, h, d, w).',
        });
    }
    const seconds = parts.reduce((sum, p) => sum + Number(p[1]) * (UNITS[p[2]] ?? 0), 0);
    if (!(seconds > 0)) {
        throw new src_errors/* LifeboatError */.H3('input', `Input \`${inputName}\` must be longer than zero: "${text}".`, {
            hint: 'Use a positive duration such as `24h`.',
        });
    }
    return seconds;
}
/** `3725` → `1h 2m 5s`; short and readable for summaries. */
function formatDuration(totalSeconds) {
    const s = Math.max(0, Math.round(totalSeconds));
    if (s < 60)
        return `${s}s`;
    const d = Math.floor(s / 86400);
    const h = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60);
    const sec = s % 60;
    const parts = [d && `${d}d`, h && `${h}h`, m && `${m}m`, !d && sec && `${sec}s`].filter(Boolean);
    return parts.join(' ');
}
function formatBytes(bytes) {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
        value /= 1024;
        unit++;
    }
    return unit === 0 ? `${bytes} B` : `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}

;// CONCATENATED MODULE: ./node_modules/zod/v4/core/util.js

// functions
function assertEqual(val) {
    return val;
}
function assertNotEqual(val) {
    return val;
}
function toZod() {
    return (schema) => schema;
}
function assertIs(_arg) { }
function assertNever(_x) {
    throw new Error("Unexpected value in exhaustive check");
}
function assert(_) { }
function getEnumValues(entries) {
    const numericValues = Object.values(entries).filter((v) => typeof v === "number");
    const values = Object.entries(entries)
        .filter(([k, _]) => numericValues.indexOf(+k) === -1)
        .map(([_, v]) => v);
    return values;
}
function joinValues(array, separator = "|") {
    return array.map((val) => stringifyPrimitive(val)).join(separator);
}
function jsonStringifyReplacer(_, value) {
    if (typeof value === "bigint")
        return value.toString();
    return value;
}
// the accessor lives on a shared prototype: an own accessor makes every box a dictionary-mode object (~360 B and a slow load per read against ~100 B and an inlined getter here)
class Cached {
    constructor(getter) {
        this._getter = getter;
        this._value = undefined;
    }
    get value() {
        const getter = this._getter;
        if (getter !== undefined) {
            this._value = getter();
            this._getter = undefined;
        }
        return this._value;
    }
}
function cached(getter) {
    return new Cached(getter);
}
function nullish(input) {
    return input === null || input === undefined;
}
function cleanRegex(source) {
    const start = source.startsWith("^") ? 1 : 0;
    const end = source.endsWith("$") ? source.length - 1 : source.length;
    return source.slice(start, end);
}
function floatSafeRemainder(val, step) {
    const ratio = val / step;
    const roundedRatio = Math.round(ratio);
    // `val` and `step` each round to a double before the division rounds again, so a true decimal multiple's quotient can sit up to 1.5 of these scaled epsilons from the integer. A 1x tolerance therefore rejected 2.03 as a multiple of 0.07; 4x covers the worst case with margin.
    const tolerance = 4 * Number.EPSILON * Math.max(Math.abs(ratio), 1);
    if (Math.abs(ratio - roundedRatio) < tolerance)
        return 0;
    return ratio - roundedRatio;
}
const EVALUATING = /* @__PURE__*/ (/* unused pure expression or super */ null && (Symbol("evaluating")));
function defineLazy(object, key, getter) {
    let value = undefined;
    Object.defineProperty(object, key, {
        get() {
            if (value === EVALUATING) {
                // Circular reference detected, return undefined to break the cycle
                return undefined;
            }
            if (value === undefined) {
                value = EVALUATING;
                value = getter();
            }
            return value;
        },
        set(v) {
            Object.defineProperty(object, key, {
                value: v,
                // configurable: true,
            });
            // object[key] = v;
        },
        configurable: true,
    });
}
function objectClone(obj) {
    return Object.create(Object.getPrototypeOf(obj), Object.getOwnPropertyDescriptors(obj));
}
function util_assignProp(target, prop, value) {
    Object.defineProperty(target, prop, {
        value,
        writable: true,
        enumerable: true,
        configurable: true,
    });
}
/**
 * Whichever object a def's `shape` currently answers from: the one the caller passed until the first read, the frozen copy after it.
 *
 * Its keys and descriptors read without invoking anything, which is what lets a discriminated union check its discriminator, and the cycle walk read a shape, without resolving a getter that references the schema being constructed. A def that answers `shape` from an accessor of its own has none.
 */
function rawShape(def) {
    const desc = Object.getOwnPropertyDescriptor(def, "shape");
    return desc?.get ? desc.get.raw : desc?.value;
}
// where a builder reads its source's keys and descriptors, resolving only a shape a def answers for itself. A shape resolves by object spread, so only its enumerable keys are ever part of it.
function sourceShape(schema) {
    return rawShape(schema._zod.def) ?? schema._zod.def.shape;
}
// a key whose value is not settled yet, self-caching so every read after the first gets the same one
function deferProp(target, key, getter) {
    Object.defineProperty(target, key, {
        get() {
            const value = getter();
            util_assignProp(this, key, value);
            return value;
        },
        enumerable: true,
        configurable: true,
    });
}
// Writes a settled key. A plain assignment is much cheaper than `defineProperty` and produces the same descriptor, but it runs whatever setter already answers to the key — an accessor this shape deferred, or an inherited one, which `__proto__` has on every object and prototype pollution can add for any name.
function putProp(target, key, value) {
    if (key in target)
        util_assignProp(target, key, value);
    else
        target[key] = value;
}
/**
 * Copies `keys` of `source`'s shape onto `target`, each value passed through `wrap`.
 *
 * A key the source has resolved is copied through now, so the derived shape states it outright and nothing has to resolve it to learn what it holds. A key the source still defers stays deferred, and reads back through the source's own `shape`, so it resolves once and both shapes get that one schema.
 */
function mirrorShape(target, source, keys, wrap) {
    const raw = sourceShape(source);
    for (const key of keys) {
        const desc = Object.getOwnPropertyDescriptor(raw, key);
        if (!desc.enumerable)
            continue;
        if (desc.get) {
            deferProp(target, key, () => {
                const value = source._zod.def.shape[key];
                return wrap ? wrap(value, key) : value;
            });
        }
        else
            putProp(target, key, wrap ? wrap(desc.value, key) : desc.value);
    }
}
// same, for a plain shape a caller passed rather than a schema's
function mirrorProps(target, source) {
    for (const key of Reflect.ownKeys(source)) {
        const desc = Object.getOwnPropertyDescriptor(source, key);
        if (!desc.enumerable)
            continue;
        if (desc.get)
            deferProp(target, key, () => source[key]);
        else
            putProp(target, key, desc.value);
    }
}
function mergeDefs(...defs) {
    const mergedDescriptors = {};
    for (const def of defs) {
        const descriptors = Object.getOwnPropertyDescriptors(def);
        Object.assign(mergedDescriptors, descriptors);
    }
    return Object.defineProperties({}, mergedDescriptors);
}
function cloneDef(schema) {
    return mergeDefs(schema._zod.def);
}
function getElementAtPath(obj, path) {
    if (!path)
        return obj;
    return path.reduce((acc, key) => acc?.[key], obj);
}
function promiseAllObject(promisesObj) {
    const keys = Object.keys(promisesObj);
    const promises = keys.map((key) => promisesObj[key]);
    return Promise.all(promises).then((results) => {
        const resolvedObj = {};
        for (let i = 0; i < keys.length; i++) {
            resolvedObj[keys[i]] = results[i];
        }
        return resolvedObj;
    });
}
function randomString(length = 10) {
    const chars = "abcdefghijklmnopqrstuvwxyz";
    let str = "";
    for (let i = 0; i < length; i++) {
        str += chars[Math.floor(Math.random() * chars.length)];
    }
    return str;
}
function esc(str) {
    return JSON.stringify(str);
}
function slugify(input) {
    return input
        .toLowerCase()
        .trim()
        .replace(/[^\w\s-]/g, "")
        .replace(/[\s_-]+/g, "-")
        .replace(/^-+|-+$/g, "");
}
const captureStackTrace = ("captureStackTrace" in Error ? Error.captureStackTrace : (..._args) => { });
function util_isObject(data) {
    return typeof data === "object" && data !== null && !Array.isArray(data);
}
const util_allowsEval = /* @__PURE__*/ cached(() => {
    // Skip the probe under `jitless`: strict CSPs report the caught `new Function` as a `securitypolicyviolation` even though the throw is swallowed.
    if (globalConfig.jitless) {
        return false;
    }
    // @ts-ignore
    if (typeof navigator !== "undefined" && navigator?.userAgent?.includes("Cloudflare")) {
        return false;
    }
    try {
        const F = Function;
        new F("");
        return true;
    }
    catch (_) {
        return false;
    }
});
function isPlainObject(o) {
    if (util_isObject(o) === false)
        return false;
    // modified constructor
    const ctor = o.constructor;
    if (ctor === undefined)
        return true;
    if (typeof ctor !== "function")
        return true;
    // modified prototype
    const prot = ctor.prototype;
    if (util_isObject(prot) === false)
        return false;
    // ctor doesn't have static `isPrototypeOf`
    if (Object.prototype.hasOwnProperty.call(prot, "isPrototypeOf") === false) {
        return false;
    }
    return true;
}
function shallowClone(o) {
    if (isPlainObject(o))
        return { ...o };
    if (Array.isArray(o))
        return [...o];
    if (o instanceof Map)
        return new Map(o);
    if (o instanceof Set)
        return new Set(o);
    return o;
}
function numKeys(data) {
    let keyCount = 0;
    for (const key in data) {
        if (Object.prototype.hasOwnProperty.call(data, key)) {
            keyCount++;
        }
    }
    return keyCount;
}
const getParsedType = (data) => {
    const t = typeof data;
    switch (t) {
        case "undefined":
            return "undefined";
        case "string":
            return "string";
        case "number":
            return Number.isNaN(data) ? "nan" : "number";
        case "boolean":
            return "boolean";
        case "function":
            return "function";
        case "bigint":
            return "bigint";
        case "symbol":
            return "symbol";
        case "object":
            if (Array.isArray(data)) {
                return "array";
            }
            if (data === null) {
                return "null";
            }
            if (data.then && typeof data.then === "function" && data.catch && typeof data.catch === "function") {
                return "promise";
            }
            if (typeof Map !== "undefined" && data instanceof Map) {
                return "map";
            }
            if (typeof Set !== "undefined" && data instanceof Set) {
                return "set";
            }
            if (typeof Date !== "undefined" && data instanceof Date) {
                return "date";
            }
            // @ts-ignore
            if (typeof File !== "undefined" && data instanceof File) {
                return "file";
            }
            return "object";
        default:
            throw new Error(`Unknown data type: ${t}`);
    }
};
const propertyKeyTypes = /* @__PURE__*/ new Set(["string", "number", "symbol"]);
const primitiveTypes = /* @__PURE__*/ new Set([
    "string",
    "number",
    "bigint",
    "boolean",
    "symbol",
    "undefined",
]);
function escapeRegex(str) {
    return str.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
// zod-specific utils
function clone(inst, def, params) {
    const cl = new inst._zod.constr(def ?? inst._zod.def);
    if (!def || params?.parent)
        cl._zod.parent = inst;
    return cl;
}
function normalizeParams(_params) {
    const params = _params;
    if (!params)
        return {};
    if (typeof params === "string")
        return { error: () => params };
    if (params?.message !== undefined) {
        if (params?.error !== undefined)
            throw new Error("Cannot specify both `message` and `error` params");
        params.error = params.message;
    }
    delete params.message;
    if (typeof params.error === "string")
        return { ...params, error: () => params.error };
    return params;
}
function createTransparentProxy(getter) {
    let target;
    return new Proxy({}, {
        get(_, prop, receiver) {
            target ?? (target = getter());
            return Reflect.get(target, prop, receiver);
        },
        set(_, prop, value, receiver) {
            target ?? (target = getter());
            return Reflect.set(target, prop, value, receiver);
        },
        has(_, prop) {
            target ?? (target = getter());
            return Reflect.has(target, prop);
        },
        deleteProperty(_, prop) {
            target ?? (target = getter());
            return Reflect.deleteProperty(target, prop);
        },
        ownKeys(_) {
            target ?? (target = getter());
            return Reflect.ownKeys(target);
        },
        getOwnPropertyDescriptor(_, prop) {
            target ?? (target = getter());
            return Reflect.getOwnPropertyDescriptor(target, prop);
        },
        defineProperty(_, prop, descriptor) {
            target ?? (target = getter());
            return Reflect.defineProperty(target, prop, descriptor);
        },
    });
}
function stringifyPrimitive(value) {
    if (typeof value === "bigint")
        return value.toString() + "n";
    if (typeof value === "string")
        return `"${value}"`;
    return `${value}`;
}
function optionalKeys(shape) {
    return Object.keys(shape).filter((k) => {
        return shape[k]._zod.optin !== undefined && shape[k]._zod.optout === "optional";
    });
}
// Wrapped in a `@__PURE__` IIFE: esbuild never tree-shakes a top-level initializer that contains a member access on `Number`, so the bare object literal survived into every bundle.
const NUMBER_FORMAT_RANGES = /*@__PURE__*/ (() => ({
    safeint: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
    int32: [-2147483648, 2147483647],
    uint32: [0, 4294967295],
    float32: [-3.4028234663852886e38, 3.4028234663852886e38],
    float64: [-Number.MAX_VALUE, Number.MAX_VALUE],
}))();
const BIGINT_FORMAT_RANGES = {
    int64: [/* @__PURE__*/ BigInt("-9223372036854775808"), /* @__PURE__*/ BigInt("9223372036854775807")],
    uint64: [/* @__PURE__*/ BigInt(0), /* @__PURE__*/ BigInt("18446744073709551615")],
};
function pick(schema, mask) {
    const currDef = schema._zod.def;
    const checks = currDef.checks;
    const hasChecks = checks && checks.length > 0;
    if (hasChecks) {
        throw new Error(".pick() cannot be used on object schemas containing refinements");
    }
    const newShape = {};
    mirrorShape(newShape, schema, maskedKeys(schema, mask));
    return clone(schema, mergeDefs(currDef, { shape: newShape, checks: [] }));
}
// the mask keys that select something, checked against the source's shape without resolving it
function maskedKeys(schema, mask) {
    const raw = sourceShape(schema);
    const keys = [];
    // `for...in` skips symbols, so a symbol in the mask would select nothing
    for (const key of Reflect.ownKeys(mask)) {
        if (!Object.getOwnPropertyDescriptor(raw, key)?.enumerable) {
            throw new Error(`Unrecognized key: "${String(key)}"`);
        }
        if (mask[key])
            keys.push(key);
    }
    return keys;
}
function omit(schema, mask) {
    const currDef = schema._zod.def;
    const checks = currDef.checks;
    const hasChecks = checks && checks.length > 0;
    if (hasChecks) {
        throw new Error(".omit() cannot be used on object schemas containing refinements");
    }
    const omitted = new Set(maskedKeys(schema, mask));
    const newShape = {};
    mirrorShape(newShape, schema, Reflect.ownKeys(sourceShape(schema)).filter((key) => !omitted.has(key)));
    return clone(schema, mergeDefs(currDef, { shape: newShape, checks: [] }));
}
function extend(schema, shape) {
    if (!isPlainObject(shape)) {
        throw new Error("Invalid input to extend: expected a plain object");
    }
    const checks = schema._zod.def.checks;
    const hasChecks = checks && checks.length > 0;
    if (hasChecks) {
        // Only throw if new shape overlaps with existing shape. Use getOwnPropertyDescriptor to check key existence without accessing values
        const existingShape = sourceShape(schema);
        for (const key of Reflect.ownKeys(shape)) {
            if (Object.getOwnPropertyDescriptor(existingShape, key) !== undefined) {
                throw new Error("Cannot overwrite keys on object schemas containing refinements. Use `.safeExtend()` instead.");
            }
        }
    }
    return clone(schema, mergeDefs(schema._zod.def, { shape: extended(schema, shape) }));
}
// the source's keys, then the caller's overlaid on top
function extended(schema, shape) {
    const newShape = {};
    mirrorShape(newShape, schema, Reflect.ownKeys(sourceShape(schema)));
    mirrorProps(newShape, shape);
    return newShape;
}
function safeExtend(schema, shape) {
    if (!isPlainObject(shape)) {
        throw new Error("Invalid input to safeExtend: expected a plain object");
    }
    return clone(schema, mergeDefs(schema._zod.def, { shape: extended(schema, shape) }));
}
function merge(a, b) {
    if (!b?._zod?.def) {
        throw new Error("Invalid input to merge: expected an object schema. To merge a plain shape, use `.extend()`.");
    }
    if (a._zod.def.checks?.length) {
        throw new Error(".merge() cannot be used on object schemas containing refinements. Use .safeExtend() instead.");
    }
    const newShape = {};
    mirrorShape(newShape, a, Reflect.ownKeys(sourceShape(a)));
    mirrorShape(newShape, b, Reflect.ownKeys(sourceShape(b)));
    const def = mergeDefs(a._zod.def, {
        shape: newShape,
        get catchall() {
            return b._zod.def.catchall;
        },
        checks: b._zod.def.checks ?? [],
    });
    return clone(a, def);
}
function partial(Class, schema, mask, name = "partial") {
    const currDef = schema._zod.def;
    const checks = currDef.checks;
    const hasChecks = checks && checks.length > 0;
    if (hasChecks) {
        throw new Error(`.${name}() cannot be used on object schemas containing refinements`);
    }
    const selected = mask ? new Set(maskedKeys(schema, mask)) : undefined;
    const newShape = {};
    mirrorShape(newShape, schema, Reflect.ownKeys(sourceShape(schema)), Class &&
        ((value, key) => (selected && !selected.has(key) ? value : new Class({ type: "optional", innerType: value }))));
    return clone(schema, mergeDefs(schema._zod.def, { shape: newShape, checks: [] }));
}
function required(Class, schema, mask) {
    const selected = mask ? new Set(maskedKeys(schema, mask)) : undefined;
    const newShape = {};
    mirrorShape(newShape, schema, Reflect.ownKeys(sourceShape(schema)), (value, key) => 
    // overwrite with non-optional
    selected && !selected.has(key) ? value : new Class({ type: "nonoptional", innerType: value }));
    return clone(schema, mergeDefs(schema._zod.def, { shape: newShape }));
}
// invalid_type | too_big | too_small | invalid_format | not_multiple_of | unrecognized_keys | invalid_union | invalid_key | invalid_element | invalid_value | custom
function aborted(x, startIndex = 0) {
    if (x.aborted === true)
        return true;
    for (let i = startIndex; i < x.issues.length; i++) {
        if (x.issues[i]?.continue !== true) {
            return true;
        }
    }
    return false;
}
// Checks for explicit abort (continue === false), as opposed to implicit abort (continue === undefined). Used to respect `abort: true` in .refine() even for checks that have a `when` function.
function explicitlyAborted(x, startIndex = 0) {
    if (x.aborted === true)
        return true;
    for (let i = startIndex; i < x.issues.length; i++) {
        if (x.issues[i]?.continue === false) {
            return true;
        }
    }
    return false;
}
function prefixIssues(path, issues) {
    return issues.map((iss) => {
        var _a;
        (_a = iss).path ?? (_a.path = []);
        iss.path.unshift(path);
        return iss;
    });
}
function unwrapMessage(message) {
    return typeof message === "string" ? message : message?.message;
}
/* A check holds no link back to the schema it is attached to — the same check instance is shared by every clone of that schema — so the owner is stamped onto the issues a check just raised, at the only point where both are in scope. Runs on the failure path only; `start` is the issue count from before the check ran. */
/** The leading size checks of `defChecks` that set an upper bound, each paired with it. */
function sizeCaps(defChecks) {
    const caps = [];
    for (const ch of defChecks ?? []) {
        const d = ch._zod.def;
        // a later check may rewrite the value
        if (!/_(length|size)$|_equals$/.test(d.check))
            break;
        const max = d.maximum ?? d.length ?? d.size;
        if (max >= 0)
            caps.push([max, ch]);
    }
    return caps;
}
function attachSchema(issues, start, inst) {
    var _a;
    for (let i = start; i < issues.length; i++) {
        (_a = issues[i]).schema ?? (_a.schema = inst);
    }
}
function finalizeIssue(iss, ctx, config) {
    var _a;
    // A schema that raised an issue itself owns it outright, and outranks any stamp an enclosing check left in `attachSchema`. String formats and z.custom() are schema and check at once, so when they act as a check they defer to that stamp instead.
    const traits = iss.inst?._zod?.traits;
    if (traits?.has("$ZodType")) {
        if (traits.has("$ZodCheck"))
            (_a = iss).schema ?? (_a.schema = iss.inst);
        else
            iss.schema = iss.inst;
    }
    // Decreasing specificity, first map to return a message wins. `inst` is whatever raised the issue, so a check's own map outranks the owning schema's.
    const schemaError = iss.schema !== iss.inst ? iss.schema?._zod.def?.error : undefined;
    const message = iss.message
        ? iss.message
        : (unwrapMessage(iss.inst?._zod.def?.error?.(iss)) ??
            unwrapMessage(schemaError?.(iss)) ??
            unwrapMessage(ctx?.error?.(iss)) ??
            unwrapMessage(config.customError?.(iss)) ??
            unwrapMessage(config.localeError?.(iss)) ??
            "Invalid input");
    // an explicit own-key copy beats object rest with excluded keys, which v8 routes through a generic runtime call; Object.keys rather than for-in so an issue pushed with a prototype does not leak inherited keys, and an own __proto__ key is dropped rather than assigned through the setter
    const full = {};
    for (const k of Object.keys(iss)) {
        if (k === "inst" || k === "schema" || k === "continue" || k === "input" || k === "__proto__")
            continue;
        full[k] = iss[k];
    }
    full.path ?? (full.path = []);
    full.message = message;
    if (ctx?.reportInput) {
        full.input = iss.input;
    }
    return full;
}
function getSizableOrigin(input) {
    if (input instanceof Set)
        return "set";
    if (input instanceof Map)
        return "map";
    // @ts-ignore
    if (input instanceof File)
        return "file";
    return "unknown";
}
const highSurrogate = /[\uD800-\uDBFF]/;
// Code points in `str`: a surrogate pair counts once, a lone surrogate as itself. Hand-rolled because the string iterator allocates and runs ~250x slower on this path; the regex probe exits ~50x quicker for a string with no astral characters.
function codePointLength(str) {
    const units = str.length;
    if (!highSurrogate.test(str))
        return units;
    let count = units;
    for (let i = 0; i < units - 1; i++) {
        if ((str.charCodeAt(i) & 0xfc00) === 0xd800 && (str.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
            count--;
            i++;
        }
    }
    return count;
}
function getLengthableOrigin(input) {
    if (Array.isArray(input))
        return "array";
    if (typeof input === "string")
        return "string";
    return "unknown";
}
function parsedType(data) {
    const t = typeof data;
    switch (t) {
        case "number": {
            return Number.isNaN(data) ? "nan" : "number";
        }
        case "object": {
            if (data === null) {
                return "null";
            }
            if (Array.isArray(data)) {
                return "array";
            }
            const obj = data;
            if (obj && Object.getPrototypeOf(obj) !== Object.prototype && "constructor" in obj && obj.constructor) {
                return obj.constructor.name;
            }
        }
    }
    return t;
}
function util_issue(...args) {
    const [iss, input, inst] = args;
    if (typeof iss === "string") {
        return {
            message: iss,
            code: "custom",
            input,
            inst,
        };
    }
    return { ...iss };
}
function cleanEnum(obj) {
    return Object.entries(obj)
        .filter(([k, _]) => {
        // return true if NaN, meaning it's not a number, thus a string key
        return Number.isNaN(Number.parseInt(k, 10));
    })
        .map((el) => el[1]);
}
// Codec utility functions
function base64ToUint8Array(base64) {
    const binaryString = atob(base64);
    const bytes = new Uint8Array(binaryString.length);
    for (let i = 0; i < binaryString.length; i++) {
        bytes[i] = binaryString.charCodeAt(i);
    }
    return bytes;
}
function uint8ArrayToBase64(bytes) {
    let binaryString = "";
    for (let i = 0; i < bytes.length; i++) {
        binaryString += String.fromCharCode(bytes[i]);
    }
    return btoa(binaryString);
}
function base64urlToUint8Array(base64url) {
    const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    const padding = "=".repeat((4 - (base64.length % 4)) % 4);
    return base64ToUint8Array(base64 + padding);
}
function uint8ArrayToBase64url(bytes) {
    return uint8ArrayToBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=/g, "");
}
function hexToUint8Array(hex) {
    const cleanHex = hex.replace(/^0x/, "");
    if (cleanHex.length % 2 !== 0) {
        throw new Error("Invalid hex string length");
    }
    const bytes = new Uint8Array(cleanHex.length / 2);
    for (let i = 0; i < cleanHex.length; i += 2) {
        bytes[i / 2] = Number.parseInt(cleanHex.slice(i, i + 2), 16);
    }
    return bytes;
}
function uint8ArrayToHex(bytes) {
    return Array.from(bytes)
        .map((b) => b.toString(16).padStart(2, "0"))
        .join("");
}
// instanceof
class Class {
    constructor(..._args) { }
}
//////////    PROTOTYPE INSTALLERS     //////////
//
// Members live on the prototype and materialize per instance on first read, which keeps own-property count under the step where V8 stops using inline slots. Changing anything here means re-measuring runtime, memory and bundle size together — see "The three axes" in AGENTS.md.
/**
 * Installs a trait's members on its prototype. Each value builds that member for the instance on first read; the built value shadows the accessor as an own property, so a detached `const { parse } = schema` keeps working.
 *
 * Call this from a `proto` initializer, which runs once per prototype — never per instance.
 */
function members(proto, table) {
    for (const key in table) {
        const desc = Object.getOwnPropertyDescriptor(table, key);
        // a getter installs as written, so it stays live: `description` reads through to the registry on every access. not enumerable: an object literal's is, and a prototype member never was
        if (desc.get)
            Object.defineProperty(proto, key, { ...desc, enumerable: false });
        // a method materializes bound on first read, which is what keeps a detached member working: `const opt = schema.optional; opt()`
        else
            defineBound(proto, key, desc.value);
    }
}
/** Shadows a prototype member with an own value, so a getter that builds from the instance runs once. */
function own(inst, key, value, enumerable = true) {
    Object.defineProperty(inst, key, { configurable: true, writable: true, enumerable, value });
    return value;
}
/** Like {@link own}, for a member that was never an own data property and has to stay out of `Object.keys`. */
function hide(inst, key, value) {
    return own(inst, key, value, false);
}
/** Adds members a table derives from the instance: each builds on first read and shadows as own data, and assignment shadows the same way, as when these were own properties. */
function derived(computes, table) {
    for (const key in computes) {
        const compute = computes[key];
        // an object literal's accessor is configurable and enumerable, and `members` copies the descriptor as written
        Object.defineProperty(table, key, {
            configurable: true,
            enumerable: true,
            get() {
                return own(this, key, compute(this));
            },
            set(value) {
                own(this, key, value);
            },
        });
    }
    return table;
}
function defineBound(proto, key, fn) {
    Object.defineProperty(proto, key, {
        configurable: true,
        get() {
            // vitest's spyOn calls a prototype getter bare to find the function it wraps, so a nullish receiver answers the raw method
            return this == null ? fn : own(this, key, fn.bind(this));
        },
        set(value) {
            own(this, key, value);
        },
    });
}
/** Returns the prototype to install on, or `undefined` if this group is already installed on it. */
function claim(inst, sentinel) {
    const proto = Object.getPrototypeOf(inst);
    // Runs on every construction, so `in` rather than the costlier `hasOwnProperty.call`. Sentinels are keys the group itself defines.
    return sentinel in proto ? undefined : proto;
}
// The internals whose init chain is installing. A second call for the same one is a derived constructor overriding its base, so it must not construct another schema in between or the override is dropped.
let installing;
// Set while a getter is running, so a value that resolved through a recursion break is not memoized. One shared descriptor shadows the key for the duration, which costs no per-key allocation.
let broke = false;
const breaker = {
    configurable: true,
    get() {
        broke = true;
        return undefined;
    },
};
/**
 * Installs a lazily-derived internal on the `_zod` prototype of `inst`'s
 * constructor, computed from the internals object itself and cached there on
 * first read. One accessor per constructor rather than one per instance.
 */
function defineLazyInternal(inst, key, compute) {
    const proto = Object.getPrototypeOf(inst._zod);
    if (key in proto && installing !== inst._zod) {
        // A repeat construction: everything is installed already. Cleared here so the reference is not held past the first construction of every type.
        installing = undefined;
        return;
    }
    installing = inst._zod;
    Object.defineProperty(proto, key, {
        configurable: true,
        get() {
            // Shadowed before computing so a re-entrant read from a recursive schema resolves to undefined instead of running the getter again.
            Object.defineProperty(this, key, breaker);
            const outer = broke;
            broke = false;
            try {
                const value = compute(this);
                // A result that resolved through a recursion break is recomputed once the graph is complete; everything else memoizes, undefined included.
                if (broke)
                    delete this[key];
                else
                    Object.defineProperty(this, key, { configurable: true, writable: true, value });
                broke = broke || outer;
                return value;
            }
            catch (err) {
                // A compute that threw memoizes nothing, so a later read runs it again and fails the same way. The shadow goes with it, since leaving it installed would answer undefined for every later read.
                delete this[key];
                broke = broke || outer;
                throw err;
            }
        },
        set(value) {
            Object.defineProperty(this, key, { configurable: true, writable: true, value });
        },
    });
}
/**
 * Installs `key` on `inst`'s prototype, computed by `make` on first read and cached there as an own
 * data property. One accessor per constructor rather than one per instance, because an own accessor
 * puts every instance after the first into v8 dictionary mode. The key doubles as the sentinel.
 */
function installLazyProp(inst, key, make, enumerable) {
    const proto = claim(inst, key);
    if (!proto)
        return;
    Object.defineProperty(proto, key, {
        configurable: true,
        get() {
            // Shadowed before computing, so a re-entrant read from a self-referential shape resolves to undefined instead of running the getter again. A data property rather than an accessor: an own accessor is the dictionary-mode transition this exists to avoid.
            const desc = { configurable: true, writable: true, enumerable, value: undefined };
            Object.defineProperty(this, key, desc);
            // a compute that throws leaves the shadow behind, so later reads answer undefined instead of re-throwing; `defineLazy` did the same, and `defineLazyInternal`'s delete-on-catch would cost bytes in every bundle for a case only a throwing user getter reaches
            desc.value = make(this);
            Object.defineProperty(this, key, desc);
            return desc.value;
        },
        set(value) {
            Object.defineProperty(this, key, { configurable: true, writable: true, enumerable, value });
        },
    });
}
/** Marks the thunk `_catch` synthesises for a constant catch value. `Function.length` cannot tell that thunk from a user callback — rest and defaulted parameters both report arity 0 — and a user callback reads `ctx.error`, whose issues only finalize correctly against the caller's per-parse error map. Provenance can say what arity cannot. A plain string key rather than `Symbol.for`, whose call at module scope no bundler can prove pure — the same shape that anchored `urlCanParse` into every build. */
const CONSTANT_CATCH = "~constantCatch";
/** Wraps a constant catch value in a thunk tagged with {@link CONSTANT_CATCH}. */
function constantCatch(value) {
    const fn = () => value;
    fn[CONSTANT_CATCH] = true;
    return fn;
}

;// CONCATENATED MODULE: ./node_modules/zod/v4/core/core.js
var _a;

/** A special constant with type `never` */
const NEVER = /*@__PURE__*/ Object.freeze({
    status: "aborted",
});
/* Shared descriptor for installing `_zod`; defineProperty reads it
 * synchronously, so reusing one object avoids a per-instance allocation. */
const _zodDesc = { value: undefined, enumerable: false };
// null where suppressing the capture would be unrecoverable: `parse()` puts the frames back with `captureStackTrace`, so without it the throw would lose its stack. also latched to null once `stackTraceLimit` proves unassignable, which a realm can do at any point by hardening Error
let _E = "captureStackTrace" in Error ? Error : null;
// v8 captures a stack trace inside the Error constructor, which dominates a failed parse; costs only the frames, and parse() restores those. the constructor must RUN: Object.create is cheaper and passes instanceof, but Error.isError and util.types.isNativeError check an internal slot
function newError(Definition) {
    const E = _E;
    if (E) {
        const saved = E.stackTraceLimit;
        if (typeof saved === "number") {
            try {
                E.stackTraceLimit = 0;
            }
            catch {
                _E = null;
                return new Definition();
            }
            try {
                return new Definition();
            }
            finally {
                E.stackTraceLimit = saved;
            }
        }
    }
    return new Definition();
}
function $constructor(name, initializer, 
/** This trait's members, installed once on every prototype that composes it. They cannot be declared in the initializer above: that runs per instance, and the prototype is shared. */
proto, params) {
    // Prototype for this constructor's `_zod` internals. Lazily-derived fields (`values`, `pattern`, `optin`, …) install here once rather than as an accessor on every instance.
    const zodProto = {};
    // Assigning the fields in the constructor body is what gives instances in-object slots; building the object literally and reparenting it costs a second allocation and a generic property copy.
    function Internals(def) {
        this.def = def;
        this.constr = _;
        this.traits = new Set();
    }
    Internals.prototype = zodProto;
    const protoMembers = proto;
    // One trait's members land on every prototype whose chain composes it, so the answer is per prototype rather than per trait.
    const initialized = protoMembers && new WeakSet();
    function init(inst, def) {
        if (!inst._zod) {
            _zodDesc.value = new Internals(def);
            try {
                Object.defineProperty(inst, "_zod", _zodDesc);
            }
            finally {
                // Cleared even on throw, so the shared descriptor never leaks one instance's internals into the next.
                _zodDesc.value = undefined;
            }
        }
        else if (inst._zod.traits.has(name)) {
            return;
        }
        inst._zod.traits.add(name);
        initializer(inst, def);
        if (initialized) {
            // `super(def)` from a user subclass gives `this` a prototype the subclass owns, and installing there would overwrite whatever the subclass declared. `constr` built the instance, so its prototype is the one below the subclass's that should carry the members. A receiver whose chain never reaches that prototype installs on its own, which for a plain object handed straight to `init` means `Object.prototype` — unchanged from before.
            const own = Object.getPrototypeOf(inst);
            const ctorProto = inst._zod.constr.prototype;
            let up = own;
            while (up && up !== ctorProto)
                up = Object.getPrototypeOf(up);
            const target = up ?? own;
            if (!initialized.has(target)) {
                initialized.add(target);
                members(target, protoMembers);
            }
        }
        // support prototype modifications; for-in avoids the array allocation of Object.keys on the (usually empty) prototype
        const proto = _.prototype;
        for (const k in proto) {
            if (!Object.prototype.hasOwnProperty.call(proto, k))
                continue;
            if (!(k in inst)) {
                inst[k] = proto[k].bind(inst);
            }
        }
    }
    // doesn't work if Parent has a constructor with arguments
    const Parent = params?.Parent ?? Object;
    class Definition extends Parent {
    }
    Object.defineProperty(Definition, "name", { value: name });
    function _(def) {
        const inst = params?.Parent ? newError(Definition) : this;
        init(inst, def);
        const deferred = inst._zod.deferred;
        if (deferred) {
            for (const fn of deferred) {
                fn();
            }
            // Released: initializers run once, and the list would otherwise be retained for the schema's lifetime.
            inst._zod.deferred = undefined;
        }
        // Global post-processor hook. Internal: installed by `import "zod/compile"` to enable AOT compilation for every constructed schema. Runs last, once the instance is fully built, because it hands the instance to compile(). The post-processor is expected to be reentrancy-guarded by its own implementation.
        const pp = globalThis.__zod_globalConfig?.postProcessor;
        if (pp)
            pp(inst);
        return inst;
    }
    Object.defineProperty(_, "init", { value: init });
    Object.defineProperty(_, Symbol.hasInstance, {
        value: (inst) => {
            if (params?.Parent && inst instanceof params.Parent)
                return true;
            return inst?._zod?.traits?.has(name);
        },
    });
    Object.defineProperty(_, "name", { value: name });
    return _;
}
//////////////////////////////   UTILITIES   ///////////////////////////////////////
const $brand = /*@__PURE__*/ (/* unused pure expression or super */ null && (Symbol("zod_brand")));
class $ZodAsyncError extends Error {
    constructor() {
        super(`Encountered Promise during synchronous parse. Use .parseAsync() instead.`);
    }
}
class $ZodEncodeError extends Error {
    constructor(name) {
        super(`Encountered unidirectional transform during encode: ${name}`);
        this.name = "ZodEncodeError";
    }
}
(_a = globalThis).__zod_globalConfig ?? (_a.__zod_globalConfig = {});
const globalConfig = globalThis.__zod_globalConfig;
function config(newConfig) {
    if (newConfig)
        Object.assign(globalConfig, newConfig);
    return globalConfig;
}

;// CONCATENATED MODULE: ./node_modules/zod/v4/core/memoizer.js

class $ZodCyclicError extends Error {
    constructor() {
        super(`Cannot parse a reference cycle that closes through a transform`);
        this.name = "ZodCyclicError";
    }
}
/** Keyed off the context object every schema in one parse call already shares. */
const STATE = "~memo";
const NO_ISSUES = [];
// a value a cycle can close through
function isRef(value) {
    return value !== null && typeof value === "object";
}
// Receivers prefix paths in place, so the cache and every hand-out need their own copies.
function cloneIssues(issues) {
    return issues.map((iss) => (iss.path ? { ...iss, path: iss.path.slice() } : { ...iss }));
}
const recursive = /*@__PURE__*/ new WeakMap();
/** What the walk established, in order of certainty: ordered so the strongest answer among children wins. */
const NONE = 0;
const ASSUMED = 1;
const PROVEN = 2;
/** Whether this schema's subtree contains a cycle, so one parse can re-enter it. */
function isRecursive(inst, stack, resolve) {
    const cached = recursive.get(inst);
    if (cached !== undefined)
        return cached ? PROVEN : NONE;
    // Relative to the walk in progress, so not cached.
    if (stack.has(inst))
        return PROVEN;
    stack.add(inst);
    let result = NONE;
    const check = (child) => {
        if (result !== PROVEN && child?._zod) {
            const answer = isRecursive(child, stack, resolve);
            if (answer > result)
                result = answer;
        }
    };
    // `Reflect.ownKeys` rather than `Object.keys`, so a cycle through a declared symbol key is still seen
    const shape = (sh, spread) => {
        let answer = NONE;
        for (const key of Reflect.ownKeys(sh)) {
            const desc = Object.getOwnPropertyDescriptor(sh, key);
            // an object resolves its shape by spread, so a key it does not enumerate is never parsed; `z.properties` reads every own key and so keeps them all
            if (spread && !desc.enumerable)
                continue;
            // resolving runs user code, and a factory mints a fresh subtree per read, so an edge the walk can't follow counts as a cycle
            const child = desc.get ? ASSUMED : desc.value?._zod ? isRecursive(desc.value, stack, resolve) : NONE;
            if (child > answer)
                answer = child;
        }
        return answer;
    };
    const merge = (answer) => {
        if (answer > result)
            result = answer;
    };
    const def = inst._zod.def;
    const kind = def.type;
    switch (kind) {
        case "object": {
            const raw = rawShape(def);
            // a def with no raw shape answers `shape` from an accessor of its own, and running that can mint a whole fresh subtree
            merge(raw ? shape(raw, true) : ASSUMED);
            check(def.catchall);
            break;
        }
        case "array":
            check(def.element);
            break;
        case "tuple":
            for (const el of def.items)
                check(el);
            check(def.rest);
            break;
        case "record":
        case "map":
            check(def.keyType);
            check(def.valueType);
            break;
        case "set":
            check(def.valueType);
            break;
        case "union":
            for (const el of def.options)
                check(el);
            break;
        case "intersection":
            check(def.left);
            check(def.right);
            break;
        case "optional":
        case "nullable":
        case "default":
        case "prefault":
        case "catch":
        case "readonly":
        case "nonoptional":
        case "promise":
        case "success":
            check(def.innerType);
            break;
        case "pipe":
            check(def.in);
            check(def.out);
            break;
        case "function":
            check(def.input);
            check(def.output);
            break;
        // `$ZodLazy` caches its inner on the def, so a resolved edge is followed exactly
        case "lazy": {
            const inner = def._cachedInner ?? (resolve ? inst._zod.innerType : undefined);
            // walked with resolution off: one hop sees past the deferral, and a lazy that yields only another unresolved lazy is generative, so it stops there
            merge(inner ? isRecursive(inner, stack, false) : ASSUMED);
            break;
        }
        // a leaf by choice: `parts` are regex fragments, not data positions
        case "template_literal":
        // leaves
        case "string":
        case "number":
        case "int":
        case "boolean":
        case "bigint":
        case "symbol":
        case "undefined":
        case "null":
        case "void":
        case "never":
        case "any":
        case "unknown":
        case "date":
        case "nan":
        case "enum":
        case "literal":
        case "file":
        case "transform":
        case "custom":
            break;
        default: {
            // a new built-in kind becomes a compile error here
            kind;
            // a user-defined kind can still hold children, and only its author knows where, so fall back to scanning the def — skipping accessors, since reading one can run user code
            for (const key in def) {
                const desc = Object.getOwnPropertyDescriptor(def, key);
                if (!desc || desc.get)
                    continue;
                const value = desc.value;
                if (!value || typeof value !== "object")
                    continue;
                if (value._zod)
                    check(value);
                else if (Array.isArray(value))
                    for (const el of value)
                        check(el);
            }
        }
    }
    stack.delete(inst);
    return settle(inst, result);
}
/** An assumed answer must not outlive the resolution that settles it, so only a certain one is cached. */
function settle(inst, answer) {
    if (answer !== ASSUMED)
        recursive.set(inst, answer === PROVEN);
    return answer;
}
/**
 * Whether one parse can re-enter this schema, i.e. its subtree contains a cycle.
 * Exported for `z.compile`, which refuses to compile such a schema: cycle
 * breaking is driven from here off state keyed on the parse context, and a
 * generated fast path has no context to key on.
 */
function isRecursiveSchema(inst) {
    // z.compile never parses, so nothing would ever resolve a lazy for it; it runs once and already treats a throw here as recursive
    return isRecursive(inst, new Set(), true) !== NONE;
}
function bucketFor(state, inst) {
    let bucket = state.buckets.get(inst);
    if (!bucket) {
        bucket = new WeakMap();
        state.buckets.set(inst, bucket);
    }
    return bucket;
}
// Set immediately before delegating to core and cleared immediately after, so `alloc` registers only for a visit this module is driving.
let handoff;
// Allocated but unfinished entries. `alloc` and the matching pop both happen in the synchronous part of a parse, so they nest even when children are async, and one stack serves every schema.
const memoizer_open = [];
const memo = {
    alloc(_inst, payload, empty) {
        const bucket = handoff;
        if (!bucket)
            return empty;
        handoff = undefined;
        const entry = { value: empty, issues: null };
        bucket.set(payload.value, entry);
        memoizer_open.push(entry);
        return empty;
    },
    guard(inst) {
        var _a;
        (_a = inst._zod).deferred ?? (_a.deferred = []);
        inst._zod.deferred.push(() => {
            const base = inst._zod.parse;
            const wrapped = (payload, ctx) => {
                // The value is a placeholder a back-edge is still waiting on, so the cycle closes through this transform. Its output can't exist in time to bind.
                if (ctx.direction !== "backward" && isBackEdge(ctx, payload.value))
                    throw new $ZodCyclicError();
                return base(payload, ctx);
            };
            inst._zod.parse = wrapped;
            if (inst._zod.run === base)
                inst._zod.run = wrapped;
        });
    },
    attach(inst) {
        var _a;
        let isRecursiveInst;
        let rechecked = false;
        // a recursive schema is re-entered many times per parse and its bucket never changes
        let lastCtx;
        let lastBucket;
        // Wraps `parse` in a deferred so it sees the container's final parse. Core's own deferred copies `parse` into `run` when there are no checks, and it ran first, so `run` is patched to match; with checks, `run` reads `parse` dynamically.
        (_a = inst._zod).deferred ?? (_a.deferred = []);
        inst._zod.deferred.push(() => {
            const base = inst._zod.parse;
            const wrapped = (payload, ctx) => {
                if (isRecursiveInst === undefined) {
                    const walked = isRecursive(inst, new Set(), false);
                    if (walked === NONE) {
                        // Nothing here can ever fire, so take it back out.
                        inst._zod.parse = base;
                        if (inst._zod.run === wrapped)
                            inst._zod.run = base;
                        return base(payload, ctx);
                    }
                    // this parse resolves the deferred edges on its own path, so ask once more before latching
                    if (walked === PROVEN || rechecked)
                        isRecursiveInst = true;
                    else
                        rechecked = true;
                }
                const input = payload.value;
                if (!isRef(input))
                    return base(payload, ctx);
                let state = ctx[STATE];
                if (!state) {
                    state = { buckets: new WeakMap(), backEdges: undefined };
                    ctx[STATE] = state;
                }
                let bucket;
                if (lastCtx === ctx) {
                    bucket = lastBucket;
                }
                else {
                    bucket = bucketFor(state, inst);
                    lastCtx = ctx;
                    lastBucket = bucket;
                }
                const hit = bucket.get(input);
                if (hit) {
                    payload.value = hit.value;
                    if (hit.issues) {
                        if (hit.issues.length)
                            payload.issues.push(...cloneIssues(hit.issues));
                    }
                    else {
                        // Still being parsed: its own checks cover it, so skip them here.
                        payload.memo = true;
                        state.backEdges ?? (state.backEdges = new WeakSet());
                        state.backEdges.add(hit.value);
                    }
                    return payload;
                }
                handoff = bucket;
                const depth = memoizer_open.length;
                const result = base(payload, ctx);
                handoff = undefined;
                // A container that rejected its input outright allocated nothing.
                const entry = memoizer_open.length > depth ? memoizer_open.pop() : undefined;
                // Both paths written out so the sync one allocates no closure. It runs once per node, and capturing here cost more than everything else combined.
                if (result instanceof Promise) {
                    return result.then((r) => {
                        if (entry)
                            entry.issues = r.issues.length ? cloneIssues(r.issues) : NO_ISSUES;
                        return r;
                    });
                }
                if (entry)
                    entry.issues = result.issues.length ? cloneIssues(result.issues) : NO_ISSUES;
                return result;
            };
            inst._zod.parse = wrapped;
            if (inst._zod.run === base)
                inst._zod.run = wrapped;
        });
    },
};
/** The memoizer that gives containers cycle support. `zod` installs it by default; `zod/mini` opts in with `config({ memoizer: memoizer() })`. */
function memoizer() {
    return memo;
}
/** Whether this value is a node a back-edge resolved to before it finished. */
function isBackEdge(ctx, value) {
    const backEdges = ctx[STATE]?.backEdges;
    return backEdges !== undefined && isRef(value) && backEdges.has(value);
}

;// CONCATENATED MODULE: ./node_modules/zod/v4/core/regexes.js

/**
 * @deprecated CUID v1 is deprecated by its authors due to information leakage
 * (timestamps embedded in the id). Use {@link cuid2} instead.
 * See https://github.com/paralleldrive/cuid.
 */
const cuid = /^[cC][0-9a-z]{6,}$/;
const cuid2 = /^[0-9a-z]+$/;
const ulid = /^[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}$/;
const xid = /^[0-9a-vA-V]{20}$/;
const ksuid = /^[A-Za-z0-9]{27}$/;
const nanoid = /^[a-zA-Z0-9_-]{21}$/;
function nanoidOfLength(length) {
    return new RegExp(`^[a-zA-Z0-9_-]{${length}}$`);
}
/** ISO 8601-1 duration regex. Does not support the 8601-2 extensions like negative durations or fractional/negative components. */
const duration = /^P(?:(\d+W)|(?!.*W)(?=\d|T\d)(\d+Y)?(\d+M)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+([.,]\d+)?S)?)?)$/;
/** Implements ISO 8601-2 extensions like explicit +- prefixes, mixing weeks with other units, and fractional/negative components. */
const extendedDuration = /^[-+]?P(?!$)(?:(?:[-+]?\d+Y)|(?:[-+]?\d+[.,]\d+Y$))?(?:(?:[-+]?\d+M)|(?:[-+]?\d+[.,]\d+M$))?(?:(?:[-+]?\d+W)|(?:[-+]?\d+[.,]\d+W$))?(?:(?:[-+]?\d+D)|(?:[-+]?\d+[.,]\d+D$))?(?:T(?=[\d+-])(?:(?:[-+]?\d+H)|(?:[-+]?\d+[.,]\d+H$))?(?:(?:[-+]?\d+M)|(?:[-+]?\d+[.,]\d+M$))?(?:[-+]?\d+(?:[.,]\d+)?S)?)??$/;
/** A regex for any UUID-like identifier: 8-4-4-4-12 hex pattern */
const guid = /^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$/;
/** Returns a regex for validating an RFC 9562/4122 UUID.
 *
 * @param version Optionally specify a version 1-8. If no version is specified, all versions are supported. */
const uuid = (version) => {
    if (!version)
        return /^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$/;
    return new RegExp(`^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-${version}[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12})$`);
};
const uuid4 = /*@__PURE__*/ (/* unused pure expression or super */ null && (uuid(4)));
const uuid6 = /*@__PURE__*/ (/* unused pure expression or super */ null && (uuid(6)));
const uuid7 = /*@__PURE__*/ (/* unused pure expression or super */ null && (uuid(7)));
/** Practical email validation */
const email = /^(?:[A-Za-z0-9_'+\-]+\.)*[A-Za-z0-9_'+\-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$/;
/** Equivalent to the HTML5 input[type=email] validation implemented by browsers. Source: https://developer.mozilla.org/en-US/docs/Web/HTML/Element/input/email */
const html5Email = /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
/** The classic emailregex.com regex for RFC 5322-compliant emails */
const rfc5322Email = /^(([^<>()\[\]\\.,;:\s@"]+(\.[^<>()\[\]\\.,;:\s@"]+)*)|(".+"))@((\[[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}])|(([a-zA-Z\-0-9]+\.)+[a-zA-Z]{2,}))$/;
/** A loose regex that allows Unicode characters, enforces length limits, and that's about it. */
const unicodeEmail = /^[^\s@"]{1,64}@[^\s@]{1,255}$/u;
const idnEmail = (/* unused pure expression or super */ null && (unicodeEmail));
const browserEmail = /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
// from https://thekevinscott.com/emojis-in-javascript/#writing-a-regular-expression
// Single character class, not an alternation: the two properties overlap (U+1F9B0-U+1F9B3), so `(A|B)+` backtracks exponentially on a failed match. The leading lookahead then demands one anchor — a pictograph, a regional indicator, or the enclosing keycap — because `\p{Emoji_Component}` on its own covers ASCII digits, `#`, `*`, ZWJ, variation selectors and skin tone modifiers, none of which is an emoji without a base.
const _emoji = `^(?=[\\s\\S]*[\\p{Extended_Pictographic}\\p{Regional_Indicator}\\u20E3])[\\p{Extended_Pictographic}\\p{Emoji_Component}]+$`;
function emoji() {
    return new RegExp(_emoji, "u");
}
const ipv4 = /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])$/;
const ipv6 = /^(([0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,7}:|([0-9a-fA-F]{1,4}:){1,6}:[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,5}(:[0-9a-fA-F]{1,4}){1,2}|([0-9a-fA-F]{1,4}:){1,4}(:[0-9a-fA-F]{1,4}){1,3}|([0-9a-fA-F]{1,4}:){1,3}(:[0-9a-fA-F]{1,4}){1,4}|([0-9a-fA-F]{1,4}:){1,2}(:[0-9a-fA-F]{1,4}){1,5}|[0-9a-fA-F]{1,4}:((:[0-9a-fA-F]{1,4}){1,6})|:((:[0-9a-fA-F]{1,4}){1,7}|:))$/;
const mac = (delimiter) => {
    const escapedDelim = util.escapeRegex(delimiter ?? ":");
    return new RegExp(`^(?:[0-9A-F]{2}${escapedDelim}){5}[0-9A-F]{2}$|^(?:[0-9a-f]{2}${escapedDelim}){5}[0-9a-f]{2}$`);
};
const cidrv4 = /^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])\/([0-9]|[1-2][0-9]|3[0-2])$/;
const cidrv6 = /^(([0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,7}:|([0-9a-fA-F]{1,4}:){1,6}:[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,5}(:[0-9a-fA-F]{1,4}){1,2}|([0-9a-fA-F]{1,4}:){1,4}(:[0-9a-fA-F]{1,4}){1,3}|([0-9a-fA-F]{1,4}:){1,3}(:[0-9a-fA-F]{1,4}){1,4}|([0-9a-fA-F]{1,4}:){1,2}(:[0-9a-fA-F]{1,4}){1,5}|[0-9a-fA-F]{1,4}:((:[0-9a-fA-F]{1,4}){1,6})|:((:[0-9a-fA-F]{1,4}){1,7}|:))\/(12[0-8]|1[01][0-9]|[1-9]?[0-9])$/;
// https://stackoverflow.com/questions/7860392/determine-if-string-is-in-base64-using-javascript
const regexes_base64 = /^$|^(?:[0-9a-zA-Z+/]{4})*(?:(?:[0-9a-zA-Z+/]{2}==)|(?:[0-9a-zA-Z+/]{3}=))?$/;
const regexes_base64url = /^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2,3})?$/;
// based on https://stackoverflow.com/questions/106179/regular-expression-to-match-dns-hostname-or-ip-address
// export const hostname: RegExp = /^([a-zA-Z0-9-]+\.)*[a-zA-Z0-9-]+$/;
const hostname = /^(?=.{1,253}\.?$)[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[-0-9a-zA-Z]{0,61}[0-9a-zA-Z])?)*\.?$/;
const domain = /^(?=.{1,253}$)([a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$/;
const httpProtocol = /^https?$/;
// https://blog.stevenlevithan.com/archives/validate-phone-number#r4-3 (regex sans spaces) E.164: leading digit must be 1-9; total digits (excluding '+') between 7-15
const e164 = /^\+[1-9]\d{6,14}$/;
// Credit card shape: 12–19 digits, optionally separated by single spaces or single hyphens. ISO/IEC 7812 caps the PAN at 19 digits; 12 is the shortest issued length (Maestro).
const creditCard = /^\d(?:[ -]?\d){11,18}$/;
// ISO 4217 alpha codes from the SIX list, regenerated by scripts/update-iso-4217.ts
const currencyCode = /^(?:AED|AFN|ALL|AMD|AOA|ARS|AUD|AWG|AZN|BAM|BBD|BDT|BHD|BIF|BMD|BND|BOB|BOV|BRL|BSD|BTN|BWP|BYN|BZD|CAD|CDF|CHE|CHF|CHW|CLF|CLP|CNY|COP|COU|CRC|CUP|CVE|CZK|DJF|DKK|DOP|DZD|EGP|ERN|ETB|EUR|FJD|FKP|GBP|GEL|GHS|GIP|GMD|GNF|GTQ|GYD|HKD|HNL|HTG|HUF|IDR|ILS|INR|IQD|IRR|ISK|JMD|JOD|JPY|KES|KGS|KHR|KMF|KPW|KRW|KWD|KYD|KZT|LAK|LBP|LKR|LRD|LSL|LYD|MAD|MDL|MGA|MKD|MMK|MNT|MOP|MRU|MUR|MVR|MWK|MXN|MXV|MYR|MZN|NAD|NGN|NIO|NOK|NPR|NZD|OMR|PAB|PEN|PGK|PHP|PKR|PLN|PYG|QAR|RON|RSD|RUB|RWF|SAR|SBD|SCR|SDG|SEK|SGD|SHP|SLE|SOS|SRD|SSP|STN|SVC|SYP|SZL|THB|TJS|TMT|TND|TOP|TRY|TTD|TWD|TZS|UAH|UGX|USD|USN|UYI|UYU|UYW|UZS|VED|VES|VND|VUV|WST|XAD|XAF|XAG|XAU|XBA|XBB|XBC|XBD|XCD|XCG|XDR|XOF|XPD|XPF|XPT|XSU|XTS|XUA|XXX|YER|ZAR|ZMW|ZWG)$/;
// iban electronic format: 2-letter country, check digits 02-98 (the only values `98 - remainder` can produce), 11-30 bban characters
const iban = /^[A-Z]{2}(?!00|01|99)\d{2}[A-Z0-9]{11,30}$/;
const dateSource = `(?:(?:\\d\\d[2468][048]|\\d\\d[13579][26]|\\d\\d0[48]|[02468][048]00|[13579][26]00)-02-29|\\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)|(?:02)-(?:0[1-9]|1\\d|2[0-8])))`;
/** Anchors a pattern source. The interpolation lives here rather than at the call site because
 * esbuild will not drop a `@__PURE__` call whose own argument interpolates a variable, but it
 * will drop `anchor(dateSource)`. Keeping it inline pinned `date` into every bundle. */
function regexes_anchor(source) {
    return new RegExp(`^${source}$`);
}
const date = /*@__PURE__*/ regexes_anchor(dateSource);
function timeSource(args) {
    const hhmm = `(?:[01]\\d|2[0-3]):[0-5]\\d`;
    const regex = typeof args.precision === "number"
        ? args.precision === -1
            ? `${hhmm}`
            : args.precision === 0
                ? `${hhmm}:[0-5]\\d`
                : `${hhmm}:[0-5]\\d\\.\\d{${args.precision}}`
        : args.seconds
            ? `${hhmm}:[0-5]\\d(?:\\.\\d+)?`
            : `${hhmm}(?::[0-5]\\d(?:\\.\\d+)?)?`;
    return regex;
}
function time(args) {
    return new RegExp(`^${timeSource(args)}$`);
}
// Adapted from https://stackoverflow.com/a/3143231
function datetime(args) {
    const opts = ["Z"];
    // if (args.offset) opts.push(`([+-]\\d{2}:\\d{2})`);
    if (args.offset)
        opts.push(`([+-](?:[01]\\d|2[0-3]):[0-5]\\d)`);
    // RFC 3339 mandates seconds wherever the time carries a `Z` or an offset, so only the unqualified form `local` adds may omit them
    const qualified = `${timeSource({ precision: args.precision, seconds: true })}(?:${opts.join("|")})`;
    const timeRegex = args.local ? `${qualified}|${timeSource({ precision: args.precision })}` : qualified;
    return new RegExp(`^${dateSource}T(?:${timeRegex})$`);
}
// the unbounded form of `string()` as a literal, so every plain string shares one instance instead of building its own
const anyString = /^[\s\S]{0,}$/;
const string = (params) => {
    const regex = params ? `[\\s\\S]{${params?.minimum ?? 0},${params?.maximum ?? ""}}` : `[\\s\\S]*`;
    return new RegExp(`^${regex}$`);
};
const bigint = /^-?\d+n?$/;
const integer = /^-?\d+$/;
const number = /^-?\d+(?:\.\d+)?$/;
const regexes_boolean = /^(?:true|false)$/i;
const _null = /^null$/i;

const _undefined = /^undefined$/i;

// regex for string with no uppercase letters
const lowercase = /^[^A-Z]*$/;
// regex for string with no lowercase letters
const uppercase = /^[^a-z]*$/;
// regex for hexadecimal strings (any length)
const regexes_hex = /^[0-9a-fA-F]*$/;
// Hash regexes for different algorithms and encodings
// Helper function to create base64 regex with exact length and padding
function fixedBase64(bodyLength, padding) {
    return new RegExp(`^[A-Za-z0-9+/]{${bodyLength}}${padding}$`);
}
// Helper function to create base64url regex with exact length (no padding)
function fixedBase64url(length) {
    return new RegExp(`^[A-Za-z0-9_-]{${length}}$`);
}
// MD5 (16 bytes): base64 = 24 chars total (22 + "==")
const md5_hex = /^[0-9a-fA-F]{32}$/;
const md5_base64 = /*@__PURE__*/ (/* unused pure expression or super */ null && (fixedBase64(22, "==")));
const md5_base64url = /*@__PURE__*/ (/* unused pure expression or super */ null && (fixedBase64url(22)));
// SHA1 (20 bytes): base64 = 28 chars total (27 + "=")
const sha1_hex = /^[0-9a-fA-F]{40}$/;
const sha1_base64 = /*@__PURE__*/ (/* unused pure expression or super */ null && (fixedBase64(27, "=")));
const sha1_base64url = /*@__PURE__*/ (/* unused pure expression or super */ null && (fixedBase64url(27)));
// SHA256 (32 bytes): base64 = 44 chars total (43 + "=")
const sha256_hex = /^[0-9a-fA-F]{64}$/;
const sha256_base64 = /*@__PURE__*/ (/* unused pure expression or super */ null && (fixedBase64(43, "=")));
const sha256_base64url = /*@__PURE__*/ (/* unused pure expression or super */ null && (fixedBase64url(43)));
// SHA384 (48 bytes): base64 = 64 chars total (no padding)
const sha384_hex = /^[0-9a-fA-F]{96}$/;
const sha384_base64 = /*@__PURE__*/ (/* unused pure expression or super */ null && (fixedBase64(64, "")));
const sha384_base64url = /*@__PURE__*/ (/* unused pure expression or super */ null && (fixedBase64url(64)));
// SHA512 (64 bytes): base64 = 88 chars total (86 + "==")
const sha512_hex = /^[0-9a-fA-F]{128}$/;
const sha512_base64 = /*@__PURE__*/ (/* unused pure expression or super */ null && (fixedBase64(86, "==")));
const sha512_base64url = /*@__PURE__*/ (/* unused pure expression or super */ null && (fixedBase64url(86)));

;// CONCATENATED MODULE: ./node_modules/zod/v4/core/checks.js
// import { $ZodType } from "./schemas.js";



const $ZodCheck = /*@__PURE__*/ $constructor("$ZodCheck", (inst, def) => {
    var _a;
    inst._zod ?? (inst._zod = {});
    inst._zod.def = def;
    (_a = inst._zod).onattach ?? (_a.onattach = []);
});
/** Default `when` for size-based checks: run only on non-nullish values with a `size`. */
const _whenHasSize = (payload) => {
    const val = payload.value;
    return !util.nullish(val) && val.size !== undefined;
};
/** Default `when` for length-based checks: run only on non-nullish values with a `length`. */
const _whenHasLength = (payload) => {
    const val = payload.value;
    return !nullish(val) && val.length !== undefined;
};
const numericOriginMap = {
    number: "number",
    bigint: "bigint",
    object: "date",
};
const $ZodCheckLessThan = /*@__PURE__*/ $constructor("$ZodCheckLessThan", (inst, def) => {
    $ZodCheck.init(inst, def);
    const origin = numericOriginMap[typeof def.value];
    inst._zod.check = (payload) => {
        if (def.inclusive ? payload.value <= def.value : payload.value < def.value) {
            return;
        }
        payload.issues.push({
            origin: numericOriginMap[typeof payload.value] ?? origin,
            code: "too_big",
            maximum: typeof def.value === "object" ? def.value.getTime() : def.value,
            input: payload.value,
            inclusive: def.inclusive,
            inst,
            continue: !def.abort,
        });
    };
});
const $ZodCheckGreaterThan = /*@__PURE__*/ $constructor("$ZodCheckGreaterThan", (inst, def) => {
    $ZodCheck.init(inst, def);
    const origin = numericOriginMap[typeof def.value];
    inst._zod.check = (payload) => {
        if (def.inclusive ? payload.value >= def.value : payload.value > def.value) {
            return;
        }
        payload.issues.push({
            origin: numericOriginMap[typeof payload.value] ?? origin,
            code: "too_small",
            minimum: typeof def.value === "object" ? def.value.getTime() : def.value,
            input: payload.value,
            inclusive: def.inclusive,
            inst,
            continue: !def.abort,
        });
    };
});
const $ZodCheckMultipleOf = 
/*@__PURE__*/ $constructor("$ZodCheckMultipleOf", (inst, def) => {
    $ZodCheck.init(inst, def);
    inst._zod.check = (payload) => {
        if (typeof payload.value !== typeof def.value)
            throw new Error("Cannot mix number and bigint in multiple_of check.");
        const isMultiple = typeof payload.value === "bigint"
            ? // `value % 0n` throws, and nothing is a multiple of zero — the number branch already fails this way via NaN
                def.value !== BigInt(0) && payload.value % def.value === BigInt(0)
            : floatSafeRemainder(payload.value, def.value) === 0;
        if (isMultiple)
            return;
        payload.issues.push({
            origin: typeof payload.value,
            code: "not_multiple_of",
            divisor: def.value,
            input: payload.value,
            inst,
            continue: !def.abort,
        });
    };
});
const $ZodCheckNumberFormat = /*@__PURE__*/ $constructor("$ZodCheckNumberFormat", (inst, def) => {
    $ZodCheck.init(inst, def); // no format checks
    def.format = def.format || "float64";
    const isInt = def.format?.includes("int");
    const origin = isInt ? "int" : "number";
    const [minimum, maximum] = NUMBER_FORMAT_RANGES[def.format];
    inst._zod.check = (payload) => {
        const input = payload.value;
        if (isInt) {
            if (!Number.isInteger(input)) {
                // invalid_format issue
                // payload.issues.push({
                //   expected: def.format,
                //   format: def.format,
                //   code: "invalid_format",
                //   input,
                //   inst,
                // });
                // invalid_type issue
                payload.issues.push({
                    expected: origin,
                    format: def.format,
                    code: "invalid_type",
                    continue: false,
                    input,
                    inst,
                });
                return;
                // not_multiple_of issue
                // payload.issues.push({
                //   code: "not_multiple_of",
                //   origin: "number",
                //   input,
                //   inst,
                //   divisor: 1,
                // });
            }
            if (!Number.isSafeInteger(input)) {
                if (input > 0) {
                    // too_big
                    payload.issues.push({
                        input,
                        code: "too_big",
                        maximum: Number.MAX_SAFE_INTEGER,
                        note: "Integers must be within the safe integer range.",
                        inst,
                        origin,
                        inclusive: true,
                        continue: !def.abort,
                    });
                }
                else {
                    // too_small
                    payload.issues.push({
                        input,
                        code: "too_small",
                        minimum: Number.MIN_SAFE_INTEGER,
                        note: "Integers must be within the safe integer range.",
                        inst,
                        origin,
                        inclusive: true,
                        continue: !def.abort,
                    });
                }
                return;
            }
        }
        if (input < minimum) {
            payload.issues.push({
                origin: "number",
                input,
                code: "too_small",
                minimum,
                inclusive: true,
                inst,
                continue: !def.abort,
            });
        }
        if (input > maximum) {
            payload.issues.push({
                origin: "number",
                input,
                code: "too_big",
                maximum,
                inclusive: true,
                inst,
                continue: !def.abort,
            });
        }
    };
});
const $ZodCheckBigIntFormat = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodCheckBigIntFormat", (inst, def) => {
    $ZodCheck.init(inst, def); // no format checks
    const [minimum, maximum] = util.BIGINT_FORMAT_RANGES[def.format];
    inst._zod.check = (payload) => {
        const input = payload.value;
        if (input < minimum) {
            payload.issues.push({
                origin: "bigint",
                input,
                code: "too_small",
                minimum: minimum,
                inclusive: true,
                inst,
                continue: !def.abort,
            });
        }
        if (input > maximum) {
            payload.issues.push({
                origin: "bigint",
                input,
                code: "too_big",
                maximum,
                inclusive: true,
                inst,
                continue: !def.abort,
            });
        }
    };
})));
const $ZodCheckMaxSize = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodCheckMaxSize", (inst, def) => {
    var _a;
    $ZodCheck.init(inst, def);
    (_a = inst._zod.def).when ?? (_a.when = _whenHasSize);
    inst._zod.check = (payload) => {
        const input = payload.value;
        const size = input.size;
        if (size <= def.maximum)
            return;
        payload.issues.push({
            origin: util.getSizableOrigin(input),
            code: "too_big",
            maximum: def.maximum,
            inclusive: true,
            input,
            inst,
            continue: !def.abort,
        });
    };
})));
const $ZodCheckMinSize = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodCheckMinSize", (inst, def) => {
    var _a;
    $ZodCheck.init(inst, def);
    (_a = inst._zod.def).when ?? (_a.when = _whenHasSize);
    inst._zod.check = (payload) => {
        const input = payload.value;
        const size = input.size;
        if (size >= def.minimum)
            return;
        payload.issues.push({
            origin: util.getSizableOrigin(input),
            code: "too_small",
            minimum: def.minimum,
            inclusive: true,
            input,
            inst,
            continue: !def.abort,
        });
    };
})));
const $ZodCheckSizeEquals = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodCheckSizeEquals", (inst, def) => {
    var _a;
    $ZodCheck.init(inst, def);
    (_a = inst._zod.def).when ?? (_a.when = _whenHasSize);
    inst._zod.check = (payload) => {
        const input = payload.value;
        const size = input.size;
        if (size === def.size)
            return;
        const tooBig = size > def.size;
        payload.issues.push({
            origin: util.getSizableOrigin(input),
            ...(tooBig ? { code: "too_big", maximum: def.size } : { code: "too_small", minimum: def.size }),
            inclusive: true,
            exact: true,
            input: payload.value,
            inst,
            continue: !def.abort,
        });
    };
})));
const $ZodCheckMaxLength = /*@__PURE__*/ $constructor("$ZodCheckMaxLength", (inst, def) => {
    var _a;
    $ZodCheck.init(inst, def);
    (_a = inst._zod.def).when ?? (_a.when = _whenHasLength);
    inst._zod.check = (payload) => {
        const input = payload.value;
        const units = input.length;
        // Strings are measured in Unicode code points, not UTF-16 units. A code point is at most two units, so a string that already fits in units fits in code points; only an overflow has to be counted.
        const length = typeof input === "string" && units > def.maximum ? codePointLength(input) : units;
        if (length <= def.maximum)
            return;
        const origin = getLengthableOrigin(input);
        payload.issues.push({
            origin,
            code: "too_big",
            maximum: def.maximum,
            inclusive: true,
            input,
            inst,
            continue: !def.abort,
        });
    };
});
const $ZodCheckMinLength = /*@__PURE__*/ $constructor("$ZodCheckMinLength", (inst, def) => {
    var _a;
    $ZodCheck.init(inst, def);
    (_a = inst._zod.def).when ?? (_a.when = _whenHasLength);
    inst._zod.check = (payload) => {
        const input = payload.value;
        const units = input.length;
        // A code point is one or two UTF-16 units, so fewer units than the floor can never reach it and twice the floor always clears it. Only in between is the exact count in doubt.
        const length = typeof input === "string" && units >= def.minimum && units < def.minimum * 2
            ? codePointLength(input)
            : units;
        if (length >= def.minimum)
            return;
        const origin = getLengthableOrigin(input);
        payload.issues.push({
            origin,
            code: "too_small",
            minimum: def.minimum,
            inclusive: true,
            input,
            inst,
            continue: !def.abort,
        });
    };
});
const $ZodCheckLengthEquals = /*@__PURE__*/ $constructor("$ZodCheckLengthEquals", (inst, def) => {
    var _a;
    $ZodCheck.init(inst, def);
    (_a = inst._zod.def).when ?? (_a.when = _whenHasLength);
    inst._zod.check = (payload) => {
        const input = payload.value;
        const units = input.length;
        // A code point is one or two UTF-16 units, so outside `[length, length * 2]` units the target is missed either way — and missed in the same direction in both measures.
        const length = typeof input === "string" && units >= def.length && units <= def.length * 2
            ? codePointLength(input)
            : units;
        if (length === def.length)
            return;
        const origin = getLengthableOrigin(input);
        const tooBig = length > def.length;
        payload.issues.push({
            origin,
            ...(tooBig ? { code: "too_big", maximum: def.length } : { code: "too_small", minimum: def.length }),
            inclusive: true,
            exact: true,
            input: payload.value,
            inst,
            continue: !def.abort,
        });
    };
});
const $ZodCheckStringFormat = /*@__PURE__*/ $constructor("$ZodCheckStringFormat", (inst, def) => {
    var _a, _b;
    $ZodCheck.init(inst, def);
    if (def.pattern)
        (_a = inst._zod).check ?? (_a.check = (payload) => {
            def.pattern.lastIndex = 0;
            if (def.pattern.test(payload.value))
                return;
            payload.issues.push({
                origin: "string",
                code: "invalid_format",
                format: def.format,
                input: payload.value,
                ...(def.pattern ? { pattern: def.pattern.toString() } : {}),
                inst,
                continue: !def.abort,
            });
        });
    else
        (_b = inst._zod).check ?? (_b.check = () => { });
});
const $ZodCheckRegex = /*@__PURE__*/ $constructor("$ZodCheckRegex", (inst, def) => {
    $ZodCheckStringFormat.init(inst, def);
    inst._zod.check = (payload) => {
        def.pattern.lastIndex = 0;
        if (def.pattern.test(payload.value))
            return;
        payload.issues.push({
            origin: "string",
            code: "invalid_format",
            format: "regex",
            input: payload.value,
            pattern: def.pattern.toString(),
            inst,
            continue: !def.abort,
        });
    };
});
const $ZodCheckLowerCase = /*@__PURE__*/ $constructor("$ZodCheckLowerCase", (inst, def) => {
    def.pattern ?? (def.pattern = lowercase);
    $ZodCheckStringFormat.init(inst, def);
});
const $ZodCheckUpperCase = /*@__PURE__*/ $constructor("$ZodCheckUpperCase", (inst, def) => {
    def.pattern ?? (def.pattern = uppercase);
    $ZodCheckStringFormat.init(inst, def);
});
const $ZodCheckIncludes = /*@__PURE__*/ $constructor("$ZodCheckIncludes", (inst, def) => {
    $ZodCheck.init(inst, def);
    const escapedRegex = escapeRegex(def.includes);
    // `String.prototype.includes(sub, position)` matches `sub` at `position`
    // OR LATER, so the pattern must allow at least `position` leading chars
    // (`{N,}`), not exactly `position` chars (`{N}`).
    const pattern = new RegExp(typeof def.position === "number" ? `^.{${def.position},}${escapedRegex}` : escapedRegex);
    def.pattern = pattern;
    inst._zod.check = (payload) => {
        if (payload.value.includes(def.includes, def.position))
            return;
        payload.issues.push({
            origin: "string",
            code: "invalid_format",
            format: "includes",
            includes: def.includes,
            input: payload.value,
            inst,
            continue: !def.abort,
        });
    };
});
const $ZodCheckStartsWith = /*@__PURE__*/ $constructor("$ZodCheckStartsWith", (inst, def) => {
    $ZodCheck.init(inst, def);
    const pattern = new RegExp(`^${escapeRegex(def.prefix)}.*`);
    def.pattern ?? (def.pattern = pattern);
    inst._zod.check = (payload) => {
        if (payload.value.startsWith(def.prefix))
            return;
        payload.issues.push({
            origin: "string",
            code: "invalid_format",
            format: "starts_with",
            prefix: def.prefix,
            input: payload.value,
            inst,
            continue: !def.abort,
        });
    };
});
const $ZodCheckEndsWith = /*@__PURE__*/ $constructor("$ZodCheckEndsWith", (inst, def) => {
    $ZodCheck.init(inst, def);
    const pattern = new RegExp(`.*${escapeRegex(def.suffix)}$`);
    def.pattern ?? (def.pattern = pattern);
    inst._zod.check = (payload) => {
        if (payload.value.endsWith(def.suffix))
            return;
        payload.issues.push({
            origin: "string",
            code: "invalid_format",
            format: "ends_with",
            suffix: def.suffix,
            input: payload.value,
            inst,
            continue: !def.abort,
        });
    };
});
///////////////////////////////////
/////    $ZodCheckProperty    /////
///////////////////////////////////
function handleCheckPropertyResult(result, payload, property) {
    if (result.issues.length) {
        payload.issues.push(...prefixIssues(property, result.issues));
    }
}
const $ZodCheckProperty = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodCheckProperty", (inst, def) => {
    $ZodCheck.init(inst, def);
    inst._zod.check = (payload) => {
        const result = def.schema._zod.run({
            value: payload.value[def.property],
            issues: [],
        }, {});
        if (result instanceof Promise) {
            return result.then((result) => handleCheckPropertyResult(result, payload, def.property));
        }
        handleCheckPropertyResult(result, payload, def.property);
        return;
    };
})));
const $ZodCheckProperties = /*@__PURE__*/ $constructor("$ZodCheckProperties", (inst, def) => {
    $ZodCheck.init(inst, def);
    hide(inst, Symbol.iterator, function* () {
        yield inst;
    });
    // key and schema snapshotted together: reading one live and the other cached lets a later mutation of the caller's shape object pair a stale key with a missing schema
    let entries;
    inst._zod.check = (payload) => {
        // the base schema already typed the value, so only a nullish one is rejected here: the properties read on a primitive too, matching z.property() on a string's length
        if (payload.value == null) {
            payload.issues.push({ expected: "object", code: "invalid_type", input: payload.value, inst });
            return undefined;
        }
        entries ?? (entries = Reflect.ownKeys(def.shape).map((key) => [key, def.shape[key]]));
        const input = payload.value;
        let proms;
        for (const [key, schema] of entries) {
            const result = schema._zod.run({ value: input[key], issues: [] }, {});
            if (result instanceof Promise) {
                proms ?? (proms = []);
                proms.push(result.then((result) => handleCheckPropertyResult(result, payload, key)));
            }
            else {
                handleCheckPropertyResult(result, payload, key);
            }
        }
        if (proms)
            return Promise.all(proms).then(() => undefined);
        return undefined;
    };
});
const $ZodCheckMimeType = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodCheckMimeType", (inst, def) => {
    $ZodCheck.init(inst, def);
    const mimeSet = new Set(def.mime);
    inst._zod.check = (payload) => {
        if (mimeSet.has(payload.value.type))
            return;
        payload.issues.push({
            code: "invalid_value",
            values: def.mime,
            input: payload.value.type,
            inst,
            continue: !def.abort,
        });
    };
})));
const $ZodCheckOverwrite = /*@__PURE__*/ $constructor("$ZodCheckOverwrite", (inst, def) => {
    $ZodCheck.init(inst, def);
    inst._zod.check = (payload) => {
        payload.value = def.tx(payload.value);
    };
});

;// CONCATENATED MODULE: ./node_modules/zod/v4/core/doc.js
class Doc {
    constructor(args = [], closed = {}) {
        this.content = [];
        this.indent = 0;
        this.args = args;
        this.closed = closed;
    }
    // the compiler catches a child's throw and keeps writing into this doc, so the indent has to unwind with it
    indented(fn) {
        this.indent += 1;
        try {
            fn(this);
        }
        finally {
            this.indent -= 1;
        }
    }
    write(arg) {
        if (typeof arg === "function") {
            arg(this, { execution: "sync" });
            arg(this, { execution: "async" });
            return;
        }
        const content = arg;
        const lines = content.split("\n").filter((x) => x);
        const minIndent = Math.min(...lines.map((x) => x.length - x.trimStart().length));
        const dedented = lines.map((x) => x.slice(minIndent)).map((x) => " ".repeat(this.indent * 2) + x);
        for (const line of dedented) {
            this.content.push(line);
        }
    }
    compile() {
        const F = Function;
        const content = this?.content ?? [``];
        const factory = new F(...Object.keys(this.closed), `return function (${this.args.join(", ")}) {\n${content.join("\n")}\n};`);
        return factory(...Object.values(this.closed));
    }
}

;// CONCATENATED MODULE: ./node_modules/zod/v4/core/versions.js
const version = {
    major: 4,
    minor: 6,
    patch: 7,
};

;// CONCATENATED MODULE: ./node_modules/zod/v4/core/schemas.js







const $ZodType = /*@__PURE__*/ $constructor("$ZodType", (inst, def) => {
    var _a;
    inst ?? (inst = {});
    inst._zod.def = def; // set _def property
    inst._zod.bag = inst._zod.bag || {}; // initialize _bag object
    inst._zod.version = version;
    const defChecks = inst._zod.def.checks;
    // if inst is itself a checks.$ZodCheck, run it as a check
    const checks = inst._zod.traits.has("$ZodCheck")
        ? [inst, ...(defChecks ?? [])]
        : defChecks?.length
            ? [...defChecks]
            : [];
    for (const ch of checks) {
        for (const fn of ch._zod.onattach) {
            fn(inst);
        }
    }
    if (checks.length === 0) {
        // deferred initializer inst._zod.parse is not yet defined
        (_a = inst._zod).deferred ?? (_a.deferred = []);
        inst._zod.deferred?.push(() => {
            inst._zod.run = inst._zod.parse;
        });
    }
    else {
        const runChecks = (payload, checks, ctx) => {
            if (payload.memo)
                return payload;
            let isAborted = aborted(payload);
            let asyncResult;
            for (const ch of checks) {
                if (ch._zod.def.when) {
                    if (explicitlyAborted(payload))
                        continue;
                    const shouldRun = ch._zod.def.when(payload);
                    if (!shouldRun)
                        continue;
                }
                else if (isAborted) {
                    continue;
                }
                const currLen = payload.issues.length;
                const _ = ch._zod.check(payload);
                if (_ instanceof Promise && ctx?.async === false) {
                    throw new $ZodAsyncError();
                }
                if (asyncResult || _ instanceof Promise) {
                    asyncResult = (asyncResult ?? Promise.resolve()).then(async () => {
                        await _;
                        const nextLen = payload.issues.length;
                        if (nextLen === currLen)
                            return;
                        attachSchema(payload.issues, currLen, inst);
                        if (!isAborted)
                            isAborted = aborted(payload, currLen);
                    });
                }
                else {
                    const nextLen = payload.issues.length;
                    if (nextLen === currLen)
                        continue;
                    attachSchema(payload.issues, currLen, inst);
                    if (!isAborted)
                        isAborted = aborted(payload, currLen);
                }
            }
            if (asyncResult) {
                return asyncResult.then(() => {
                    return payload;
                });
            }
            return payload;
        };
        const handleCanaryResult = (canary, payload, ctx) => {
            // abort if the canary is aborted
            if (aborted(canary)) {
                canary.aborted = true;
                return canary;
            }
            // run checks first, then
            const checkResult = runChecks(payload, checks, ctx);
            if (checkResult instanceof Promise) {
                if (ctx.async === false)
                    throw new $ZodAsyncError();
                return checkResult.then((checkResult) => inst._zod.parse(checkResult, ctx));
            }
            return inst._zod.parse(checkResult, ctx);
        };
        inst._zod.run = (payload, ctx) => {
            if (ctx.skipChecks) {
                return inst._zod.parse(payload, ctx);
            }
            if (ctx.direction === "backward") {
                // run canary initial pass (no checks)
                const canary = inst._zod.parse({ value: payload.value, issues: [] }, { ...ctx, skipChecks: true });
                if (canary instanceof Promise) {
                    return canary.then((canary) => {
                        return handleCanaryResult(canary, payload, ctx);
                    });
                }
                return handleCanaryResult(canary, payload, ctx);
            }
            // forward
            const result = inst._zod.parse(payload, ctx);
            if (result instanceof Promise) {
                if (ctx.async === false)
                    throw new $ZodAsyncError();
                return result.then((result) => runChecks(result, checks, ctx));
            }
            return runChecks(result, checks, ctx);
        };
    }
}, {
    // Wrappers extend this by installing a richer factory over it; reading it eagerly would defeat the laziness.
    get "~standard"() {
        return hide(this, "~standard", standardProps(this));
    },
    set "~standard"(value) {
        own(this, "~standard", value);
    },
});
/** The Standard Schema surface for `inst`. Shared so wrappers can extend it without forcing it. */
// a Standard Schema result only reports issues, so a failure finalizes them straight off the raw payload: no ZodError, and no lazy result to read through
const toStandardResult = (r, ctx) => r.issues.length ? { issues: r.issues.map((iss) => finalizeIssue(iss, ctx, config())) } : { value: r.value };
async function validateAsync(inst, value) {
    const ctx = { async: true };
    return toStandardResult((await inst._zod.run({ value, issues: [] }, ctx)), ctx);
}
function standardProps(inst) {
    return {
        validate: (value) => {
            const ctx = { async: false };
            try {
                const r = inst._zod.run({ value, issues: [] }, ctx);
                if (!(r instanceof Promise))
                    return toStandardResult(r, ctx);
            }
            catch (_) { }
            // async function so a synchronously throwing check rejects instead of escaping validate
            return validateAsync(inst, value);
        },
        vendor: "zod",
        version: 1,
    };
}

const $ZodString = /*@__PURE__*/ $constructor("$ZodString", (inst, def) => {
    $ZodType.init(inst, def);
    // a format's own pattern, else unbounded; a template literal derives the check-aware form itself
    inst._zod.pattern = def.pattern ?? anyString;
    inst._zod.parse = (payload, _) => {
        if (def.coerce)
            try {
                payload.value = String(payload.value);
            }
            catch (_) { }
        if (typeof payload.value === "string")
            return payload;
        payload.issues.push({
            expected: "string",
            code: "invalid_type",
            input: payload.value,
            inst,
        });
        return payload;
    };
});
const $ZodStringFormat = /*@__PURE__*/ $constructor("$ZodStringFormat", (inst, def) => {
    // check initialization must come first
    $ZodCheckStringFormat.init(inst, def);
    $ZodString.init(inst, def);
});
const $ZodGUID = /*@__PURE__*/ $constructor("$ZodGUID", (inst, def) => {
    def.pattern ?? (def.pattern = guid);
    $ZodStringFormat.init(inst, def);
});
const $ZodUUID = /*@__PURE__*/ $constructor("$ZodUUID", (inst, def) => {
    if (def.version) {
        const versionMap = {
            v1: 1,
            v2: 2,
            v3: 3,
            v4: 4,
            v5: 5,
            v6: 6,
            v7: 7,
            v8: 8,
        };
        const v = versionMap[def.version];
        if (v === undefined)
            throw new Error(`Invalid UUID version: "${def.version}"`);
        def.pattern ?? (def.pattern = uuid(v));
    }
    else
        def.pattern ?? (def.pattern = uuid());
    $ZodStringFormat.init(inst, def);
});
const $ZodEmail = /*@__PURE__*/ $constructor("$ZodEmail", (inst, def) => {
    def.pattern ?? (def.pattern = email);
    $ZodStringFormat.init(inst, def);
});
/** The `://` guard rejected the input before the URL constructor saw it. */
const URL_BAD_FORMAT = 1;
/** The URL parser rejected the input. */
const URL_UNPARSEABLE = 2;
function canParseURL(input) {
    try {
        if (typeof URL !== "undefined" && typeof URL.canParse === "function")
            return URL.canParse(input);
        new URL(input);
        return true;
    }
    catch {
        return false;
    }
}
function validateURL(trimmed, def) {
    if (!("normalize" in def) && !("hostname" in def) && !("protocol" in def)) {
        return canParseURL(trimmed) || URL_UNPARSEABLE;
    }
    return parseURLObject(trimmed, def);
}
/** Parses a URL while preserving the non-normalizing HTTP guard. */
function parseURLObject(trimmed, def) {
    // When normalize is off, require :// for http/https URLs. This prevents strings like "http:example.com" or "https:/path" from being silently accepted
    if (!def.normalize && def.protocol?.source === httpProtocol.source && !/^https?:\/\//i.test(trimmed)) {
        return URL_BAD_FORMAT;
    }
    try {
        if (typeof URL !== "undefined") {
            const URLStatic = URL;
            if (typeof URLStatic.parse === "function")
                return URLStatic.parse(trimmed) ?? URL_UNPARSEABLE;
        }
        // @ts-ignore
        return new URL(trimmed);
    }
    catch {
        return URL_UNPARSEABLE;
    }
}
const asciiTabOrNewline = /[\t\n\r]/g;
/** The URL parser deletes every ASCII tab, LF and CR from its input before it parses, so `new URL("https://exa\nmple.com")` reports on `example.com`. Applying the same deletion to the returned value closes the half of that divergence which can move the host; the parser's other rewrite, stripping C0 controls at the edges, cannot. */
function stripTabAndNewline(value) {
    return value.replace(asciiTabOrNewline, "");
}
function urlHostnameOk(url, hostname) {
    hostname.lastIndex = 0;
    return hostname.test(url.hostname);
}
function urlProtocolOk(url, protocol) {
    protocol.lastIndex = 0;
    return protocol.test(url.protocol.endsWith(":") ? url.protocol.slice(0, -1) : url.protocol);
}
const $ZodURL = /*@__PURE__*/ $constructor("$ZodURL", (inst, def) => {
    $ZodStringFormat.init(inst, def);
    inst._zod.check = (payload) => {
        try {
            // Trim whitespace from input
            const trimmed = payload.value.trim();
            const url = validateURL(trimmed, def);
            if (url === URL_BAD_FORMAT) {
                payload.issues.push({
                    code: "invalid_format",
                    format: "url",
                    note: "Invalid URL format",
                    input: payload.value,
                    inst,
                    continue: !def.abort,
                });
                return;
            }
            if (url === URL_UNPARSEABLE) {
                payload.issues.push({
                    code: "invalid_format",
                    format: "url",
                    input: payload.value,
                    inst,
                    continue: !def.abort,
                });
                return;
            }
            if (url === true) {
                payload.value = stripTabAndNewline(trimmed);
                return;
            }
            if (def.hostname && !urlHostnameOk(url, def.hostname)) {
                payload.issues.push({
                    code: "invalid_format",
                    format: "url",
                    note: "Invalid hostname",
                    pattern: def.hostname.source,
                    input: payload.value,
                    inst,
                    continue: !def.abort,
                });
            }
            if (def.protocol && !urlProtocolOk(url, def.protocol)) {
                payload.issues.push({
                    code: "invalid_format",
                    format: "url",
                    note: "Invalid protocol",
                    pattern: def.protocol.source,
                    input: payload.value,
                    inst,
                    continue: !def.abort,
                });
            }
            // Set the output value based on normalize flag
            payload.value = def.normalize ? url.href : stripTabAndNewline(trimmed);
            return;
        }
        catch (_) {
            payload.issues.push({
                code: "invalid_format",
                format: "url",
                input: payload.value,
                inst,
                continue: !def.abort,
            });
        }
    };
});
const $ZodEmoji = /*@__PURE__*/ $constructor("$ZodEmoji", (inst, def) => {
    def.pattern ?? (def.pattern = emoji());
    $ZodStringFormat.init(inst, def);
});
const $ZodNanoID = /*@__PURE__*/ $constructor("$ZodNanoID", (inst, def) => {
    if (def.length !== undefined && (!Number.isInteger(def.length) || def.length < 1))
        throw new Error(`Invalid nanoid length: ${def.length}`);
    def.pattern ?? (def.pattern = def.length === undefined ? nanoid : nanoidOfLength(def.length));
    $ZodStringFormat.init(inst, def);
});
/**
 * @deprecated CUID v1 is deprecated by its authors due to information leakage
 * (timestamps embedded in the id). Use {@link $ZodCUID2} instead.
 * See https://github.com/paralleldrive/cuid.
 */
const $ZodCUID = /*@__PURE__*/ $constructor("$ZodCUID", (inst, def) => {
    def.pattern ?? (def.pattern = cuid);
    $ZodStringFormat.init(inst, def);
});
const $ZodCUID2 = /*@__PURE__*/ $constructor("$ZodCUID2", (inst, def) => {
    def.pattern ?? (def.pattern = cuid2);
    $ZodStringFormat.init(inst, def);
});
const $ZodULID = /*@__PURE__*/ $constructor("$ZodULID", (inst, def) => {
    def.pattern ?? (def.pattern = ulid);
    $ZodStringFormat.init(inst, def);
});
const $ZodXID = /*@__PURE__*/ $constructor("$ZodXID", (inst, def) => {
    def.pattern ?? (def.pattern = xid);
    $ZodStringFormat.init(inst, def);
});
const $ZodKSUID = /*@__PURE__*/ $constructor("$ZodKSUID", (inst, def) => {
    def.pattern ?? (def.pattern = ksuid);
    $ZodStringFormat.init(inst, def);
});
const $ZodISODateTime = /*@__PURE__*/ $constructor("$ZodISODateTime", (inst, def) => {
    def.pattern ?? (def.pattern = datetime(def));
    $ZodStringFormat.init(inst, def);
});
const $ZodISODate = /*@__PURE__*/ $constructor("$ZodISODate", (inst, def) => {
    def.pattern ?? (def.pattern = date);
    $ZodStringFormat.init(inst, def);
});
const $ZodISOTime = /*@__PURE__*/ $constructor("$ZodISOTime", (inst, def) => {
    def.pattern ?? (def.pattern = time(def));
    $ZodStringFormat.init(inst, def);
});
const $ZodISODuration = /*@__PURE__*/ $constructor("$ZodISODuration", (inst, def) => {
    def.pattern ?? (def.pattern = duration);
    $ZodStringFormat.init(inst, def);
});
const $ZodIPv4 = /*@__PURE__*/ $constructor("$ZodIPv4", (inst, def) => {
    def.pattern ?? (def.pattern = ipv4);
    $ZodStringFormat.init(inst, def);
});
/** An IPv6 address is written with hex digits, colons and dots, and nothing else. The guard is what makes the check below an IPv6 check: `new URL("http://[...]")` parses an authority, not an address, so `@` and `\` re-delimit it and `"::@1\\"` validates against the host `0.0.0.1`. The URL parser also deletes ASCII tab, LF and CR rather than failing, which is how `"::1\n"` validated as `::1`. */
const ipv6Alphabet = /^[0-9a-fA-F:.]+$/;
function isValidIPv6(value) {
    if (!ipv6Alphabet.test(value))
        return false;
    return canParseURL(`http://[${value}]`);
}
const $ZodIPv6 = /*@__PURE__*/ $constructor("$ZodIPv6", (inst, def) => {
    def.pattern ?? (def.pattern = ipv6);
    $ZodStringFormat.init(inst, def);
    inst._zod.check = (payload) => {
        if (!isValidIPv6(payload.value)) {
            payload.issues.push({
                code: "invalid_format",
                format: "ipv6",
                input: payload.value,
                inst,
                continue: !def.abort,
            });
        }
    };
});
const $ZodMAC = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodMAC", (inst, def) => {
    def.pattern ?? (def.pattern = regexes.mac(def.delimiter));
    $ZodStringFormat.init(inst, def);
})));
const $ZodCIDRv4 = /*@__PURE__*/ $constructor("$ZodCIDRv4", (inst, def) => {
    def.pattern ?? (def.pattern = cidrv4);
    $ZodStringFormat.init(inst, def);
});
function isValidCIDRv6(value) {
    const parts = value.split("/");
    if (parts.length !== 2)
        return false;
    const [address, prefix] = parts;
    if (!prefix)
        return false;
    const prefixNum = Number(prefix);
    if (`${prefixNum}` !== prefix)
        return false;
    if (prefixNum < 0 || prefixNum > 128)
        return false;
    return isValidIPv6(address);
}
const $ZodCIDRv6 = /*@__PURE__*/ $constructor("$ZodCIDRv6", (inst, def) => {
    def.pattern ?? (def.pattern = cidrv6); // not used for validation
    $ZodStringFormat.init(inst, def);
    inst._zod.check = (payload) => {
        if (!isValidCIDRv6(payload.value)) {
            payload.issues.push({
                code: "invalid_format",
                format: "cidrv6",
                input: payload.value,
                inst,
                continue: !def.abort,
            });
        }
    };
});
//////////////////////////////   ZodBase64   //////////////////////////////
function isValidBase64(data) {
    if (data === "")
        return true;
    // atob ignores whitespace, so reject it up front.
    if (/\s/.test(data))
        return false;
    if (data.length % 4 !== 0)
        return false;
    try {
        // @ts-ignore
        atob(data);
        return true;
    }
    catch {
        return false;
    }
}
// lax on purpose: the quantified regexes.base64 overflows the regex stack on multi-MB input and its leading ^$| alternation leaks through template-literal composition; isValidBase64 enforces length and padding
const base64Charset = /^[0-9a-zA-Z+/]*={0,2}$/;
const $ZodBase64 = /*@__PURE__*/ $constructor("$ZodBase64", (inst, def) => {
    def.pattern ?? (def.pattern = base64Charset);
    $ZodStringFormat.init(inst, def);
    inst._zod.check = (payload) => {
        if (isValidBase64(payload.value))
            return;
        payload.issues.push({
            code: "invalid_format",
            format: "base64",
            input: payload.value,
            inst,
            continue: !def.abort,
        });
    };
});
//////////////////////////////   ZodBase64URL   //////////////////////////////
// lax on purpose: the quantified regexes.base64url overflows the regex stack on multi-MB input; isValidBase64 enforces length on the padded string
const base64urlCharset = /^[A-Za-z0-9_-]*$/;
function isValidBase64URL(data) {
    if (!base64urlCharset.test(data))
        return false;
    const base64 = data.replace(/[-_]/g, (c) => (c === "-" ? "+" : "/"));
    const padded = base64.padEnd(Math.ceil(base64.length / 4) * 4, "=");
    return isValidBase64(padded);
}
const $ZodBase64URL = /*@__PURE__*/ $constructor("$ZodBase64URL", (inst, def) => {
    def.pattern ?? (def.pattern = base64urlCharset);
    $ZodStringFormat.init(inst, def);
    inst._zod.check = (payload) => {
        if (isValidBase64URL(payload.value))
            return;
        payload.issues.push({
            code: "invalid_format",
            format: "base64url",
            input: payload.value,
            inst,
            continue: !def.abort,
        });
    };
});
const $ZodE164 = /*@__PURE__*/ $constructor("$ZodE164", (inst, def) => {
    def.pattern ?? (def.pattern = e164);
    $ZodStringFormat.init(inst, def);
});
//////////////////////////////   ZodCreditCard   //////////////////////////////
const CC_SANITIZE = /[- ]/g;
/** Luhn checksum on a digit-only string. Adapted from valibot (MIT). */
function isLuhnAlgo(digits) {
    let length = digits.length;
    let bit = 1;
    let sum = 0;
    while (length) {
        const value = digits.charCodeAt(--length) - 48;
        bit ^= 1;
        sum += bit ? [0, 2, 4, 6, 8, 1, 3, 5, 7, 9][value] : value;
    }
    return sum % 10 === 0;
}
function isValidCreditCard(input) {
    if (!regexes.creditCard.test(input))
        return false;
    return isLuhnAlgo(input.replace(CC_SANITIZE, ""));
}
const $ZodCreditCard = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodCreditCard", (inst, def) => {
    // Shape only — the Luhn check below is not expressible as a pattern, so consumers of `pattern` (JSON Schema, template literals) get the length and separator rules alone.
    def.pattern ?? (def.pattern = regexes.creditCard);
    $ZodStringFormat.init(inst, def);
    inst._zod.check = (payload) => {
        if (isValidCreditCard(payload.value))
            return;
        payload.issues.push({
            code: "invalid_format",
            format: "credit_card",
            input: payload.value,
            inst,
            continue: !def.abort,
        });
    };
})));
//////////////////////////////   ZodIBAN   //////////////////////////////
// iso 7064 mod 97-10 checksum without BigInt
function isIso7064Mod97(iban) {
    let remainder = 0;
    const len = iban.length;
    for (let i = 4; i < len; i++) {
        const code = iban.charCodeAt(i);
        remainder = (code >= 65 ? remainder * 100 + (code - 55) : remainder * 10 + (code - 48)) % 97;
    }
    for (let i = 0; i < 4; i++) {
        const code = iban.charCodeAt(i);
        remainder = (code >= 65 ? remainder * 100 + (code - 55) : remainder * 10 + (code - 48)) % 97;
    }
    return remainder === 1;
}
function isValidIBAN(input) {
    if (!regexes.iban.test(input))
        return false;
    return isIso7064Mod97(input);
}
const $ZodIBAN = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodIBAN", (inst, def) => {
    // shape only — checksum is not expressible as a pattern
    def.pattern ?? (def.pattern = regexes.iban);
    $ZodStringFormat.init(inst, def);
    inst._zod.check = (payload) => {
        if (isValidIBAN(payload.value))
            return;
        payload.issues.push({
            code: "invalid_format",
            format: "iban",
            input: payload.value,
            inst,
            continue: !def.abort,
        });
    };
})));
//////////////////////////////   ZodJWT   //////////////////////////////
function isValidJWT(token, algorithm = null) {
    try {
        const tokensParts = token.split(".");
        if (tokensParts.length !== 3)
            return false;
        const [header] = tokensParts;
        if (!header)
            return false;
        // @ts-ignore
        const parsedHeader = JSON.parse(atob(header));
        if ("typ" in parsedHeader && parsedHeader?.typ !== "JWT")
            return false;
        if (!parsedHeader.alg)
            return false;
        if (algorithm && (!("alg" in parsedHeader) || parsedHeader.alg !== algorithm))
            return false;
        return true;
    }
    catch {
        return false;
    }
}
const $ZodJWT = /*@__PURE__*/ $constructor("$ZodJWT", (inst, def) => {
    $ZodStringFormat.init(inst, def);
    inst._zod.check = (payload) => {
        if (isValidJWT(payload.value, def.alg))
            return;
        payload.issues.push({
            code: "invalid_format",
            format: "jwt",
            input: payload.value,
            inst,
            continue: !def.abort,
        });
    };
});
const $ZodCustomStringFormat = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodCustomStringFormat", (inst, def) => {
    $ZodStringFormat.init(inst, def);
    inst._zod.check = (payload) => {
        if (def.fn(payload.value))
            return;
        payload.issues.push({
            code: "invalid_format",
            format: def.format,
            input: payload.value,
            inst,
            continue: !def.abort,
        });
    };
})));
const $ZodNumber = /*@__PURE__*/ $constructor("$ZodNumber", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.pattern = number;
    inst._zod.parse = (payload, _ctx) => {
        if (def.coerce)
            try {
                payload.value = Number(payload.value);
            }
            catch (_) { }
        const input = payload.value;
        if (typeof input === "number" && !Number.isNaN(input) && Number.isFinite(input)) {
            return payload;
        }
        const received = typeof input === "number"
            ? Number.isNaN(input)
                ? "NaN"
                : !Number.isFinite(input)
                    ? String(input)
                    : undefined
            : undefined;
        payload.issues.push({
            expected: "number",
            code: "invalid_type",
            input,
            inst,
            ...(received ? { received } : {}),
        });
        return payload;
    };
});
const $ZodNumberFormat = /*@__PURE__*/ $constructor("$ZodNumberFormat", (inst, def) => {
    $ZodCheckNumberFormat.init(inst, def);
    $ZodNumber.init(inst, def); // no format checks
});
const $ZodBoolean = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodBoolean", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.pattern = regexes.boolean;
    inst._zod.parse = (payload, _ctx) => {
        if (def.coerce)
            try {
                payload.value = Boolean(payload.value);
            }
            catch (_) { }
        const input = payload.value;
        if (typeof input === "boolean")
            return payload;
        payload.issues.push({
            expected: "boolean",
            code: "invalid_type",
            input,
            inst,
        });
        return payload;
    };
})));
const $ZodBigInt = /*@__PURE__*/ $constructor("$ZodBigInt", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.pattern = bigint;
    inst._zod.parse = (payload, _ctx) => {
        if (def.coerce)
            try {
                payload.value = BigInt(payload.value);
            }
            catch (_) { }
        if (typeof payload.value === "bigint")
            return payload;
        payload.issues.push({
            expected: "bigint",
            code: "invalid_type",
            input: payload.value,
            inst,
        });
        return payload;
    };
});
const $ZodBigIntFormat = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodBigIntFormat", (inst, def) => {
    checks.$ZodCheckBigIntFormat.init(inst, def);
    $ZodBigInt.init(inst, def); // no format checks
})));
const $ZodSymbol = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodSymbol", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.parse = (payload, _ctx) => {
        const input = payload.value;
        if (typeof input === "symbol")
            return payload;
        payload.issues.push({
            expected: "symbol",
            code: "invalid_type",
            input,
            inst,
        });
        return payload;
    };
})));
const $ZodUndefined = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodUndefined", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.pattern = regexes.undefined;
    inst._zod.values = new Set([undefined]);
    inst._zod.parse = (payload, _ctx) => {
        const input = payload.value;
        if (typeof input === "undefined")
            return payload;
        payload.issues.push({
            expected: "undefined",
            code: "invalid_type",
            input,
            inst,
        });
        return payload;
    };
})));
const $ZodNull = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodNull", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.pattern = regexes.null;
    inst._zod.values = new Set([null]);
    inst._zod.parse = (payload, _ctx) => {
        const input = payload.value;
        if (input === null)
            return payload;
        payload.issues.push({
            expected: "null",
            code: "invalid_type",
            input,
            inst,
        });
        return payload;
    };
})));
const $ZodAny = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodAny", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.parse = (payload) => payload;
})));
const $ZodUnknown = /*@__PURE__*/ $constructor("$ZodUnknown", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.parse = (payload) => payload;
});
const $ZodNever = /*@__PURE__*/ $constructor("$ZodNever", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.parse = (payload, _ctx) => {
        payload.issues.push({
            expected: "never",
            code: "invalid_type",
            input: payload.value,
            inst,
        });
        return payload;
    };
});
const $ZodVoid = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodVoid", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.parse = (payload, _ctx) => {
        const input = payload.value;
        if (typeof input === "undefined")
            return payload;
        payload.issues.push({
            expected: "void",
            code: "invalid_type",
            input,
            inst,
        });
        return payload;
    };
})));
const $ZodDate = /*@__PURE__*/ $constructor("$ZodDate", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.parse = (payload, _ctx) => {
        if (def.coerce) {
            try {
                payload.value = new Date(payload.value);
            }
            catch (_err) { }
        }
        const input = payload.value;
        const isDate = input instanceof Date;
        const isValidDate = isDate && !Number.isNaN(input.getTime());
        if (isValidDate)
            return payload;
        payload.issues.push({
            expected: "date",
            code: "invalid_type",
            input,
            ...(isDate ? { received: "Invalid Date" } : {}),
            inst,
        });
        return payload;
    };
});
// an oversized container fails its leading size checks before any element is parsed
function capSize(inst, size) {
    const caps = sizeCaps(inst._zod.def.checks);
    if (!caps.length)
        return;
    const cap = Math.min(...caps.map((c) => c[0]));
    const parse = inst._zod.parse;
    inst._zod.parse = (payload, ctx) => {
        const n = size(payload.value);
        if (n > cap && !ctx?.skipChecks && ctx?.direction !== "backward") {
            for (const [max, ch] of sizeCaps(inst._zod.def.checks)) {
                if (n > max && ch._zod.def.when(payload)) {
                    const start = payload.issues.length;
                    ch._zod.check(payload);
                    // the value is still the raw input, so no later check may read it
                    payload.issues[start].continue = false;
                    attachSchema(payload.issues, start, inst);
                    return payload;
                }
            }
        }
        return parse(payload, ctx);
    };
}
const arraySize = (input) => (Array.isArray(input) ? input.length : -1);
const mapSize = (input) => (input instanceof Map ? input.size : -1);
const setSize = (input) => (input instanceof Set ? input.size : -1);
function handleArrayResult(result, final, index) {
    if (result.issues.length) {
        final.issues.push(...prefixIssues(index, result.issues));
    }
    final.value[index] = result.value;
}
const $ZodArray = /*@__PURE__*/ $constructor("$ZodArray", (inst, def) => {
    $ZodType.init(inst, def);
    const memo = globalConfig.memoizer;
    memo?.attach(inst);
    inst._zod.parse = (payload, ctx) => {
        const input = payload.value;
        if (!Array.isArray(input)) {
            payload.issues.push({
                expected: "array",
                code: "invalid_type",
                input,
                inst,
            });
            return payload;
        }
        payload.value = memo ? memo.alloc(inst, payload, Array(input.length), ctx) : Array(input.length);
        const proms = [];
        const abortEarly = ctx?.abortEarly;
        for (let i = 0; i < input.length; i++) {
            const item = input[i];
            const result = def.element._zod.run({
                value: item,
                issues: [],
            }, ctx);
            if (result instanceof Promise) {
                proms.push(result.then((result) => handleArrayResult(result, payload, i)));
            }
            else {
                handleArrayResult(result, payload, i);
                // the element's payload is authoritative here, since handleArrayResult forwards every issue; an object's is not, because it drops a failed absent optional
                if (abortEarly && result.issues.length !== 0 && aborted(result))
                    break;
            }
        }
        if (proms.length) {
            return Promise.all(proms).then(() => payload);
        }
        return payload; //handleArrayResultsAsync(parseResults, final);
    };
    capSize(inst, arraySize);
});
function handlePropertyResult(result, final, key, input, optin, optout) {
    const isPresent = key in input;
    const isOptionalOut = optout === "optional";
    // The middle rung means "absence permitted, nothing supplied in its place", so an absent key contributes nothing — whatever the schema made of `undefined` is invented, not substituted. Only `optional` reaches this with a value: `defaulted` substitutes, and a schema that isn't optional-out has to keep the key.
    if (!isPresent && isOptionalOut && optin === "optional") {
        return;
    }
    if (result.issues.length) {
        // For optional-in/out schemas, ignore errors on absent keys.
        if (optin !== undefined && isOptionalOut && !isPresent) {
            return;
        }
        final.issues.push(...prefixIssues(key, result.issues));
    }
    if (!isPresent && optin === undefined) {
        if (!result.issues.length) {
            final.issues.push({
                code: "invalid_type",
                expected: "nonoptional",
                input: undefined,
                path: [key],
            });
        }
        return;
    }
    if (result.value === undefined) {
        if (isPresent || (optin === "defaulted" && !isOptionalOut)) {
            final.value[key] = undefined;
        }
    }
    else {
        final.value[key] = result.value;
    }
}
// one shared instance; a fresh [] per schema cost 56 bytes retained
const NO_SYMBOL_KEYS = [];
function normalizeDef(def) {
    const keys = Object.keys(def.shape);
    const ownSymbols = Object.getOwnPropertySymbols(def.shape);
    const symbolKeys = ownSymbols.length ? ownSymbols : NO_SYMBOL_KEYS;
    // aliases `keys` when there are no symbols, so a string-only shape keeps one array
    const allKeys = symbolKeys.length ? [...keys, ...symbolKeys] : keys;
    for (const k of allKeys) {
        if (!def.shape?.[k]?._zod?.traits?.has("$ZodType")) {
            throw new Error(`Invalid element at key "${String(k)}": expected a Zod schema`);
        }
    }
    const okeys = optionalKeys(def.shape);
    return {
        ...def,
        allKeys,
        symbolKeys,
        // string-only: handleCatchall matches it against `for...in`, which never yields a symbol
        keySet: new Set(keys),
        numKeys: keys.length,
        optionalKeys: new Set(okeys),
    };
}
function handleCatchall(proms, input, payload, ctx, def, inst, abortEarly) {
    const unrecognized = [];
    const keySet = def.keySet;
    const _catchall = def.catchall._zod;
    const t = _catchall.def.type;
    const optin = _catchall.optin;
    const optout = _catchall.optout;
    // starts at 0, not the current length: the shape phase already ran and may have aborted
    let seen = 0;
    for (const key in input) {
        if (abortEarly && payload.issues.length !== seen) {
            if (aborted(payload, seen))
                break;
            seen = payload.issues.length;
        }
        // Must precede the __proto__ branch: a declared key is not unrecognized, even though the shape loop deliberately strips __proto__ from the parsed output.
        if (keySet.has(key))
            continue;
        // Don't copy an undeclared __proto__ into the result; assignment to a plain {} would replace the result prototype. But in strict mode it is still an unknown key, so report it before skipping.
        if (key === "__proto__") {
            if (t === "never")
                unrecognized.push(key);
            continue;
        }
        if (t === "never") {
            unrecognized.push(key);
            continue;
        }
        const r = _catchall.run({ value: input[key], issues: [] }, ctx);
        if (r instanceof Promise) {
            proms.push(r.then((r) => handlePropertyResult(r, payload, key, input, optin, optout)));
        }
        else {
            handlePropertyResult(r, payload, key, input, optin, optout);
        }
    }
    if (unrecognized.length) {
        payload.issues.push({
            code: "unrecognized_keys",
            keys: unrecognized,
            input,
            inst,
            // Describes the shape of the input, not the validity of the parsed value, so it never aborts. The parse still fails; the schema's own checks just get to run first, and an enclosing intersection can reconcile the key against a sibling operand.
            continue: true,
        });
    }
    if (!proms.length)
        return payload;
    return Promise.all(proms).then(() => {
        return payload;
    });
}
const $ZodObject = /*@__PURE__*/ $constructor("$ZodObject", (inst, def) => {
    // requires cast because technically $ZodObject doesn't extend
    $ZodType.init(inst, def);
    const desc = Object.getOwnPropertyDescriptor(def, "shape");
    // a cloned def carries its source's accessor, which knows the shape it answers from; adopting that keeps the clone's keys readable without running it
    const sh = desc?.get ? desc.get.raw : (def.shape ?? {});
    if (sh) {
        // Freezes the shape on first read, so its getters resolve once and every later read sees the same schemas.
        const get = () => {
            const newSh = { ...sh };
            Object.defineProperty(def, "shape", { value: newSh });
            get.raw = newSh;
            return newSh;
        };
        get.raw = sh;
        Object.defineProperty(def, "shape", { get });
    }
    const _normalized = cached(() => normalizeDef(def));
    defineLazyInternal(inst, "propValues", (zod) => {
        const shape = zod.def.shape;
        const propValues = {};
        for (const key in shape) {
            const field = shape[key]._zod;
            if (field.values) {
                if (!Object.prototype.hasOwnProperty.call(propValues, key)) {
                    util_assignProp(propValues, key, new Set());
                }
                for (const v of field.values)
                    propValues[key].add(v);
                // An omittable slot reads back as undefined at a discriminator lookup, so it has to claim undefined: two options that can both omit the key are not discriminable on it.
                if (field.optin !== undefined)
                    propValues[key].add(undefined);
            }
        }
        return propValues;
    });
    const isObject = util_isObject;
    const catchall = def.catchall;
    let value;
    const memo = globalConfig.memoizer;
    memo?.attach(inst);
    inst._zod.parse = (payload, ctx) => {
        value ?? (value = _normalized.value);
        const input = payload.value;
        if (!isObject(input)) {
            payload.issues.push({
                expected: "object",
                code: "invalid_type",
                input,
                inst,
            });
            return payload;
        }
        payload.value = memo ? memo.alloc(inst, payload, {}, ctx) : {};
        const proms = [];
        const shape = value.shape;
        const abortEarly = ctx?.abortEarly;
        let seen = payload.issues.length;
        for (const key of value.allKeys) {
            if (abortEarly && payload.issues.length !== seen) {
                if (aborted(payload, seen))
                    break;
                seen = payload.issues.length;
            }
            if (key === "__proto__")
                continue;
            const el = shape[key];
            const optin = el._zod.optin;
            const optout = el._zod.optout;
            const r = el._zod.run({ value: input[key], issues: [] }, ctx);
            if (r instanceof Promise) {
                proms.push(r.then((r) => handlePropertyResult(r, payload, key, input, optin, optout)));
            }
            else {
                handlePropertyResult(r, payload, key, input, optin, optout);
            }
        }
        if (!catchall) {
            return proms.length ? Promise.all(proms).then(() => payload) : payload;
        }
        return handleCatchall(proms, input, payload, ctx, _normalized.value, inst, abortEarly === true);
    };
});
const $ZodObjectJIT = /*@__PURE__*/ $constructor("$ZodObjectJIT", (inst, def) => {
    // requires cast because technically $ZodObject doesn't extend
    $ZodObject.init(inst, def);
    const superParse = inst._zod.parse;
    const _normalized = cached(() => normalizeDef(def));
    const memo = globalConfig.memoizer;
    const generateFastpass = (shape) => {
        const normalized = _normalized.value;
        const syms = normalized.symbolKeys;
        // a symbol has no source literal, so it is read as `syms[i]` off the closed-over scope
        const doc = new Doc(["payload", "ctx"], { shape, inst, memo, syms });
        const parseStr = (k) => `shape[${k}]._zod.run({ value: input[${k}], issues: [] }, ctx)`;
        // prefixes in place, like util.prefixIssues. newResult must land before the early return: a catchall runs after this and would otherwise write onto the caller's input
        const prefixStr = (id, k) => `
          let ${id}_ab = false;
          for (let i = 0; i < ${id}.issues.length; i++) {
            const iss = ${id}.issues[i];
            iss.path = iss.path ? [${k}, ...iss.path] : [${k}];
            payload.issues.push(iss);
            if (iss.continue !== true) ${id}_ab = true;
          }
          if (${id}_ab && ctx && ctx.abortEarly) {
            payload.value = newResult;
            return payload;
          }`;
        doc.write(`const input = payload.value;`);
        const ids = Object.create(null);
        let counter = 0;
        for (const key of normalized.allKeys) {
            ids[key] = `key_${counter++}`;
        }
        // A: preserve key order {
        doc.write(memo ? `const newResult = memo.alloc(inst, payload, {}, ctx);` : `const newResult = {};`);
        for (const key of normalized.allKeys) {
            if (key === "__proto__")
                continue;
            const id = ids[key];
            const k = typeof key === "symbol" ? `syms[${syms.indexOf(key)}]` : esc(key);
            const isPresent = `${k} in input`;
            const schema = shape[key];
            const optin = schema?._zod?.optin;
            const isOptionalIn = optin !== undefined;
            const isOptionalOut = schema?._zod?.optout === "optional";
            doc.write(`const ${id} = ${parseStr(k)};`);
            if (isOptionalIn && isOptionalOut) {
                // For optional-in/out schemas, ignore errors on absent keys — and, like the interpreted path, drop the value produced alongside them. The middle rung goes further: it permits absence without supplying anything in its place, so an absent key contributes nothing at all.
                const assign = optin === "optional" ? `${id}_present` : `${id}.value !== undefined || ${id}_present`;
                doc.write(`
        const ${id}_present = ${isPresent};
        if (!${id}.issues.length || ${id}_present) {
          if (${id}.issues.length) {${prefixStr(id, k)}
          }

          if (${assign}) {
            newResult[${k}] = ${id}.value;
          }
        }

      `);
            }
            else if (!isOptionalIn) {
                doc.write(`
        const ${id}_present = ${isPresent};
        if (${id}.issues.length) {${prefixStr(id, k)}
        }
        if (!${id}_present && !${id}.issues.length) {
          payload.issues.push({
            code: "invalid_type",
            expected: "nonoptional",
            input: undefined,
            path: [${k}]
          });
          if (ctx && ctx.abortEarly) {
            payload.value = newResult;
            return payload;
          }
        }

        if (${id}_present) {
          newResult[${k}] = ${id}.value;
        }

      `);
            }
            else {
                doc.write(`
        if (${id}.issues.length) {${prefixStr(id, k)}
        }
      `);
                if (optin === "defaulted") {
                    doc.write(`newResult[${k}] = ${id}.value;`);
                }
                else {
                    doc.write(`
        if (${id}.value !== undefined || ${isPresent}) {
          newResult[${k}] = ${id}.value;
        }
      `);
                }
            }
        }
        doc.write(`payload.value = newResult;`);
        doc.write(`return payload;`);
        // closing `shape` in is what pays: turbofan specializes the parser against that one shape object, so every `shape[k]._zod.run` folds to a known callee. as a parameter it stays a generic load and measures 13% slower even with the forwarding frame gone
        return doc.compile();
    };
    let fastpass;
    const isObject = util_isObject;
    const jit = !globalConfig.jitless;
    const allowsEval = util_allowsEval;
    const fastEnabled = jit && allowsEval.value; // && !def.catchall;
    const catchall = def.catchall;
    let value;
    inst._zod.parse = (payload, ctx) => {
        value ?? (value = _normalized.value);
        const input = payload.value;
        if (!isObject(input)) {
            payload.issues.push({
                expected: "object",
                code: "invalid_type",
                input,
                inst,
            });
            return payload;
        }
        if (jit && fastEnabled && ctx?.async === false && ctx.jitless !== true) {
            // always synchronous
            if (!fastpass)
                fastpass = generateFastpass(def.shape);
            payload = fastpass(payload, ctx);
            if (!catchall)
                return payload;
            return handleCatchall([], input, payload, ctx, value, inst, ctx?.abortEarly === true);
        }
        return superParse(payload, ctx);
    };
});
function handleUnionResults(results, final, inst, ctx) {
    for (const result of results) {
        if (result.issues.length === 0) {
            final.value = result.value;
            return final;
        }
    }
    const nonaborted = results.filter((r) => !aborted(r));
    if (nonaborted.length === 1) {
        final.value = nonaborted[0].value;
        return nonaborted[0];
    }
    final.issues.push({
        code: "invalid_union",
        input: final.value,
        inst,
        errors: results.map((result) => result.issues.map((iss) => finalizeIssue(iss, ctx, config()))),
    });
    return final;
}
const $ZodUnion = /*@__PURE__*/ $constructor("$ZodUnion", (inst, def) => {
    $ZodType.init(inst, def);
    defineLazyInternal(inst, "optin", (zod) => zod.def.options.some((o) => o._zod.optin === "defaulted")
        ? "defaulted"
        : zod.def.options.some((o) => o._zod.optin !== undefined)
            ? "optional"
            : undefined);
    defineLazyInternal(inst, "optout", (zod) => zod.def.options.some((o) => o._zod.optout === "optional") ? "optional" : undefined);
    defineLazyInternal(inst, "values", (zod) => {
        if (zod.def.options.every((o) => o._zod.values)) {
            return new Set(zod.def.options.flatMap((option) => Array.from(option._zod.values)));
        }
        return undefined;
    });
    defineLazyInternal(inst, "pattern", (zod) => {
        if (zod.def.options.every((o) => o._zod.pattern)) {
            const patterns = zod.def.options.map((o) => o._zod.pattern);
            return new RegExp(`^(${patterns.map((p) => cleanRegex(p.source)).join("|")})$`);
        }
        return undefined;
    });
    const first = def.options.length === 1 ? def.options[0]._zod.run : null;
    inst._zod.parse = (payload, ctx) => {
        if (first) {
            return first(payload, ctx);
        }
        let async = false;
        const results = [];
        for (const option of def.options) {
            const result = option._zod.run({
                value: payload.value,
                issues: [],
            }, ctx);
            if (result instanceof Promise) {
                results.push(result);
                async = true;
            }
            else {
                if (result.issues.length === 0)
                    return result;
                results.push(result);
            }
        }
        if (!async)
            return handleUnionResults(results, payload, inst, ctx);
        return Promise.all(results).then((results) => {
            return handleUnionResults(results, payload, inst, ctx);
        });
    };
});
function handleExclusiveUnionResults(results, final, inst, ctx) {
    const matches = [];
    for (let i = 0; i < results.length; i++) {
        if (results[i].issues.length === 0)
            matches.push(i);
    }
    if (matches.length === 1) {
        final.value = results[matches[0]].value;
        return final;
    }
    if (matches.length === 0) {
        // No matches - same as regular union
        final.issues.push({
            code: "invalid_union",
            input: final.value,
            inst,
            errors: results.map((result) => result.issues.map((iss) => util.finalizeIssue(iss, ctx, core.config()))),
        });
    }
    else {
        // Multiple matches - exclusive union failure
        final.issues.push({
            code: "invalid_union",
            input: final.value,
            inst,
            errors: [],
            inclusive: false,
            matches,
        });
    }
    return final;
}
const $ZodXor = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodXor", (inst, def) => {
    $ZodUnion.init(inst, def);
    def.inclusive = false;
    const first = def.options.length === 1 ? def.options[0]._zod.run : null;
    inst._zod.parse = (payload, ctx) => {
        if (first) {
            return first(payload, ctx);
        }
        let async = false;
        const results = [];
        for (const option of def.options) {
            const result = option._zod.run({
                value: payload.value,
                issues: [],
            }, ctx);
            if (result instanceof Promise) {
                results.push(result);
                async = true;
            }
            else {
                results.push(result);
            }
        }
        if (!async)
            return handleExclusiveUnionResults(results, payload, inst, ctx);
        return Promise.all(results).then((results) => {
            return handleExclusiveUnionResults(results, payload, inst, ctx);
        });
    };
})));
/** Returns the option whose discriminator claims `value`, or throws if ambiguous. */
function getDiscriminatedOption(union, value) {
    const internals = union._zod;
    let map = internals.bag.optionsMap;
    if (!map) {
        map = discriminatorMap(internals.def);
        internals.bag.optionsMap = map;
    }
    const option = map.get(value);
    if (option === null)
        throw new Error(`Ambiguous discriminator value "${String(value)}"`);
    return option;
}
function discriminatorMap(def) {
    const map = new Map();
    for (const option of def.options) {
        const values = option._zod.propValues?.[def.discriminator];
        if (!values || values.size === 0)
            throw new Error(`Invalid discriminated union option at index "${def.options.indexOf(option)}"`);
        for (const value of values) {
            if (map.has(value)) {
                if (value !== undefined)
                    throw new Error(`Duplicate discriminator value "${String(value)}"`);
                // keep the collision marked so a later member cannot reclaim it
                map.set(value, null);
            }
            else {
                map.set(value, option);
            }
        }
    }
    return map;
}
const $ZodDiscriminatedUnion = 
/*@__PURE__*/
(/* unused pure expression or super */ null && (core.$constructor("$ZodDiscriminatedUnion", (inst, def) => {
    def.inclusive = false;
    $ZodUnion.init(inst, def);
    const _super = inst._zod.parse;
    util.defineLazyInternal(inst, "propValues", (zod) => {
        const propValues = {};
        let undefinedCount = 0;
        for (const option of zod.def.options) {
            const pv = option._zod.propValues;
            if (!pv || Object.keys(pv).length === 0)
                throw new Error(`Invalid discriminated union option at index "${zod.def.options.indexOf(option)}"`);
            if (pv[zod.def.discriminator]?.has(undefined))
                undefinedCount++;
            for (const [k, v] of Object.entries(pv)) {
                if (!Object.prototype.hasOwnProperty.call(propValues, k)) {
                    util.assignProp(propValues, k, new Set());
                }
                for (const val of v) {
                    propValues[k].add(val);
                }
            }
        }
        if (!zod.def.unionFallback && undefinedCount > 1)
            propValues[zod.def.discriminator]?.delete(undefined);
        return propValues;
    });
    // Checked now rather than in the lookup map below, so an option that lacks the discriminator fails at the `discriminatedUnion` call instead of on the first object parsed. Options whose shape cannot be enumerated without resolving it — pipes and lazies — are left to the map.
    def.options.forEach((option, i) => {
        const propShape = util.rawShape(option._zod.def);
        if (propShape && !Object.prototype.hasOwnProperty.call(propShape, def.discriminator)) {
            throw new Error(`Invalid discriminated union option at index "${i}"`);
        }
    });
    const disc = util.cached(() => discriminatorMap(def));
    inst._zod.parse = (payload, ctx) => {
        const input = payload.value;
        if (!util.isObject(input)) {
            payload.issues.push({
                code: "invalid_type",
                expected: "object",
                input,
                inst,
            });
            return payload;
        }
        const value = input?.[def.discriminator];
        const opt = disc.value.get(value);
        // forward metadata cannot choose an encoder for an absent tag
        if (opt && (value !== undefined || ctx.direction !== "backward")) {
            return opt._zod.run(payload, ctx);
        }
        // Fall back to union matching when the fast discriminator path fails:
        // - explicitly enabled via unionFallback, or
        // - during backward direction (encode), since codec-based discriminators have different values in forward vs backward directions
        if (def.unionFallback || ctx.direction === "backward") {
            return _super(payload, ctx);
        }
        // no matching discriminator
        payload.issues.push({
            code: "invalid_union",
            errors: [],
            note: "No matching discriminator",
            discriminator: def.discriminator,
            options: Array.from(disc.value.keys()).filter((value) => disc.value.get(value) !== null),
            input,
            path: [def.discriminator],
            inst,
        });
        return payload;
    };
})));
const $ZodIntersection = /*@__PURE__*/ $constructor("$ZodIntersection", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.parse = (payload, ctx) => {
        const input = payload.value;
        const left = def.left._zod.run({ value: input, issues: [] }, ctx);
        const right = def.right._zod.run({ value: input, issues: [] }, ctx);
        const async = left instanceof Promise || right instanceof Promise;
        if (async) {
            return Promise.all([left, right]).then(([left, right]) => {
                return handleIntersectionResults(payload, left, right);
            });
        }
        return handleIntersectionResults(payload, left, right);
    };
});
function mergeValues(a, b) {
    // const aType = parse.t(a);
    // const bType = parse.t(b);
    if (a === b) {
        return { valid: true, data: a };
    }
    if (a instanceof Date && b instanceof Date && +a === +b) {
        return { valid: true, data: a };
    }
    if (isPlainObject(a) && isPlainObject(b)) {
        const bKeys = Object.keys(b);
        const sharedKeys = Object.keys(a).filter((key) => bKeys.indexOf(key) !== -1);
        const newObj = { ...a, ...b };
        if (Object.prototype.hasOwnProperty.call(newObj, "__proto__"))
            delete newObj.__proto__;
        for (const key of sharedKeys) {
            if (key === "__proto__")
                continue;
            const sharedValue = mergeValues(a[key], b[key]);
            if (!sharedValue.valid) {
                return {
                    valid: false,
                    mergeErrorPath: [key, ...sharedValue.mergeErrorPath],
                };
            }
            newObj[key] = sharedValue.data;
        }
        return { valid: true, data: newObj };
    }
    if (Array.isArray(a) && Array.isArray(b)) {
        if (a.length !== b.length) {
            return { valid: false, mergeErrorPath: [] };
        }
        const newArray = [];
        for (let index = 0; index < a.length; index++) {
            const itemA = a[index];
            const itemB = b[index];
            const sharedValue = mergeValues(itemA, itemB);
            if (!sharedValue.valid) {
                return {
                    valid: false,
                    mergeErrorPath: [index, ...sharedValue.mergeErrorPath],
                };
            }
            newArray.push(sharedValue.data);
        }
        return { valid: true, data: newArray };
    }
    return { valid: false, mergeErrorPath: [] };
}
function handleIntersectionResults(result, left, right) {
    // Track which side(s) reject each key. A key rejection is reported only when BOTH sides reject it, so a key owned by one branch survives the other's key schema. strictObject reports these as unrecognized_keys; a record with an open key schema reports one invalid_key per key.
    const unrecKeys = new Map();
    let unrecIssue;
    const keyIssues = new Map();
    const collect = (iss, side) => {
        let keys;
        if (iss.code === "unrecognized_keys" && !iss.path?.length) {
            unrecIssue ?? (unrecIssue = iss);
            keys = iss.keys;
        }
        else if (iss.code === "invalid_key" && iss.origin === "record" && iss.path?.length === 1) {
            const k = String(iss.path[0]);
            if (!keyIssues.has(k))
                keyIssues.set(k, iss);
            keys = [k];
        }
        else {
            return false;
        }
        for (const k of keys) {
            if (!unrecKeys.has(k))
                unrecKeys.set(k, {});
            unrecKeys.get(k)[side] = true;
        }
        return true;
    };
    for (const iss of left.issues) {
        if (!collect(iss, "l"))
            result.issues.push(iss);
    }
    for (const iss of right.issues) {
        if (!collect(iss, "r"))
            result.issues.push(iss);
    }
    // Report only keys rejected by BOTH sides
    const bothKeys = [...unrecKeys].filter(([, f]) => f.l && f.r).map(([k]) => k);
    if (bothKeys.length) {
        const aggregated = unrecIssue ? bothKeys.filter((k) => unrecIssue.keys.includes(k)) : [];
        if (aggregated.length)
            result.issues.push({ ...unrecIssue, keys: aggregated });
        for (const k of bothKeys) {
            if (!aggregated.includes(k) && keyIssues.has(k))
                result.issues.push(keyIssues.get(k));
        }
    }
    const merged = mergeValues(left.value, right.value);
    if (!merged.valid) {
        if (aborted(result))
            return result;
        throw new Error(`Unmergable intersection. Error path: ` + `${JSON.stringify(merged.mergeErrorPath)}`);
    }
    result.value = merged.data;
    return result;
}
const $ZodTuple = /*@__PURE__*/ $constructor("$ZodTuple", (inst, def) => {
    $ZodType.init(inst, def);
    const items = def.items;
    const memo = globalConfig.memoizer;
    memo?.attach(inst);
    inst._zod.parse = (payload, ctx) => {
        const input = payload.value;
        if (!Array.isArray(input)) {
            payload.issues.push({
                input,
                inst,
                expected: "tuple",
                code: "invalid_type",
            });
            return payload;
        }
        payload.value = memo ? memo.alloc(inst, payload, [], ctx) : [];
        const proms = [];
        const optinStart = getTupleOptStart(items, "optin");
        const optoutStart = getTupleOptStart(items, "optout");
        if (!def.rest) {
            if (input.length < optinStart) {
                payload.issues.push({
                    code: "too_small",
                    minimum: optinStart,
                    inclusive: true,
                    input,
                    inst,
                    origin: "array",
                });
                return payload;
            }
            if (input.length > items.length) {
                payload.issues.push({
                    code: "too_big",
                    maximum: items.length,
                    inclusive: true,
                    input,
                    inst,
                    origin: "array",
                });
            }
        }
        // Run every item in parallel, collecting results into an indexed array. The post-processing in `handleTupleResults` walks them in order so it can decide whether an absent optional-output error can truncate the tail or must be reported to preserve required output.
        const itemResults = new Array(items.length);
        // only tracked when there is a rest loop to skip
        const abortEarly = def.rest ? ctx?.abortEarly : undefined;
        let itemAborted = false;
        for (let i = 0; i < items.length; i++) {
            const r = items[i]._zod.run({ value: input[i], issues: [] }, ctx);
            if (r instanceof Promise) {
                proms.push(r.then((rr) => {
                    itemResults[i] = rr;
                }));
            }
            else {
                itemResults[i] = r;
                if (abortEarly && !itemAborted && r.issues.length)
                    itemAborted = aborted(r);
            }
        }
        // sound because rest is non-empty exactly when every fixed index is present, the one case handleTupleResults cannot discard an item's issues
        if (def.rest && !itemAborted) {
            let i = items.length - 1;
            const rest = input.slice(items.length);
            let seen = payload.issues.length;
            for (const el of rest) {
                if (abortEarly && payload.issues.length !== seen) {
                    if (aborted(payload, seen))
                        break;
                    seen = payload.issues.length;
                }
                i++;
                const result = def.rest._zod.run({ value: el, issues: [] }, ctx);
                if (result instanceof Promise) {
                    proms.push(result.then((r) => handleTupleResult(r, payload, i)));
                }
                else {
                    handleTupleResult(result, payload, i);
                }
            }
        }
        if (proms.length) {
            return Promise.all(proms).then(() => handleTupleResults(itemResults, payload, items, input, optoutStart));
        }
        return handleTupleResults(itemResults, payload, items, input, optoutStart);
    };
});
function getTupleOptStart(items, key) {
    for (let i = items.length - 1; i >= 0; i--) {
        // optin is a three-rung ladder so any rung above `undefined` permits an absent slot; optout stays two-valued.
        const omittable = key === "optin" ? items[i]._zod.optin !== undefined : items[i]._zod.optout === "optional";
        if (!omittable)
            return i + 1;
    }
    return 0;
}
function handleTupleResult(result, final, index) {
    if (result.issues.length) {
        final.issues.push(...prefixIssues(index, result.issues));
    }
    final.value[index] = result.value;
}
function handleTupleResults(itemResults, final, items, input, optoutStart) {
    // Walk results in order. Mirror $ZodObject's swallow-on-absent-optional rule, but only after `optoutStart`: the first index where the output tuple tail can be absent.
    for (let i = 0; i < items.length; i++) {
        const r = itemResults[i];
        const isPresent = i < input.length;
        // The array analog of `handlePropertyResult`'s absent-key early return: the middle rung permits absence without supplying anything in its place, so the tail truncates here instead of materializing whatever the item made of `undefined`.
        if (!isPresent && i >= optoutStart && items[i]._zod.optin === "optional") {
            final.value.length = i;
            break;
        }
        if (r.issues.length) {
            if (!isPresent && i >= optoutStart) {
                final.value.length = i;
                break;
            }
            final.issues.push(...prefixIssues(i, r.issues));
        }
        final.value[i] = r.value;
    }
    // Drop trailing slots that produced `undefined` for absent input
    // (the array analog of an absent optional key on an object). The
    // `i >= input.length` floor is critical: an explicit `undefined`
    // *inside* the input must be preserved even when the schema is
    // optional-out (e.g. `z.string().or(z.undefined())` accepting an
    // explicit undefined value).
    for (let i = final.value.length - 1; i >= input.length; i--) {
        if (items[i]._zod.optout === "optional" && final.value[i] === undefined) {
            final.value.length = i;
        }
        else {
            break;
        }
    }
    return final;
}
const $ZodRecord = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodRecord", (inst, def) => {
    $ZodType.init(inst, def);
    const memo = core.globalConfig.memoizer;
    memo?.attach(inst);
    inst._zod.parse = (payload, ctx) => {
        const input = payload.value;
        if (!util.isPlainObject(input)) {
            payload.issues.push({
                expected: "record",
                code: "invalid_type",
                input,
                inst,
            });
            return payload;
        }
        // no guard in either loop below: a record's invalid_key aborts but an enclosing intersection can reconcile it, so a stopped loop hides keys the sibling does not own and the intersection then rejects nothing
        const proms = [];
        const values = def.keyType._zod.values;
        if (values && !def.partial) {
            payload.value = memo ? memo.alloc(inst, payload, {}, ctx) : {};
            const recordKeys = new Set();
            for (const key of values) {
                if (typeof key === "string" || typeof key === "number" || typeof key === "symbol") {
                    recordKeys.add(typeof key === "number" ? key.toString() : key);
                    // A declared __proto__ is stripped but is not an unrecognized key.
                    if (key === "__proto__")
                        continue;
                    const keyResult = def.keyType._zod.run({ value: key, issues: [] }, ctx);
                    if (keyResult instanceof Promise) {
                        throw new Error("Async schemas not supported in object keys currently");
                    }
                    if (keyResult.issues.length) {
                        payload.issues.push({
                            code: "invalid_key",
                            origin: "record",
                            issues: keyResult.issues.map((iss) => util.finalizeIssue(iss, ctx, core.config())),
                            input: key,
                            path: [key],
                            inst,
                        });
                        continue;
                    }
                    const outKey = keyResult.value;
                    if (outKey === "__proto__")
                        continue;
                    const result = def.valueType._zod.run({ value: input[key], issues: [] }, ctx);
                    if (result instanceof Promise) {
                        proms.push(result.then((result) => {
                            if (result.issues.length) {
                                payload.issues.push(...util.prefixIssues(key, result.issues));
                            }
                            payload.value[outKey] = result.value;
                        }));
                    }
                    else {
                        if (result.issues.length) {
                            payload.issues.push(...util.prefixIssues(key, result.issues));
                        }
                        payload.value[outKey] = result.value;
                    }
                }
            }
            let unrecognized;
            for (const key in input) {
                if (!recordKeys.has(key)) {
                    if (def.mode === "loose") {
                        // skip __proto__ so it can't replace the result prototype via the assignment setter on the plain {} we build into
                        if (key === "__proto__")
                            continue;
                        payload.value[key] = input[key];
                    }
                    else {
                        unrecognized = unrecognized ?? [];
                        unrecognized.push(key);
                    }
                }
            }
            if (unrecognized && unrecognized.length > 0) {
                payload.issues.push({
                    code: "unrecognized_keys",
                    input,
                    inst,
                    keys: unrecognized,
                    continue: true,
                });
            }
        }
        else {
            payload.value = memo ? memo.alloc(inst, payload, {}, ctx) : {};
            // An enumerable key schema declares which keys the record owns, so a key outside the set is unrecognized. A non-enumerable one (regex, refine) is a constraint every key must satisfy, so a failing key is invalid. Only the former is reconcilable against the other side of an intersection.
            let unrecognized;
            // Reflect.ownKeys for Symbol-key support; filter non-enumerable to match z.object()
            for (const key of Reflect.ownKeys(input)) {
                if (key === "__proto__")
                    continue;
                if (!Object.prototype.propertyIsEnumerable.call(input, key))
                    continue;
                let keyResult = def.keyType._zod.run({ value: key, issues: [] }, ctx);
                if (keyResult instanceof Promise) {
                    throw new Error("Async schemas not supported in object keys currently");
                }
                // Numeric string fallback: if key is a numeric string and failed, retry with Number(key). This handles z.number(), z.literal([1, 2, 3]), and unions containing numeric literals
                const checkNumericKey = typeof key === "string" && regexes.number.test(key) && keyResult.issues.length;
                if (checkNumericKey) {
                    const retryResult = def.keyType._zod.run({ value: Number(key), issues: [] }, ctx);
                    if (retryResult instanceof Promise) {
                        throw new Error("Async schemas not supported in object keys currently");
                    }
                    if (retryResult.issues.length === 0) {
                        keyResult = retryResult;
                    }
                }
                if (keyResult.issues.length) {
                    if (def.mode === "loose") {
                        // Pass through unchanged
                        payload.value[key] = input[key];
                    }
                    else if (values) {
                        unrecognized = unrecognized ?? [];
                        unrecognized.push(key);
                    }
                    else {
                        // Default "strict" behavior: error on invalid key
                        payload.issues.push({
                            code: "invalid_key",
                            origin: "record",
                            issues: keyResult.issues.map((iss) => util.finalizeIssue(iss, ctx, core.config())),
                            input: key,
                            path: [key],
                            inst,
                        });
                    }
                    continue;
                }
                // the guard above tests the raw input key, but the key schema can normalize an ordinary key into __proto__; re-check the key we actually write under
                const outKey = keyResult.value;
                if (outKey === "__proto__")
                    continue;
                const result = def.valueType._zod.run({ value: input[key], issues: [] }, ctx);
                if (result instanceof Promise) {
                    proms.push(result.then((result) => {
                        if (result.issues.length) {
                            payload.issues.push(...util.prefixIssues(key, result.issues));
                        }
                        payload.value[outKey] = result.value;
                    }));
                }
                else {
                    if (result.issues.length) {
                        payload.issues.push(...util.prefixIssues(key, result.issues));
                    }
                    payload.value[outKey] = result.value;
                }
            }
            if (unrecognized && unrecognized.length > 0) {
                payload.issues.push({
                    code: "unrecognized_keys",
                    input,
                    inst,
                    keys: unrecognized,
                    continue: true,
                });
            }
        }
        if (proms.length) {
            return Promise.all(proms).then(() => payload);
        }
        return payload;
    };
})));
const $ZodMap = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodMap", (inst, def) => {
    $ZodType.init(inst, def);
    const memo = core.globalConfig.memoizer;
    memo?.attach(inst);
    inst._zod.parse = (payload, ctx) => {
        const input = payload.value;
        if (!(input instanceof Map)) {
            payload.issues.push({
                expected: "map",
                code: "invalid_type",
                input,
                inst,
            });
            return payload;
        }
        const proms = [];
        payload.value = memo ? memo.alloc(inst, payload, new Map(), ctx) : new Map();
        const abortEarly = ctx?.abortEarly;
        let seen = payload.issues.length;
        for (const [key, value] of input) {
            if (abortEarly && payload.issues.length !== seen) {
                if (util.aborted(payload, seen))
                    break;
                seen = payload.issues.length;
            }
            const keyResult = def.keyType._zod.run({ value: key, issues: [] }, ctx);
            const valueResult = def.valueType._zod.run({ value: value, issues: [] }, ctx);
            if (keyResult instanceof Promise || valueResult instanceof Promise) {
                proms.push(Promise.all([keyResult, valueResult]).then(([keyResult, valueResult]) => {
                    handleMapResult(keyResult, valueResult, payload, key, input, inst, ctx);
                }));
            }
            else {
                handleMapResult(keyResult, valueResult, payload, key, input, inst, ctx);
            }
        }
        if (proms.length)
            return Promise.all(proms).then(() => payload);
        return payload;
    };
    capSize(inst, mapSize);
})));
function handleMapResult(keyResult, valueResult, final, key, input, inst, ctx) {
    if (keyResult.issues.length) {
        if (util.propertyKeyTypes.has(typeof key)) {
            final.issues.push(...util.prefixIssues(key, keyResult.issues));
        }
        else {
            final.issues.push({
                code: "invalid_key",
                origin: "map",
                input,
                inst,
                issues: keyResult.issues.map((iss) => util.finalizeIssue(iss, ctx, core.config())),
            });
        }
    }
    if (valueResult.issues.length) {
        if (util.propertyKeyTypes.has(typeof key)) {
            final.issues.push(...util.prefixIssues(key, valueResult.issues));
        }
        else {
            final.issues.push({
                origin: "map",
                code: "invalid_element",
                input,
                inst,
                key: key,
                issues: valueResult.issues.map((iss) => util.finalizeIssue(iss, ctx, core.config())),
            });
        }
    }
    final.value.set(keyResult.value, valueResult.value);
}
const $ZodSet = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodSet", (inst, def) => {
    $ZodType.init(inst, def);
    const memo = core.globalConfig.memoizer;
    memo?.attach(inst);
    inst._zod.parse = (payload, ctx) => {
        const input = payload.value;
        if (!(input instanceof Set)) {
            payload.issues.push({
                input,
                inst,
                expected: "set",
                code: "invalid_type",
            });
            return payload;
        }
        const proms = [];
        payload.value = memo ? memo.alloc(inst, payload, new Set(), ctx) : new Set();
        const abortEarly = ctx?.abortEarly;
        let seen = payload.issues.length;
        for (const item of input) {
            if (abortEarly && payload.issues.length !== seen) {
                if (util.aborted(payload, seen))
                    break;
                seen = payload.issues.length;
            }
            const result = def.valueType._zod.run({ value: item, issues: [] }, ctx);
            if (result instanceof Promise) {
                proms.push(result.then((result) => handleSetResult(result, payload)));
            }
            else
                handleSetResult(result, payload);
        }
        if (proms.length)
            return Promise.all(proms).then(() => payload);
        return payload;
    };
    capSize(inst, setSize);
})));
function handleSetResult(result, final) {
    if (result.issues.length) {
        final.issues.push(...result.issues);
    }
    final.value.add(result.value);
}
const $ZodEnum = /*@__PURE__*/ $constructor("$ZodEnum", (inst, def) => {
    $ZodType.init(inst, def);
    const values = getEnumValues(def.entries);
    const valuesSet = new Set(values);
    inst._zod.values = valuesSet;
    defineLazyInternal(inst, "pattern", (zod) => {
        const patternValues = getEnumValues(zod.def.entries).filter((k) => propertyKeyTypes.has(typeof k));
        // unmatchable fallback, RE2-safe: an empty alternation would compile to /^()$/, which matches ""
        return new RegExp(patternValues.length ? `^(${patternValues.map((o) => escapeRegex(o.toString())).join("|")})$` : "^[^\\s\\S]$");
    });
    inst._zod.parse = (payload, _ctx) => {
        const input = payload.value;
        if (valuesSet.has(input)) {
            return payload;
        }
        payload.issues.push({
            code: "invalid_value",
            values,
            input,
            inst,
        });
        return payload;
    };
});
const $ZodLiteral = /*@__PURE__*/ $constructor("$ZodLiteral", (inst, def) => {
    $ZodType.init(inst, def);
    const values = new Set(def.values);
    inst._zod.values = values;
    defineLazyInternal(inst, "pattern", (zod) => {
        const vals = zod.def.values;
        // unmatchable fallback, RE2-safe: an empty alternation would compile to /^()$/, which matches ""
        return new RegExp(vals.length
            ? `^(${vals
                .map((o) => typeof o === "string" ? escapeRegex(o) : o ? escapeRegex(o.toString()) : String(o))
                .join("|")})$`
            : "^[^\\s\\S]$");
    });
    inst._zod.parse = (payload, _ctx) => {
        const input = payload.value;
        if (values.has(input)) {
            return payload;
        }
        payload.issues.push({
            code: "invalid_value",
            values: def.values,
            input,
            inst,
        });
        return payload;
    };
});
const $ZodFile = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodFile", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.parse = (payload, _ctx) => {
        const input = payload.value;
        // @ts-ignore
        if (input instanceof File)
            return payload;
        payload.issues.push({
            expected: "file",
            code: "invalid_type",
            input,
            inst,
        });
        return payload;
    };
})));
const $ZodTransform = /*@__PURE__*/ $constructor("$ZodTransform", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.optin = "optional";
    globalConfig.memoizer?.guard(inst);
    inst._zod.parse = (payload, ctx) => {
        if (ctx.direction === "backward") {
            throw new $ZodEncodeError(inst.constructor.name);
        }
        const _out = def.transform(payload.value, payload);
        if (ctx.async) {
            const output = _out instanceof Promise ? _out : Promise.resolve(_out);
            return output.then((output) => {
                payload.value = output;
                return payload;
            });
        }
        if (_out instanceof Promise) {
            throw new $ZodAsyncError();
        }
        payload.value = _out;
        return payload;
    };
});
function handleOptionalResult(payload, result) {
    // A substituting schema that still failed has no usable answer; yield undefined. Its issues are simply dropped: it ran on a payload of its own, so there is no shared array to truncate and nothing of the caller's to lose with it.
    payload.value = result.issues.length ? undefined : result.value;
    return payload;
}
const $ZodOptional = /*@__PURE__*/ $constructor("$ZodOptional", (inst, def) => {
    $ZodType.init(inst, def);
    // .optional() propagates absence rather than substituting for it, so a defaulted inner keeps its rung.
    defineLazyInternal(inst, "optin", (zod) => zod.def.innerType._zod.optin === "defaulted" ? "defaulted" : "optional");
    inst._zod.optout = "optional";
    defineLazyInternal(inst, "values", (zod) => {
        const values = zod.def.innerType._zod.values;
        return values ? new Set([...values, undefined]) : undefined;
    });
    defineLazyInternal(inst, "pattern", (zod) => {
        const pattern = zod.def.innerType._zod.pattern;
        return pattern ? new RegExp(`^(${cleanRegex(pattern.source)})?$`) : undefined;
    });
    inst._zod.parse = (payload, ctx) => {
        if (payload.value === undefined) {
            // Only the top rung substitutes a value for absence; everything else leaves it intact, which is what .optional() means.
            if (def.innerType._zod.optin !== "defaulted")
                return payload;
            // Its own payload, for the same reason $ZodCatch gets one: a pipe forwards an unrecognized key through the caller's issues array, and this must not read that as the substituting schema failing and drop it.
            const result = def.innerType._zod.run({ value: payload.value, issues: [] }, ctx);
            if (result instanceof Promise)
                return result.then((result) => handleOptionalResult(payload, result));
            return handleOptionalResult(payload, result);
        }
        return def.innerType._zod.run(payload, ctx);
    };
});
const $ZodExactOptional = /*@__PURE__*/ $constructor("$ZodExactOptional", (inst, def) => {
    // Call parent init - inherits optin/optout = "optional"
    $ZodOptional.init(inst, def);
    // Override values/pattern to NOT add undefined
    defineLazyInternal(inst, "values", (zod) => zod.def.innerType._zod.values);
    defineLazyInternal(inst, "pattern", (zod) => zod.def.innerType._zod.pattern);
    // Override parse to just delegate (no undefined handling)
    inst._zod.parse = (payload, ctx) => {
        return def.innerType._zod.run(payload, ctx);
    };
});
const $ZodNullable = /*@__PURE__*/ $constructor("$ZodNullable", (inst, def) => {
    $ZodType.init(inst, def);
    defineLazyInternal(inst, "optin", (zod) => zod.def.innerType._zod.optin);
    defineLazyInternal(inst, "optout", (zod) => zod.def.innerType._zod.optout);
    defineLazyInternal(inst, "pattern", (zod) => {
        const pattern = zod.def.innerType._zod.pattern;
        return pattern ? new RegExp(`^(${cleanRegex(pattern.source)}|null)$`) : undefined;
    });
    defineLazyInternal(inst, "values", (zod) => {
        return zod.def.innerType._zod.values ? new Set([...zod.def.innerType._zod.values, null]) : undefined;
    });
    inst._zod.parse = (payload, ctx) => {
        // Forward direction (decode): allow null to pass through
        if (payload.value === null)
            return payload;
        return def.innerType._zod.run(payload, ctx);
    };
});
const $ZodDefault = /*@__PURE__*/ $constructor("$ZodDefault", (inst, def) => {
    $ZodType.init(inst, def);
    // inst._zod.qin = "true";
    inst._zod.optin = "defaulted";
    defineLazyInternal(inst, "values", (zod) => zod.def.innerType._zod.values);
    inst._zod.parse = (payload, ctx) => {
        if (ctx.direction === "backward") {
            return def.innerType._zod.run(payload, ctx);
        }
        // Forward direction (decode): apply defaults for undefined input
        if (payload.value === undefined) {
            payload.value = def.defaultValue;
            /**
             * $ZodDefault returns the default value immediately in forward direction.
             * It doesn't pass the default value into the validator ("prefault"). There's no reason to pass the default value through validation. The validity of the default is enforced by TypeScript statically. Otherwise, it's the responsibility of the user to ensure the default is valid. In the case of pipes with divergent in/out types, you can specify the default on the `in` schema of your ZodPipe to set a "prefault" for the pipe.   */
            return payload;
        }
        // Forward direction: continue with default handling
        const result = def.innerType._zod.run(payload, ctx);
        if (result instanceof Promise) {
            return result.then((result) => handleDefaultResult(result, def));
        }
        return handleDefaultResult(result, def);
    };
});
function handleDefaultResult(payload, def) {
    if (payload.value === undefined) {
        payload.value = def.defaultValue;
    }
    return payload;
}
const $ZodPrefault = /*@__PURE__*/ $constructor("$ZodPrefault", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.optin = "defaulted";
    defineLazyInternal(inst, "values", (zod) => zod.def.innerType._zod.values);
    inst._zod.parse = (payload, ctx) => {
        if (ctx.direction === "backward") {
            return def.innerType._zod.run(payload, ctx);
        }
        // Forward direction (decode): apply prefault for undefined input
        if (payload.value === undefined) {
            payload.value = def.defaultValue;
        }
        return def.innerType._zod.run(payload, ctx);
    };
});
const $ZodNonOptional = /*@__PURE__*/ $constructor("$ZodNonOptional", (inst, def) => {
    $ZodType.init(inst, def);
    defineLazyInternal(inst, "values", (zod) => {
        const v = zod.def.innerType._zod.values;
        return v ? new Set([...v].filter((x) => x !== undefined)) : undefined;
    });
    inst._zod.parse = (payload, ctx) => {
        const result = def.innerType._zod.run(payload, ctx);
        if (result instanceof Promise) {
            return result.then((result) => handleNonOptionalResult(result, inst));
        }
        return handleNonOptionalResult(result, inst);
    };
});
function handleNonOptionalResult(payload, inst) {
    if (!payload.issues.length && payload.value === undefined) {
        payload.issues.push({
            code: "invalid_type",
            expected: "nonoptional",
            input: payload.value,
            inst,
        });
    }
    return payload;
}
const $ZodSuccess = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodSuccess", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.parse = (payload, ctx) => {
        if (ctx.direction === "backward") {
            throw new core.$ZodEncodeError("ZodSuccess");
        }
        const result = def.innerType._zod.run(payload, ctx);
        if (result instanceof Promise) {
            return result.then((result) => {
                payload.value = result.issues.length === 0;
                return payload;
            });
        }
        payload.value = result.issues.length === 0;
        return payload;
    };
})));
function handleCatchResult(payload, result, def, ctx) {
    if (!result.issues.length) {
        payload.value = result.value;
        // The value carries up, so the flag describing it has to carry with it: a back-edge into a node still being parsed must not be frozen by an enclosing readonly, and its checks belong to the node itself. Guarded so the ordinary case adds no own property.
        if (result.memo)
            payload.memo = true;
        return payload;
    }
    // Spread the inner's own payload, not ours: `value` has to stay the input the catch was handed, and the inner ran on a payload of its own so its issues are already private to this call.
    payload.value = def.catchValue({
        ...result,
        value: payload.value,
        error: {
            issues: result.issues.map((iss) => finalizeIssue(iss, ctx, config())),
        },
        input: payload.value,
    });
    return payload;
}
const $ZodCatch = /*@__PURE__*/ $constructor("$ZodCatch", (inst, def) => {
    $ZodType.init(inst, def);
    defineLazyInternal(inst, "optin", (zod) => zod.def.innerType._zod.optin === "defaulted" ? "defaulted" : "optional");
    defineLazyInternal(inst, "optout", (zod) => zod.def.innerType._zod.optout);
    defineLazyInternal(inst, "values", (zod) => zod.def.innerType._zod.values);
    inst._zod.parse = (payload, ctx) => {
        if (ctx.direction === "backward") {
            return def.innerType._zod.run(payload, ctx);
        }
        // Forward direction (decode): apply catch logic
        const result = def.innerType._zod.run({ value: payload.value, issues: [] }, ctx);
        if (result instanceof Promise) {
            return result.then((result) => handleCatchResult(payload, result, def, ctx));
        }
        return handleCatchResult(payload, result, def, ctx);
    };
});
const $ZodNaN = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodNaN", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.parse = (payload, _ctx) => {
        if (typeof payload.value !== "number" || !Number.isNaN(payload.value)) {
            payload.issues.push({
                input: payload.value,
                inst,
                expected: "nan",
                code: "invalid_type",
            });
            return payload;
        }
        return payload;
    };
})));
const $ZodPipe = /*@__PURE__*/ $constructor("$ZodPipe", (inst, def) => {
    $ZodType.init(inst, def);
    defineLazyInternal(inst, "values", (zod) => zod.def.in._zod.values);
    defineLazyInternal(inst, "optin", (zod) => zod.def.in._zod.optin);
    defineLazyInternal(inst, "optout", (zod) => zod.def.out._zod.optout);
    defineLazyInternal(inst, "propValues", (zod) => zod.def.in._zod.propValues);
    inst._zod.parse = (payload, ctx) => {
        if (ctx.direction === "backward") {
            const right = def.out._zod.run(payload, ctx);
            if (right instanceof Promise) {
                return right.then((right) => handlePipeResult(right, def.in, ctx));
            }
            return handlePipeResult(right, def.in, ctx);
        }
        const left = def.in._zod.run(payload, ctx);
        if (left instanceof Promise) {
            return left.then((left) => handlePipeResult(left, def.out, ctx));
        }
        return handlePipeResult(left, def.out, ctx);
    };
});
function handlePipeResult(left, next, ctx) {
    // Any issue stops the pipe, so a failing refinement never feeds its transform. An unrecognized key is the exception: it describes the input's extra properties, not the value being piped, and an enclosing intersection may yet reconcile it.
    if (left.issues.some((iss) => iss.code !== "unrecognized_keys")) {
        // prevent further checks
        left.aborted = true;
        return left;
    }
    return next._zod.run({ value: left.value, issues: left.issues }, ctx);
}
const $ZodCodec = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodCodec", (inst, def) => {
    $ZodType.init(inst, def);
    util.defineLazyInternal(inst, "values", (zod) => zod.def.in._zod.values);
    util.defineLazyInternal(inst, "optin", (zod) => zod.def.in._zod.optin);
    util.defineLazyInternal(inst, "optout", (zod) => zod.def.out._zod.optout);
    util.defineLazyInternal(inst, "propValues", (zod) => zod.def.in._zod.propValues);
    inst._zod.parse = (payload, ctx) => {
        const direction = ctx.direction || "forward";
        if (direction === "forward") {
            const left = def.in._zod.run(payload, ctx);
            if (left instanceof Promise) {
                return left.then((left) => handleCodecAResult(left, def, ctx));
            }
            return handleCodecAResult(left, def, ctx);
        }
        else {
            const right = def.out._zod.run(payload, ctx);
            if (right instanceof Promise) {
                return right.then((right) => handleCodecAResult(right, def, ctx));
            }
            return handleCodecAResult(right, def, ctx);
        }
    };
})));
function handleCodecAResult(result, def, ctx) {
    if (result.issues.length) {
        // prevent further checks
        result.aborted = true;
        return result;
    }
    const direction = ctx.direction || "forward";
    if (direction === "forward") {
        const transformed = def.transform(result.value, result);
        if (transformed instanceof Promise) {
            return transformed.then((value) => handleCodecTxResult(result, value, def.out, ctx));
        }
        return handleCodecTxResult(result, transformed, def.out, ctx);
    }
    else {
        const transformed = def.reverseTransform(result.value, result);
        if (transformed instanceof Promise) {
            return transformed.then((value) => handleCodecTxResult(result, value, def.in, ctx));
        }
        return handleCodecTxResult(result, transformed, def.in, ctx);
    }
}
function handleCodecTxResult(left, value, nextSchema, ctx) {
    // Check if transform added any issues
    if (left.issues.length) {
        left.aborted = true;
        return left;
    }
    return nextSchema._zod.run({ value, issues: left.issues }, ctx);
}
const $ZodPreprocess = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodPreprocess", (inst, def) => {
    $ZodPipe.init(inst, def);
})));
const $ZodReadonly = /*@__PURE__*/ $constructor("$ZodReadonly", (inst, def) => {
    $ZodType.init(inst, def);
    defineLazyInternal(inst, "propValues", (zod) => zod.def.innerType._zod.propValues);
    defineLazyInternal(inst, "values", (zod) => zod.def.innerType._zod.values);
    defineLazyInternal(inst, "optin", (zod) => zod.def.innerType?._zod?.optin);
    defineLazyInternal(inst, "optout", (zod) => zod.def.innerType?._zod?.optout);
    inst._zod.parse = (payload, ctx) => {
        if (ctx.direction === "backward") {
            return def.innerType._zod.run(payload, ctx);
        }
        const result = def.innerType._zod.run(payload, ctx);
        if (result instanceof Promise) {
            return result.then(handleReadonlyResult);
        }
        return handleReadonlyResult(result);
    };
});
function handleReadonlyResult(payload) {
    // A repeat visit hands back a node that is still being built; freezing it here would make the rest of its keys fail to assign.
    if (!payload.memo)
        payload.value = Object.freeze(payload.value);
    return payload;
}
// a leaf's pattern source with its own checks folded in: the last pattern-carrying check wins, else length bounds narrow the catch-all, else an integer format narrows the number form. the fold lives here instead of on `_zod.pattern` so a bundle without template literals never pays for it
function leafPattern(schema) {
    const def = schema._zod.def;
    let pattern = def.pattern;
    let isInt = !!def.format?.includes("int");
    let minimum;
    let maximum;
    for (const ch of def.checks ?? []) {
        const d = ch._zod.def;
        if (d.pattern)
            pattern = d.pattern;
        isInt || (isInt = !!d.format?.includes("int"));
        const lo = d.minimum ?? d.length;
        const hi = d.maximum ?? d.length;
        if (lo !== undefined && (minimum === undefined || lo > minimum))
            minimum = lo;
        if (hi !== undefined && (maximum === undefined || hi < maximum))
            maximum = hi;
    }
    if (pattern)
        return pattern.source;
    // an empty range matches nothing at runtime, and `{8,5}` is not a legal quantifier
    if (minimum !== undefined && maximum !== undefined && minimum > maximum)
        return "(?!)";
    if (minimum !== undefined || maximum !== undefined)
        return regexes.string({ minimum, maximum }).source;
    const own = schema._zod.pattern;
    return (isInt && own === regexes.number ? regexes.integer : own)?.source;
}
// a part's pattern source. a wrapper's pattern embeds its inner pattern's source verbatim, so the folded form is substituted in place without knowing the wrapper's own composition; a union's options are joined the way the union builds its own pattern
function partPattern(schema) {
    const def = schema._zod.def;
    const own = schema._zod.pattern?.source;
    // lazy resolves its inner on the internals, not the def
    const inner = def.innerType ?? schema._zod.innerType;
    if (inner) {
        const before = inner._zod.pattern?.source;
        const after = partPattern(inner);
        if (own && before && after && after !== before) {
            return own.replace(util.cleanRegex(before), () => util.cleanRegex(after));
        }
        return own;
    }
    if (def.options) {
        const sources = def.options.map(partPattern);
        if (sources.every(Boolean))
            return `^(${sources.map((s) => util.cleanRegex(s)).join("|")})$`;
    }
    return leafPattern(schema);
}
const $ZodTemplateLiteral = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodTemplateLiteral", (inst, def) => {
    $ZodType.init(inst, def);
    const regexParts = [];
    for (const part of def.parts) {
        if (typeof part === "object" && part !== null) {
            // is Zod schema
            const source = partPattern(part);
            if (!source) {
                throw new Error(`Invalid template literal part, no pattern found: ${[...part._zod.traits].shift()}`);
            }
            regexParts.push(util.cleanRegex(source));
        }
        else if (part === null || util.primitiveTypes.has(typeof part)) {
            regexParts.push(util.escapeRegex(`${part}`));
        }
        else {
            throw new Error(`Invalid template literal part: ${part}`);
        }
    }
    inst._zod.pattern = new RegExp(`^${regexParts.join("")}$`);
    inst._zod.parse = (payload, _ctx) => {
        if (typeof payload.value !== "string") {
            payload.issues.push({
                input: payload.value,
                inst,
                expected: "string",
                code: "invalid_type",
            });
            return payload;
        }
        inst._zod.pattern.lastIndex = 0;
        if (!inst._zod.pattern.test(payload.value)) {
            payload.issues.push({
                input: payload.value,
                inst,
                code: "invalid_format",
                format: def.format ?? "template_literal",
                pattern: inst._zod.pattern.source,
            });
            return payload;
        }
        return payload;
    };
})));
const $ZodFunction = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodFunction", (inst, def) => {
    $ZodType.init(inst, def);
    // Defined, not assigned: the classic prototype exposes `_def` as a getter with no setter.
    Object.defineProperty(inst, "_def", { value: def });
    inst._zod.def = def;
    inst.implement = (func) => {
        if (typeof func !== "function") {
            throw new Error("implement() must be called with a function");
        }
        // Defined inline so the closure stays anonymous: binding it to a `const` first names it, which costs 256 bytes per implemented function.
        return Object.defineProperty(function (...args) {
            const parsedArgs = inst._def.input ? parse(inst._def.input, args) : args;
            const result = Reflect.apply(func, this, parsedArgs);
            if (inst._def.output) {
                return parse(inst._def.output, result);
            }
            return result;
        }, "_zod", { value: inst._zod, enumerable: false });
    };
    inst.implementAsync = (func) => {
        if (typeof func !== "function") {
            throw new Error("implementAsync() must be called with a function");
        }
        return Object.defineProperty(async function (...args) {
            const parsedArgs = inst._def.input ? await parseAsync(inst._def.input, args) : args;
            const result = await Reflect.apply(func, this, parsedArgs);
            if (inst._def.output) {
                return await parseAsync(inst._def.output, result);
            }
            return result;
        }, "_zod", { value: inst._zod, enumerable: false });
    };
    inst._zod.parse = (payload, _ctx) => {
        if (typeof payload.value !== "function") {
            payload.issues.push({
                code: "invalid_type",
                expected: "function",
                input: payload.value,
                inst,
            });
            return payload;
        }
        // Check if output is a promise type to determine if we should use async implementation
        const hasPromiseOutput = inst._def.output && inst._def.output._zod.def.type === "promise";
        if (hasPromiseOutput) {
            payload.value = inst.implementAsync(payload.value);
        }
        else {
            payload.value = inst.implement(payload.value);
        }
        return payload;
    };
    inst.input = (...args) => {
        const F = inst.constructor;
        if (Array.isArray(args[0])) {
            return new F({
                type: "function",
                input: new $ZodTuple({
                    type: "tuple",
                    items: args[0],
                    rest: args[1],
                }),
                output: inst._def.output,
            });
        }
        return new F({
            type: "function",
            input: args[0],
            output: inst._def.output,
        });
    };
    inst.output = (output) => {
        const F = inst.constructor;
        return new F({
            type: "function",
            input: inst._def.input,
            output,
        });
    };
    return inst;
})));
const $ZodPromise = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodPromise", (inst, def) => {
    $ZodType.init(inst, def);
    inst._zod.parse = (payload, ctx) => {
        return Promise.resolve(payload.value).then((inner) => def.innerType._zod.run({ value: inner, issues: [] }, ctx));
    };
})));
const $ZodLazy = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("$ZodLazy", (inst, def) => {
    $ZodType.init(inst, def);
    // Cache the resolved inner type on the shared `def` so all clones of this lazy (e.g. via `.describe()`/`.meta()`) share the same inner instance, preserving identity for cycle detection on recursive schemas.
    util.defineLazy(inst._zod, "innerType", () => {
        const d = def;
        if (!d._cachedInner)
            d._cachedInner = def.getter();
        return d._cachedInner;
    });
    util.defineLazyInternal(inst, "pattern", (zod) => zod.innerType?._zod?.pattern);
    util.defineLazyInternal(inst, "propValues", (zod) => zod.innerType?._zod?.propValues);
    util.defineLazyInternal(inst, "optin", (zod) => zod.innerType?._zod?.optin ?? undefined);
    util.defineLazyInternal(inst, "optout", (zod) => zod.innerType?._zod?.optout ?? undefined);
    inst._zod.parse = (payload, ctx) => {
        const inner = inst._zod.innerType;
        return inner._zod.run(payload, ctx);
    };
})));
const $ZodCustom = /*@__PURE__*/ $constructor("$ZodCustom", (inst, def) => {
    $ZodCheck.init(inst, def);
    $ZodType.init(inst, def);
    inst._zod.parse = (payload, _) => {
        return payload;
    };
    inst._zod.check = (payload) => {
        const input = payload.value;
        const r = def.fn(input);
        if (r instanceof Promise) {
            return r.then((r) => handleRefineResult(r, payload, input, inst));
        }
        handleRefineResult(r, payload, input, inst);
        return;
    };
});
function handleRefineResult(result, payload, input, inst) {
    if (!result) {
        const _iss = {
            code: "custom",
            input,
            inst, // incorporates params.error into issue reporting
            path: [...(inst._zod.def.path ?? [])], // incorporates params.error into issue reporting
            continue: !inst._zod.def.abort,
            // params: inst._zod.def.params,
        };
        if (inst._zod.def.params)
            _iss.params = inst._zod.def.params;
        payload.issues.push(util_issue(_iss));
    }
}

;// CONCATENATED MODULE: ./node_modules/zod/v4/core/registries.js
var registries_a;
const $output = /*@__PURE__*/ (/* unused pure expression or super */ null && (Symbol("ZodOutput")));
const $input = /*@__PURE__*/ (/* unused pure expression or super */ null && (Symbol("ZodInput")));
class $ZodRegistry {
    constructor() {
        this._map = new WeakMap();
        this._idmap = new Map();
    }
    add(schema, ..._meta) {
        const meta = _meta[0];
        this._map.set(schema, meta);
        if (meta && typeof meta === "object" && "id" in meta) {
            this._idmap.set(meta.id, schema);
        }
        return this;
    }
    clear() {
        this._map = new WeakMap();
        this._idmap = new Map();
        return this;
    }
    remove(schema) {
        const meta = this._map.get(schema);
        if (meta && typeof meta === "object" && "id" in meta) {
            this._idmap.delete(meta.id);
        }
        this._map.delete(schema);
        return this;
    }
    get(schema) {
        // return this._map.get(schema) as any;
        // inherit metadata
        const p = schema._zod.parent;
        if (p) {
            const pm = { ...(this.get(p) ?? {}) };
            delete pm.id; // do not inherit id
            const f = { ...pm, ...this._map.get(schema) };
            return Object.keys(f).length ? f : undefined;
        }
        return this._map.get(schema);
    }
    has(schema) {
        return this._map.has(schema);
    }
}
// registries
function registry() {
    return new $ZodRegistry();
}
(registries_a = globalThis).__zod_globalRegistry ?? (registries_a.__zod_globalRegistry = registry());
const globalRegistry = globalThis.__zod_globalRegistry;

;// CONCATENATED MODULE: ./node_modules/zod/v4/core/api.js




function snapshotChecks(def) {
    if (def.checks)
        def.checks = [...def.checks];
    return def;
}
// @__NO_SIDE_EFFECTS__
function _string(Class, params) {
    return new Class(snapshotChecks({ type: "string", ...normalizeParams(params) }));
}
// @__NO_SIDE_EFFECTS__
function _coercedString(Class, params) {
    return new Class(snapshotChecks({ type: "string", coerce: true, ...util.normalizeParams(params) }));
}
// @__NO_SIDE_EFFECTS__
function _email(Class, params) {
    return new Class({
        type: "string",
        format: "email",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _guid(Class, params) {
    return new Class({
        type: "string",
        format: "guid",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _uuid(Class, params) {
    return new Class({
        type: "string",
        format: "uuid",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _uuidv4(Class, params) {
    return new Class({
        type: "string",
        format: "uuid",
        check: "string_format",
        abort: false,
        version: "v4",
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _uuidv6(Class, params) {
    return new Class({
        type: "string",
        format: "uuid",
        check: "string_format",
        abort: false,
        version: "v6",
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _uuidv7(Class, params) {
    return new Class({
        type: "string",
        format: "uuid",
        check: "string_format",
        abort: false,
        version: "v7",
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _url(Class, params) {
    return new Class({
        type: "string",
        format: "url",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function api_emoji(Class, params) {
    return new Class({
        type: "string",
        format: "emoji",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _nanoid(Class, params) {
    return new Class({
        type: "string",
        format: "nanoid",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
/**
 * @deprecated CUID v1 is deprecated by its authors due to information leakage
 * (timestamps embedded in the id). Use {@link _cuid2} instead.
 * See https://github.com/paralleldrive/cuid.
 */
// @__NO_SIDE_EFFECTS__
function _cuid(Class, params) {
    return new Class({
        type: "string",
        format: "cuid",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _cuid2(Class, params) {
    return new Class({
        type: "string",
        format: "cuid2",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _ulid(Class, params) {
    return new Class({
        type: "string",
        format: "ulid",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _xid(Class, params) {
    return new Class({
        type: "string",
        format: "xid",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _ksuid(Class, params) {
    return new Class({
        type: "string",
        format: "ksuid",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _ipv4(Class, params) {
    return new Class({
        type: "string",
        format: "ipv4",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _ipv6(Class, params) {
    return new Class({
        type: "string",
        format: "ipv6",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _mac(Class, params) {
    return new Class({
        type: "string",
        format: "mac",
        check: "string_format",
        abort: false,
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _cidrv4(Class, params) {
    return new Class({
        type: "string",
        format: "cidrv4",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _cidrv6(Class, params) {
    return new Class({
        type: "string",
        format: "cidrv6",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _base64(Class, params) {
    return new Class({
        type: "string",
        format: "base64",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _base64url(Class, params) {
    return new Class({
        type: "string",
        format: "base64url",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _e164(Class, params) {
    return new Class({
        type: "string",
        format: "e164",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _creditCard(Class, params) {
    return new Class({
        type: "string",
        format: "credit_card",
        check: "string_format",
        abort: false,
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _iban(Class, params) {
    return new Class({
        type: "string",
        format: "iban",
        check: "string_format",
        abort: false,
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _jwt(Class, params) {
    return new Class({
        type: "string",
        format: "jwt",
        check: "string_format",
        abort: false,
        ...normalizeParams(params),
    });
}
const TimePrecision = {
    Any: null,
    Minute: -1,
    Second: 0,
    Millisecond: 3,
    Microsecond: 6,
};
// @__NO_SIDE_EFFECTS__
function _isoDateTime(Class, params) {
    return new Class({
        type: "string",
        format: "datetime",
        check: "string_format",
        offset: false,
        local: false,
        precision: null,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _isoDate(Class, params) {
    return new Class({
        type: "string",
        format: "date",
        check: "string_format",
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _isoTime(Class, params) {
    return new Class({
        type: "string",
        format: "time",
        check: "string_format",
        precision: null,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _isoDuration(Class, params) {
    return new Class({
        type: "string",
        format: "duration",
        check: "string_format",
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _number(Class, params) {
    return new Class(snapshotChecks({ type: "number", checks: [], ...normalizeParams(params) }));
}
// @__NO_SIDE_EFFECTS__
function _coercedNumber(Class, params) {
    return new Class(snapshotChecks({ type: "number", coerce: true, checks: [], ...util.normalizeParams(params) }));
}
// @__NO_SIDE_EFFECTS__
function _int(Class, params) {
    return new Class({
        type: "number",
        check: "number_format",
        abort: false,
        format: "safeint",
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _float32(Class, params) {
    return new Class({
        type: "number",
        check: "number_format",
        abort: false,
        format: "float32",
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _float64(Class, params) {
    return new Class({
        type: "number",
        check: "number_format",
        abort: false,
        format: "float64",
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _int32(Class, params) {
    return new Class({
        type: "number",
        check: "number_format",
        abort: false,
        format: "int32",
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _uint32(Class, params) {
    return new Class({
        type: "number",
        check: "number_format",
        abort: false,
        format: "uint32",
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _boolean(Class, params) {
    return new Class({
        type: "boolean",
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _coercedBoolean(Class, params) {
    return new Class({
        type: "boolean",
        coerce: true,
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _bigint(Class, params) {
    return new Class({
        type: "bigint",
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _coercedBigint(Class, params) {
    return new Class({
        type: "bigint",
        coerce: true,
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _int64(Class, params) {
    return new Class({
        type: "bigint",
        check: "bigint_format",
        abort: false,
        format: "int64",
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _uint64(Class, params) {
    return new Class({
        type: "bigint",
        check: "bigint_format",
        abort: false,
        format: "uint64",
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _symbol(Class, params) {
    return new Class({
        type: "symbol",
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function api_undefined(Class, params) {
    return new Class({
        type: "undefined",
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function api_null(Class, params) {
    return new Class({
        type: "null",
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _any(Class) {
    return new Class({
        type: "any",
    });
}
// @__NO_SIDE_EFFECTS__
function _unknown(Class) {
    return new Class({
        type: "unknown",
    });
}
// @__NO_SIDE_EFFECTS__
function _never(Class, params) {
    return new Class({
        type: "never",
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _void(Class, params) {
    return new Class({
        type: "void",
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _date(Class, params) {
    return new Class({
        type: "date",
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _coercedDate(Class, params) {
    return new Class({
        type: "date",
        coerce: true,
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _nan(Class, params) {
    return new Class({
        type: "nan",
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _lt(value, params) {
    return new $ZodCheckLessThan({
        check: "less_than",
        ...normalizeParams(params),
        value,
        inclusive: false,
    });
}
// @__NO_SIDE_EFFECTS__
function _lte(value, params) {
    return new $ZodCheckLessThan({
        check: "less_than",
        ...normalizeParams(params),
        value,
        inclusive: true,
    });
}

// @__NO_SIDE_EFFECTS__
function _gt(value, params) {
    return new $ZodCheckGreaterThan({
        check: "greater_than",
        ...normalizeParams(params),
        value,
        inclusive: false,
    });
}
// @__NO_SIDE_EFFECTS__
function _gte(value, params) {
    return new $ZodCheckGreaterThan({
        check: "greater_than",
        ...normalizeParams(params),
        value,
        inclusive: true,
    });
}

// @__NO_SIDE_EFFECTS__
function _positive(params) {
    return _gt(0, params);
}
// negative
// @__NO_SIDE_EFFECTS__
function _negative(params) {
    return _lt(0, params);
}
// nonpositive
// @__NO_SIDE_EFFECTS__
function _nonpositive(params) {
    return _lte(0, params);
}
// nonnegative
// @__NO_SIDE_EFFECTS__
function _nonnegative(params) {
    return _gte(0, params);
}
// @__NO_SIDE_EFFECTS__
function _multipleOf(value, params) {
    return new $ZodCheckMultipleOf({
        check: "multiple_of",
        ...normalizeParams(params),
        value,
    });
}
// @__NO_SIDE_EFFECTS__
function _maxSize(maximum, params) {
    return new checks.$ZodCheckMaxSize({
        check: "max_size",
        ...util.normalizeParams(params),
        maximum,
    });
}
// @__NO_SIDE_EFFECTS__
function _minSize(minimum, params) {
    return new checks.$ZodCheckMinSize({
        check: "min_size",
        ...util.normalizeParams(params),
        minimum,
    });
}
// @__NO_SIDE_EFFECTS__
function _size(size, params) {
    return new checks.$ZodCheckSizeEquals({
        check: "size_equals",
        ...util.normalizeParams(params),
        size,
    });
}
// @__NO_SIDE_EFFECTS__
function _maxLength(maximum, params) {
    const ch = new $ZodCheckMaxLength({
        check: "max_length",
        ...normalizeParams(params),
        maximum,
    });
    return ch;
}
// @__NO_SIDE_EFFECTS__
function _minLength(minimum, params) {
    return new $ZodCheckMinLength({
        check: "min_length",
        ...normalizeParams(params),
        minimum,
    });
}
// @__NO_SIDE_EFFECTS__
function _length(length, params) {
    return new $ZodCheckLengthEquals({
        check: "length_equals",
        ...normalizeParams(params),
        length,
    });
}
// @__NO_SIDE_EFFECTS__
function _regex(pattern, params) {
    return new $ZodCheckRegex({
        check: "string_format",
        format: "regex",
        ...normalizeParams(params),
        pattern,
    });
}
// @__NO_SIDE_EFFECTS__
function _lowercase(params) {
    return new $ZodCheckLowerCase({
        check: "string_format",
        format: "lowercase",
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _uppercase(params) {
    return new $ZodCheckUpperCase({
        check: "string_format",
        format: "uppercase",
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _includes(includes, params) {
    return new $ZodCheckIncludes({
        check: "string_format",
        format: "includes",
        ...normalizeParams(params),
        includes,
    });
}
// @__NO_SIDE_EFFECTS__
function _startsWith(prefix, params) {
    return new $ZodCheckStartsWith({
        check: "string_format",
        format: "starts_with",
        ...normalizeParams(params),
        prefix,
    });
}
// @__NO_SIDE_EFFECTS__
function _endsWith(suffix, params) {
    return new $ZodCheckEndsWith({
        check: "string_format",
        format: "ends_with",
        ...normalizeParams(params),
        suffix,
    });
}
// @__NO_SIDE_EFFECTS__
function _property(property, schema, params) {
    return new checks.$ZodCheckProperty({
        check: "property",
        property,
        schema,
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _properties(shape, params) {
    return new $ZodCheckProperties({
        check: "properties",
        shape,
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _mime(types, params) {
    return new checks.$ZodCheckMimeType({
        check: "mime_type",
        mime: types,
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _overwrite(tx) {
    return new $ZodCheckOverwrite({
        check: "overwrite",
        tx,
    });
}
// normalize
// @__NO_SIDE_EFFECTS__
function _normalize(form) {
    return _overwrite((input) => input.normalize(form));
}
// trim
// @__NO_SIDE_EFFECTS__
function _trim() {
    return _overwrite((input) => input.trim());
}
// toLowerCase
// @__NO_SIDE_EFFECTS__
function _toLowerCase() {
    return _overwrite((input) => input.toLowerCase());
}
// toUpperCase
// @__NO_SIDE_EFFECTS__
function _toUpperCase() {
    return _overwrite((input) => input.toUpperCase());
}
// slugify
// @__NO_SIDE_EFFECTS__
function _slugify() {
    return _overwrite((input) => slugify(input));
}
// @__NO_SIDE_EFFECTS__
function _array(Class, element, params) {
    return new Class({
        type: "array",
        element,
        // get element() {
        //   return element;
        // },
        ...normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _union(Class, options, params) {
    return new Class({
        type: "union",
        options,
        ...util.normalizeParams(params),
    });
}
function _xor(Class, options, params) {
    return new Class({
        type: "union",
        options,
        inclusive: false,
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _discriminatedUnion(Class, discriminator, options, params) {
    return new Class({
        type: "union",
        options: options,
        discriminator,
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _intersection(Class, left, right) {
    return new Class({
        type: "intersection",
        left,
        right,
    });
}
// export function _tuple(
//   Class: util.SchemaClass<schemas.$ZodTuple>,
//   items: [],
//   params?: string | $ZodTupleParams
// ): schemas.$ZodTuple<[], null>;
// @__NO_SIDE_EFFECTS__
function _tuple(Class, items, _paramsOrRest, _params) {
    const hasRest = _paramsOrRest instanceof schemas.$ZodType;
    const params = hasRest ? _params : _paramsOrRest;
    const rest = hasRest ? _paramsOrRest : null;
    return new Class({
        type: "tuple",
        items,
        rest,
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _record(Class, keyType, valueType, params) {
    return new Class({
        type: "record",
        keyType,
        valueType,
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _map(Class, keyType, valueType, params) {
    return new Class({
        type: "map",
        keyType,
        valueType,
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _set(Class, valueType, params) {
    return new Class({
        type: "set",
        valueType,
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _enum(Class, values, params) {
    const entries = Array.isArray(values) ? Object.fromEntries(values.map((v) => [v, v])) : values;
    // if (Array.isArray(values)) {
    //   for (const value of values) {
    //     entries[value] = value;
    //   }
    // } else {
    //   Object.assign(entries, values);
    // }
    // const entries: util.EnumLike = {};
    // for (const val of values) {
    //   entries[val] = val;
    // }
    return new Class({
        type: "enum",
        entries,
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
/** @deprecated This API has been merged into `z.enum()`. Use `z.enum()` instead.
 *
 * ```ts
 * enum Colors { red, green, blue }
 * z.enum(Colors);
 * ```
 */
function _nativeEnum(Class, entries, params) {
    return new Class({
        type: "enum",
        entries,
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _literal(Class, value, params) {
    return new Class({
        type: "literal",
        values: Array.isArray(value) ? value : [value],
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _file(Class, params) {
    return new Class({
        type: "file",
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _transform(Class, fn) {
    return new Class({
        type: "transform",
        transform: fn,
    });
}
// @__NO_SIDE_EFFECTS__
function _optional(Class, innerType) {
    return new Class({
        type: "optional",
        innerType,
    });
}
// @__NO_SIDE_EFFECTS__
function _nullable(Class, innerType) {
    return new Class({
        type: "nullable",
        innerType,
    });
}
// @__NO_SIDE_EFFECTS__
function _default(Class, innerType, defaultValue) {
    return new Class({
        type: "default",
        innerType,
        get defaultValue() {
            return typeof defaultValue === "function" ? defaultValue() : util.shallowClone(defaultValue);
        },
    });
}
// @__NO_SIDE_EFFECTS__
function _nonoptional(Class, innerType, params) {
    return new Class({
        type: "nonoptional",
        innerType,
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _success(Class, innerType) {
    return new Class({
        type: "success",
        innerType,
    });
}
// @__NO_SIDE_EFFECTS__
function _catch(Class, innerType, catchValue) {
    return new Class({
        type: "catch",
        innerType,
        catchValue: (typeof catchValue === "function" ? catchValue : util.constantCatch(catchValue)),
    });
}
// @__NO_SIDE_EFFECTS__
function _pipe(Class, in_, out) {
    return new Class({
        type: "pipe",
        in: in_,
        out,
    });
}
// @__NO_SIDE_EFFECTS__
function _readonly(Class, innerType) {
    return new Class({
        type: "readonly",
        innerType,
    });
}
// @__NO_SIDE_EFFECTS__
function _templateLiteral(Class, parts, params) {
    return new Class({
        type: "template_literal",
        parts,
        ...util.normalizeParams(params),
    });
}
// @__NO_SIDE_EFFECTS__
function _lazy(Class, getter) {
    return new Class({
        type: "lazy",
        getter,
    });
}
// @__NO_SIDE_EFFECTS__
function _promise(Class, innerType) {
    return new Class({
        type: "promise",
        innerType,
    });
}
// @__NO_SIDE_EFFECTS__
function _custom(Class, fn, _params) {
    const norm = util.normalizeParams(_params);
    norm.abort ?? (norm.abort = true); // default to abort:false
    const schema = new Class({
        type: "custom",
        check: "custom",
        fn: fn,
        ...norm,
    });
    return schema;
}
// same as _custom but defaults to abort:false
// @__NO_SIDE_EFFECTS__
function _refine(Class, fn, _params) {
    const schema = new Class({
        type: "custom",
        check: "custom",
        fn: fn,
        ...normalizeParams(_params),
    });
    return schema;
}
// @__NO_SIDE_EFFECTS__
function _superRefine(fn, params) {
    const ch = _check((payload) => {
        payload.addIssue = (issue) => {
            if (typeof issue === "string") {
                payload.issues.push(util_issue(issue, payload.value, ch._zod.def));
            }
            else {
                // for Zod 3 backwards compatibility
                const _issue = issue;
                if (_issue.fatal)
                    _issue.continue = false;
                _issue.code ?? (_issue.code = "custom");
                if (!("input" in _issue))
                    _issue.input = payload.value;
                _issue.inst ?? (_issue.inst = ch);
                _issue.continue ?? (_issue.continue = !ch._zod.def.abort); // abort is always undefined, so this is always true...
                payload.issues.push(util_issue(_issue));
            }
        };
        return fn(payload.value, payload);
    }, params);
    return ch;
}
// @__NO_SIDE_EFFECTS__
function _check(fn, params) {
    const ch = new $ZodCheck({
        check: "custom",
        ...normalizeParams(params),
    });
    ch._zod.check = fn;
    return ch;
}
// @__NO_SIDE_EFFECTS__
function describe(description) {
    const ch = new $ZodCheck({ check: "describe" });
    ch._zod.onattach = [
        (inst) => {
            const existing = globalRegistry.get(inst) ?? {};
            globalRegistry.add(inst, { ...existing, description });
        },
    ];
    ch._zod.check = () => { }; // no-op check
    return ch;
}
// @__NO_SIDE_EFFECTS__
function meta(metadata) {
    const ch = new $ZodCheck({ check: "meta" });
    ch._zod.onattach = [
        (inst) => {
            const existing = globalRegistry.get(inst) ?? {};
            globalRegistry.add(inst, { ...existing, ...metadata });
        },
    ];
    ch._zod.check = () => { }; // no-op check
    return ch;
}
// @__NO_SIDE_EFFECTS__
function _stringbool(Classes, _params) {
    const params = util.normalizeParams(_params);
    let truthyArray = params.truthy ?? ["true", "1", "yes", "on", "y", "enabled"];
    let falsyArray = params.falsy ?? ["false", "0", "no", "off", "n", "disabled"];
    if (params.case !== "sensitive") {
        truthyArray = truthyArray.map((v) => (typeof v === "string" ? v.toLowerCase() : v));
        falsyArray = falsyArray.map((v) => (typeof v === "string" ? v.toLowerCase() : v));
    }
    const truthySet = new Set(truthyArray);
    const falsySet = new Set(falsyArray);
    const _Codec = Classes.Codec ?? schemas.$ZodCodec;
    const _Boolean = Classes.Boolean ?? schemas.$ZodBoolean;
    const _String = Classes.String ?? schemas.$ZodString;
    const stringSchema = new _String({ type: "string", error: params.error });
    const booleanSchema = new _Boolean({ type: "boolean", error: params.error });
    const codec = new _Codec({
        type: "pipe",
        in: stringSchema,
        out: booleanSchema,
        transform: ((input, payload) => {
            let data = input;
            if (params.case !== "sensitive")
                data = data.toLowerCase();
            if (truthySet.has(data)) {
                return true;
            }
            else if (falsySet.has(data)) {
                return false;
            }
            else {
                payload.issues.push({
                    code: "invalid_value",
                    expected: "stringbool",
                    values: [...truthySet, ...falsySet],
                    input: payload.value,
                    inst: codec,
                    continue: false,
                });
                return {};
            }
        }),
        reverseTransform: ((input, _payload) => {
            if (input === true) {
                return truthyArray[0] || "true";
            }
            else {
                return falsyArray[0] || "false";
            }
        }),
        error: params.error,
    });
    codec._zod.bag.truthy = truthyArray;
    codec._zod.bag.falsy = falsyArray;
    codec._zod.bag.case = params.case ?? "insensitive";
    return codec;
}
// @__NO_SIDE_EFFECTS__
function _stringFormat(Class, format, fnOrRegex, _params = {}) {
    const params = util.normalizeParams(_params);
    const def = {
        check: "string_format",
        type: "string",
        format,
        fn: typeof fnOrRegex === "function" ? fnOrRegex : (val) => fnOrRegex.test(val),
        ...params,
    };
    if (fnOrRegex instanceof RegExp) {
        def.pattern = fnOrRegex;
    }
    const inst = new Class(def);
    return inst;
}

;// CONCATENATED MODULE: ./node_modules/zod/v4/core/to-json-schema.js


function assignProps(target, ...sources) {
    for (const source of sources) {
        for (const key of Reflect.ownKeys(source)) {
            if (Object.prototype.propertyIsEnumerable.call(source, key)) {
                util_assignProp(target, key, source[key]);
            }
        }
    }
    return target;
}
// function initializeContext<T extends schemas.$ZodType>(inputs: JSONSchemaGeneratorParams<T>): ToJSONSchemaContext<T> {
//   return {
//     processor: inputs.processor,
//     metadataRegistry: inputs.metadata ?? globalRegistry,
//     target: inputs.target ?? "draft-2020-12",
//     unrepresentable: inputs.unrepresentable ?? "throw",
//   };
// }
function to_json_schema_initializeContext(params) {
    // Normalize target: convert old non-hyphenated versions to hyphenated versions
    let target = params?.target ?? "draft-2020-12";
    if (target === "draft-4")
        target = "draft-04";
    if (target === "draft-7")
        target = "draft-07";
    return {
        processors: params.processors ?? {},
        metadataRegistry: params?.metadata ?? globalRegistry,
        target,
        unrepresentable: params?.unrepresentable ?? "throw",
        override: params?.override ?? (() => { }),
        io: params?.io ?? "output",
        counter: 0,
        seen: new Map(),
        sharedDefsExtractedFor: undefined,
        sharedEmitDoneFor: undefined,
        cycles: params?.cycles ?? "ref",
        reused: params?.reused ?? "inline",
        intersections: [],
        deferred: [],
        external: params?.external ?? undefined,
    };
}
/**
 * Applies the `unrepresentable` setting at a site that has no JSON Schema equivalent. Throws
 * `message` unless the setting (or the handler's return value) says otherwise. Returns `true` if a
 * custom JSON Schema was written into `json`, in which case the caller must not write its own.
 */
function handleUnrepresentable(schema, ctx, json, params, message) {
    const result = typeof ctx.unrepresentable === "function"
        ? ctx.unrepresentable({ zodSchema: schema, path: params.path, message })
        : ctx.unrepresentable;
    if (result === "any")
        return false;
    if (result === undefined || result === "throw")
        throw new Error(message);
    Object.assign(json, result);
    return true;
}
// never rename this back to `process`: bundler polyfills inject a top-level `const process` that a lexical declaration of the same name collides with (#6397)
function to_json_schema_processSchema(schema, ctx, _params = { path: [], schemaPath: [] }) {
    var _a;
    const def = schema._zod.def;
    // check for schema in seens
    const seen = ctx.seen.get(schema);
    if (seen) {
        seen.count++;
        // check if cycle
        const isCycle = _params.schemaPath.includes(schema);
        if (isCycle) {
            seen.cycle = _params.path;
        }
        return seen.schema;
    }
    // initialize
    const result = { schema: {}, count: 1, cycle: undefined, path: _params.path };
    ctx.seen.set(schema, result);
    ctx.sharedDefsExtractedFor = undefined;
    ctx.sharedEmitDoneFor = undefined;
    // custom method overrides default behavior
    const overrideSchema = schema._zod.toJSONSchema?.();
    if (overrideSchema) {
        result.schema = overrideSchema;
    }
    else {
        const params = {
            ..._params,
            schemaPath: [..._params.schemaPath, schema],
            path: _params.path,
        };
        if (schema._zod.processJSONSchema) {
            schema._zod.processJSONSchema(ctx, result.schema, params);
        }
        else {
            const _json = result.schema;
            const processor = ctx.processors[def.type];
            if (!processor) {
                throw new Error(`[toJSONSchema]: Non-representable type encountered: ${def.type}`);
            }
            processor(schema, ctx, _json, params);
        }
        const parent = schema._zod.parent;
        if (parent) {
            // Also set ref if processor didn't (for inheritance)
            if (!result.ref)
                result.ref = parent;
            to_json_schema_processSchema(parent, ctx, params);
            ctx.seen.get(parent).isParent = true;
        }
    }
    // metadata
    const meta = ctx.metadataRegistry.get(schema);
    if (meta)
        assignProps(result.schema, meta);
    if (ctx.io === "input" && isTransforming(schema)) {
        // examples/defaults only apply to output type of pipe
        delete result.schema.examples;
        delete result.schema.default;
    }
    // set prefault as default
    if (ctx.io === "input" && "_prefault" in result.schema)
        (_a = result.schema).default ?? (_a.default = result.schema._prefault);
    delete result.schema._prefault;
    // pulling fresh from ctx.seen in case it was overwritten
    const _result = ctx.seen.get(schema);
    return _result.schema;
}
/** @deprecated Renamed to `processSchema`. An export alias declares no binding, so it is safe to keep. */

// Escape a reference token for use in a JSON Pointer fragment (RFC 6901): `~` becomes `~0` and `/` becomes `~1`. The `~` replacement must run first.
function encodeJSONPointerSegment(segment) {
    return segment.replace(/~/g, "~0").replace(/\//g, "~1");
}
function to_json_schema_extractDefs(ctx, schema
// params: EmitParams
) {
    // iterate over seen map;
    const root = ctx.seen.get(schema);
    if (!root)
        throw new Error("Unprocessed schema. This is a bug in Zod.");
    // With `external` set, every registered schema resolves through the external branch of `makeURI`, so the root branch below produces the same ref the external branch would — this pass is identical whichever schema it is called with, and only needs to run once.
    if (ctx.external && ctx.sharedDefsExtractedFor === ctx.external)
        return;
    // Track ids to detect duplicates across different schemas
    const idToSchema = new Map();
    for (const entry of ctx.seen.entries()) {
        const id = ctx.metadataRegistry.get(entry[0])?.id;
        if (id) {
            const existing = idToSchema.get(id);
            if (existing && existing !== entry[0]) {
                throw new Error(`Duplicate schema id "${id}" detected during JSON Schema conversion. Two different schemas cannot share the same id when converted together.`);
            }
            idToSchema.set(id, entry[0]);
        }
    }
    // returns a ref to the schema defId will be empty if the ref points to an external schema (or #)
    const makeURI = (entry) => {
        // comparing the seen objects because sometimes multiple schemas map to the same seen object. e.g. lazy
        // external is configured
        const defsSegment = ctx.target === "draft-2020-12" ? "$defs" : "definitions";
        if (ctx.external) {
            const externalId = ctx.external.registry.get(entry[0])?.id; // ?? "__shared";// `__schema${ctx.counter++}`;
            // check if schema is in the external registry
            const uriGenerator = ctx.external.uri ?? ((id) => id);
            if (externalId) {
                return { ref: uriGenerator(externalId) };
            }
            // otherwise, add to __shared
            const id = entry[1].defId ?? entry[1].schema.id ?? `schema${ctx.counter++}`;
            entry[1].defId = id; // set defId so it will be reused if needed
            return { defId: id, ref: `${uriGenerator("__shared")}#/${defsSegment}/${encodeJSONPointerSegment(id)}` };
        }
        const uriPrefix = `#`;
        const defUriPrefix = `${uriPrefix}/${defsSegment}/`;
        // an id-less root has nowhere to be extracted to, so it stays inline and self-references as `#`
        if (entry[1] === root && !entry[1].schema.id) {
            return { ref: uriPrefix };
        }
        // self-contained schema
        const defId = entry[1].schema.id ?? `__schema${ctx.counter++}`;
        return { defId, ref: defUriPrefix + encodeJSONPointerSegment(defId) };
    };
    // stored cached version in `def` property remove all properties, set $ref
    const extractToDef = (entry) => {
        // if the schema is already a reference, do not extract it
        if (entry[1].schema.$ref) {
            return;
        }
        const seen = entry[1];
        const { ref, defId } = makeURI(entry);
        seen.def = { ...seen.schema };
        // defId won't be set if the schema is a reference to an external schema or if the schema is the root schema
        if (defId)
            seen.defId = defId;
        // wipe away all properties except $ref
        const schema = seen.schema;
        for (const key in schema) {
            delete schema[key];
        }
        schema.$ref = ref;
    };
    // throw on cycles
    // break cycles
    if (ctx.cycles === "throw") {
        for (const entry of ctx.seen.entries()) {
            const seen = entry[1];
            if (seen.cycle) {
                throw new Error("Cycle detected: " +
                    `#/${seen.cycle?.join("/")}/<root>` +
                    '\n\nSet the `cycles` parameter to `"ref"` to resolve cyclical schemas with defs.');
            }
        }
    }
    // extract schemas into $defs
    for (const entry of ctx.seen.entries()) {
        const seen = entry[1];
        // convert root schema to # $ref
        if (schema === entry[0]) {
            extractToDef(entry); // this has special handling for the root schema
            continue;
        }
        // extract schemas that are in the external registry
        if (ctx.external) {
            const ext = ctx.external.registry.get(entry[0])?.id;
            if (schema !== entry[0] && ext) {
                extractToDef(entry);
                continue;
            }
        }
        // extract schemas with `id` meta
        const id = ctx.metadataRegistry.get(entry[0])?.id;
        if (id) {
            extractToDef(entry);
            continue;
        }
        // break cycles
        if (seen.cycle) {
            // any
            extractToDef(entry);
            continue;
        }
        // extract reused schemas
        if (seen.count > 1) {
            if (ctx.reused === "ref") {
                extractToDef(entry);
            }
        }
    }
    if (ctx.external)
        ctx.sharedDefsExtractedFor = ctx.external;
}
/** Rewrites `anyOf: [{type: "a"}, {type: "b"}]` to `type: ["a", "b"]`, which every JSON Schema draft treats as equivalent and most consumers render far better for the nullable case. Only branches that are a bare type assertion qualify — anything carrying a constraint, `$ref`, `const` or metadata is left alone. Runs after `flattenRef`, so a branch an override decorated or `$defs` extraction turned into a `$ref` is no longer bare and correctly stays in `anyOf`. `oneOf` is excluded: `integer` and `number` overlap, so "exactly one" and "at least one" are not the same there. OpenAPI 3.0 is excluded: its `type` must be a single string. */
function compactTypeUnion(schema) {
    const options = schema.anyOf;
    if (!Array.isArray(options) || options.length === 0 || schema.type !== undefined)
        return;
    const types = [];
    for (const option of options) {
        if (!option || typeof option !== "object")
            return;
        // A branch that is itself a compactible union folds into this one — nested `anyOf` and a flat `type` array say the same thing. Compacting it first also makes the result independent of the order this pass walks the seen map in.
        compactTypeUnion(option);
        const keys = Object.keys(option);
        if (keys.length !== 1 || keys[0] !== "type")
            return;
        const type = option.type;
        for (const member of Array.isArray(type) ? type : [type]) {
            if (typeof member !== "string")
                return;
            if (!types.includes(member))
                types.push(member);
        }
    }
    delete schema.anyOf;
    // A `type` array must be non-empty and unique (metaschema); a single member is spelled as a bare string.
    schema.type = types.length === 1 ? types[0] : types;
}
/** Keywords `foldIntersection` knows how to combine. Anything else — `$ref`, `patternProperties`,
 * an annotation like `description` — makes a member unfoldable, so a constraint this does not
 * understand leaves the `allOf` alone instead of being silently dropped or misattributed. */
const FOLDABLE_KEYS = new Set(["type", "properties", "required", "additionalProperties"]);
const UNION_KEYS = ["oneOf", "anyOf"];
/** A member's constraint on a key it does not declare itself. A `catchall` states one; `false`, an absent `additionalProperties`, and the empty schema a loose object emits state nothing. */
function undeclaredConstraint(member) {
    const extra = member.additionalProperties;
    if (extra === undefined || extra === false || typeof extra !== "object" || extra === null)
        return null;
    return Object.keys(extra).length ? extra : null;
}
/** Combines object members into the single object they describe together, or returns `null` if any of them carries a keyword outside {@link FOLDABLE_KEYS}. */
function foldObjects(members) {
    const objects = [];
    for (const member of members) {
        // A boolean subschema is legal JSON Schema and carries no keywords to fold.
        if (typeof member !== "object" || member.type !== "object")
            return null;
        for (const key in member) {
            if (!FOLDABLE_KEYS.has(key))
                return null;
        }
        objects.push(member);
    }
    const properties = {};
    const required = new Set();
    for (const object of objects) {
        for (const key in object.properties) {
            // `in` would report a `__proto__` key as already present via the prototype chain and skip it.
            if (Object.prototype.hasOwnProperty.call(properties, key))
                continue;
            // Every member constrains this key: the ones that declare it say how, and a `catchall` member constrains it too even though it does not name it. The key has to satisfy all of them, which is the same intersection one level down.
            const parts = [];
            for (const other of objects) {
                const part = other.properties?.[key] ?? undeclaredConstraint(other);
                if (part === null || part === undefined)
                    continue;
                if (!parts.some((seen) => JSON.stringify(seen) === JSON.stringify(part)))
                    parts.push(part);
            }
            const merged = parts.length === 1
                ? parts[0]
                : (foldObjects(parts) ?? { allOf: parts });
            util_assignProp(properties, key, merged);
        }
        for (const key of object.required ?? [])
            required.add(key);
    }
    const folded = { type: "object", properties };
    if (required.size)
        folded.required = [...required];
    // A key no member declares is rejected only when every member rejects it, so the fold is closed only when every member is. Otherwise it carries whatever the `catchall` members demand of such a key.
    if (objects.every((object) => object.additionalProperties === false)) {
        folded.additionalProperties = false;
    }
    else {
        const constraints = [];
        for (const object of objects) {
            const constraint = undeclaredConstraint(object);
            if (constraint && !constraints.some((seen) => JSON.stringify(seen) === JSON.stringify(constraint)))
                constraints.push(constraint);
        }
        if (constraints.length === 1)
            folded.additionalProperties = constraints[0];
        else if (constraints.length > 1)
            folded.additionalProperties = { allOf: constraints };
    }
    return folded;
}
/** `additionalProperties` in an `allOf` member sees only that member's own `properties`, so two
 * closed object members reject each other's keys and the schema validates nothing. Zod's parser
 * pools the key sets instead — `handleIntersectionResults` reports a key as unrecognized only when
 * *every* side rejects it — so the emitted schema has to pool them too, and folding the members
 * into one object is the encoding that says so on every target.
 *
 * This runs from `finalize`, after `extractDefs`, which is what keeps it clear of the `$ref`
 * machinery: a member extracted into `$defs` is already a `$ref` by now and declines to fold, so it
 * keeps its reference and its own closedness rather than being inlined as a stale copy. */
function foldIntersection(json) {
    const allOf = json.allOf;
    if (!Array.isArray(allOf) || allOf.length < 2)
        return;
    // An `override` runs before this pass and may have written object keywords onto the intersection itself. Those are deliberate, so decline rather than overwrite them.
    for (const key of FOLDABLE_KEYS)
        if (key in json)
            return;
    // An intersection distributes over a union: `A & (X | Y)` is `(A & X) | (A & Y)`. Only the first union is distributed over; a second one stays among the members every branch folds against, where it fails the object check and declines the whole intersection rather than multiplying out.
    const unions = allOf.filter((m) => UNION_KEYS.some((k) => Array.isArray(m[k])));
    let folded = null;
    if (!unions.length) {
        folded = foldObjects(allOf);
    }
    else {
        const union = unions[0];
        const keyword = UNION_KEYS.find((k) => Array.isArray(union[k]));
        if (Object.keys(union).length !== 1)
            return;
        const rest = allOf.filter((m) => m !== union);
        const branches = union[keyword].map((branch) => foldObjects([...rest, branch]));
        if (branches.some((b) => !b))
            return;
        folded = { [keyword]: branches };
    }
    if (!folded)
        return;
    delete json.allOf;
    assignProps(json, folded);
}
function to_json_schema_finalize(ctx, schema) {
    const root = ctx.seen.get(schema);
    if (!root)
        throw new Error("Unprocessed schema. This is a bug in Zod.");
    // flatten refs - inherit properties from parent schemas
    const flattenRef = (zodSchema) => {
        const seen = ctx.seen.get(zodSchema);
        // already processed
        if (seen.ref === null)
            return;
        const schema = seen.def ?? seen.schema;
        const _cached = { ...schema };
        const ref = seen.ref;
        seen.ref = null; // prevent infinite recursion
        if (ref) {
            flattenRef(ref);
            const refSeen = ctx.seen.get(ref);
            const refSchema = refSeen.schema;
            // merge referenced schema into current
            if (refSchema.$ref && (ctx.target === "draft-07" || ctx.target === "draft-04" || ctx.target === "openapi-3.0")) {
                // older drafts can't combine $ref with other properties
                schema.allOf = schema.allOf ?? [];
                schema.allOf.push(refSchema);
            }
            else {
                assignProps(schema, refSchema);
            }
            // restore child's own properties (child wins)
            assignProps(schema, _cached);
            const isParentRef = zodSchema._zod.parent === ref;
            // For parent chain, child is a refinement - remove parent-only properties
            if (isParentRef) {
                for (const key in schema) {
                    if (key === "$ref" || key === "allOf")
                        continue;
                    if (!(key in _cached)) {
                        delete schema[key];
                    }
                }
            }
            // When ref was extracted to $defs, remove properties that match the definition
            if (refSchema.$ref && refSeen.def) {
                for (const key in schema) {
                    if (key === "$ref" || key === "allOf")
                        continue;
                    if (key in refSeen.def && JSON.stringify(schema[key]) === JSON.stringify(refSeen.def[key])) {
                        delete schema[key];
                    }
                }
            }
        }
        // If parent was extracted (has $ref), propagate $ref to this schema. This handles cases like: readonly().meta({id}).describe() where processor sets ref to innerType but parent should be referenced
        const parent = zodSchema._zod.parent;
        if (parent && parent !== ref) {
            // Ensure parent is processed first so its def has inherited properties
            flattenRef(parent);
            const parentSeen = ctx.seen.get(parent);
            if (parentSeen?.schema.$ref) {
                schema.$ref = parentSeen.schema.$ref;
                // De-duplicate with parent's definition
                if (parentSeen.def) {
                    for (const key in schema) {
                        if (key === "$ref" || key === "allOf")
                            continue;
                        if (key in parentSeen.def && JSON.stringify(schema[key]) === JSON.stringify(parentSeen.def[key])) {
                            delete schema[key];
                        }
                    }
                }
            }
        }
        // execute overrides
        ctx.override({
            zodSchema: zodSchema,
            jsonSchema: schema,
            path: seen.path ?? [],
        });
    };
    // Flattening walks the whole map and clears each `ref` as it goes, so a second call over the same map is a no-op scan. Skip it outright once it has run for a registry conversion.
    if (!ctx.external || ctx.sharedEmitDoneFor !== ctx.external) {
        for (const entry of [...ctx.seen.entries()].reverse()) {
            flattenRef(entry[0]);
        }
        if (ctx.target !== "openapi-3.0") {
            for (const entry of ctx.seen.entries()) {
                compactTypeUnion(entry[1].def ?? entry[1].schema);
            }
        }
        for (const rewrite of ctx.deferred)
            rewrite();
        // After flattening, every member that was extracted is a `$ref`, so the fold sees the final shape. A schema that inherits an intersection — through `z.lazy`, or any `ref` chain — holds the same `allOf` array, so fold by array identity to catch every copy.
        if (ctx.intersections.length) {
            const carriers = new Map();
            for (const seen of ctx.seen.values()) {
                for (const json of [seen.schema, seen.def]) {
                    const allOf = json?.allOf;
                    if (!Array.isArray(allOf))
                        continue;
                    const existing = carriers.get(allOf);
                    if (existing)
                        existing.push(json);
                    else
                        carriers.set(allOf, [json]);
                }
            }
            for (const allOf of ctx.intersections) {
                for (const json of carriers.get(allOf) ?? [])
                    foldIntersection(json);
            }
        }
    }
    const result = {};
    if (ctx.target === "draft-2020-12") {
        result.$schema = "https://json-schema.org/draft/2020-12/schema";
    }
    else if (ctx.target === "draft-07") {
        result.$schema = "http://json-schema.org/draft-07/schema#";
    }
    else if (ctx.target === "draft-04") {
        result.$schema = "http://json-schema.org/draft-04/schema#";
    }
    else if (ctx.target === "openapi-3.0") {
        // OpenAPI 3.0 schema objects should not include a $schema property
    }
    else {
        // Arbitrary string values are allowed but won't have a $schema property set
    }
    if (ctx.external?.uri) {
        const id = ctx.external.registry.get(schema)?.id;
        if (!id)
            throw new Error("Schema is missing an `id` property");
        result.$id = ctx.external.uri(id);
    }
    // when the root was extracted into $defs, `root.schema` is the `$ref` wrapper and `root.def` is the body that now lives under $defs
    assignProps(result, root.defId ? root.schema : (root.def ?? root.schema));
    // The `id` in `.meta()` is a Zod-specific registration tag used to extract schemas into $defs — it is not user-facing JSON Schema metadata. Strip it from the output body where it would otherwise leak. The id is preserved implicitly via the $defs key (and via $ref paths).
    const rootMetaId = ctx.metadataRegistry.get(schema)?.id;
    if (rootMetaId !== undefined && result.id === rootMetaId)
        delete result.id;
    // build defs object. With `external`, `defs` is the shared object every schema writes into, so the same entries are reassigned on every call. Without it, `defs` is fresh per call and must be rebuilt.
    const defs = ctx.external?.defs ?? {};
    if (!ctx.external || ctx.sharedEmitDoneFor !== ctx.external) {
        for (const entry of ctx.seen.entries()) {
            const seen = entry[1];
            if (seen.def && seen.defId) {
                if (seen.def.id === seen.defId)
                    delete seen.def.id;
                util_assignProp(defs, seen.defId, seen.def);
            }
        }
    }
    if (ctx.external)
        ctx.sharedEmitDoneFor = ctx.external;
    // set definitions in result
    if (ctx.external) {
    }
    else {
        if (Object.keys(defs).length > 0) {
            if (ctx.target === "draft-2020-12") {
                result.$defs = defs;
            }
            else {
                result.definitions = defs;
            }
        }
    }
    try {
        // this "finalizes" this schema and ensures all cycles are removed each call to finalize() is functionally independent though the seen map is shared
        const finalized = JSON.parse(JSON.stringify(result));
        Object.defineProperty(finalized, "~standard", {
            value: {
                ...schema["~standard"],
                jsonSchema: {
                    input: createStandardJSONSchemaMethod(schema, "input", ctx.processors),
                    output: createStandardJSONSchemaMethod(schema, "output", ctx.processors),
                },
            },
            enumerable: false,
            writable: false,
        });
        return finalized;
    }
    catch (_err) {
        throw new Error("Error converting schema to JSON.");
    }
}
function isTransforming(_schema, _ctx) {
    const ctx = _ctx ?? { seen: new Set() };
    if (ctx.seen.has(_schema))
        return false;
    ctx.seen.add(_schema);
    const def = _schema._zod.def;
    if (def.type === "transform")
        return true;
    if (def.type === "array")
        return isTransforming(def.element, ctx);
    if (def.type === "set")
        return isTransforming(def.valueType, ctx);
    if (def.type === "lazy")
        return isTransforming(def.getter(), ctx);
    if (def.type === "promise" ||
        def.type === "optional" ||
        def.type === "nonoptional" ||
        def.type === "nullable" ||
        def.type === "readonly" ||
        def.type === "default" ||
        def.type === "prefault" ||
        def.type === "catch") {
        return isTransforming(def.innerType, ctx);
    }
    if (def.type === "intersection") {
        return isTransforming(def.left, ctx) || isTransforming(def.right, ctx);
    }
    if (def.type === "record" || def.type === "map") {
        return isTransforming(def.keyType, ctx) || isTransforming(def.valueType, ctx);
    }
    if (def.type === "pipe") {
        if (_schema._zod.traits.has("$ZodCodec"))
            return true;
        return isTransforming(def.in, ctx) || isTransforming(def.out, ctx);
    }
    if (def.type === "object") {
        for (const key in def.shape) {
            if (isTransforming(def.shape[key], ctx))
                return true;
        }
        return false;
    }
    if (def.type === "union") {
        for (const option of def.options) {
            if (isTransforming(option, ctx))
                return true;
        }
        return false;
    }
    if (def.type === "tuple") {
        for (const item of def.items) {
            if (isTransforming(item, ctx))
                return true;
        }
        if (def.rest && isTransforming(def.rest, ctx))
            return true;
        return false;
    }
    return false;
}
/**
 * Creates a toJSONSchema method for a schema instance.
 * This encapsulates the logic of initializing context, processing, extracting defs, and finalizing.
 */
const createToJSONSchemaMethod = (schema, processors = {}) => (params) => {
    const ctx = to_json_schema_initializeContext({ ...params, processors });
    to_json_schema_processSchema(schema, ctx);
    to_json_schema_extractDefs(ctx, schema);
    return to_json_schema_finalize(ctx, schema);
};
const createStandardJSONSchemaMethod = (schema, io, processors = {}) => (params) => {
    const { libraryOptions, target } = params ?? {};
    const ctx = to_json_schema_initializeContext({ ...(libraryOptions ?? {}), target, io, processors });
    to_json_schema_processSchema(schema, ctx);
    to_json_schema_extractDefs(ctx, schema);
    return to_json_schema_finalize(ctx, schema);
};

;// CONCATENATED MODULE: ./node_modules/zod/v4/core/json-schema-processors.js




const narrowMin = (agg, key, value) => {
    if (agg[key] === undefined || value > agg[key])
        agg[key] = value;
};
const narrowMax = (agg, key, value) => {
    if (agg[key] === undefined || value < agg[key])
        agg[key] = value;
};
const narrowBoth = (agg, value) => {
    narrowMin(agg, "minimum", value);
    narrowMax(agg, "maximum", value);
};
const addDivisor = (agg, value) => {
    agg.multipleOf ?? (agg.multipleOf = []);
    if (!agg.multipleOf.includes(value))
        agg.multipleOf.push(value);
};
const addPattern = (agg, pattern) => {
    agg.patterns ?? (agg.patterns = new Set());
    agg.patterns.add(pattern);
};
const intersectMime = (agg, mime) => {
    agg.mime = agg.mime ? agg.mime.filter((m) => mime.includes(m)) : [...mime];
};
// last-wins, matching the bag's historical write order; the flag keeps an integer format from being lost to a later float one
const setFormat = (agg, format) => {
    agg.format = format;
    if (format.includes("int"))
        agg.isInt = true;
};
const minContributor = (agg, def) => narrowMin(agg, "minimum", def.minimum);
const maxContributor = (agg, def) => narrowMax(agg, "maximum", def.maximum);
const formatContributor = (ranges) => (agg, def) => {
    setFormat(agg, def.format);
    const [minimum, maximum] = ranges[def.format];
    narrowMin(agg, "minimum", minimum);
    narrowMax(agg, "maximum", maximum);
};
const contributors = {
    greater_than: (agg, def) => narrowMin(agg, def.inclusive ? "minimum" : "exclusiveMinimum", def.value),
    less_than: (agg, def) => narrowMax(agg, def.inclusive ? "maximum" : "exclusiveMaximum", def.value),
    multiple_of: (agg, def) => addDivisor(agg, def.value),
    number_format: formatContributor(NUMBER_FORMAT_RANGES),
    bigint_format: formatContributor(BIGINT_FORMAT_RANGES),
    min_length: minContributor,
    max_length: maxContributor,
    length_equals: (agg, def) => narrowBoth(agg, def.length),
    min_size: minContributor,
    max_size: maxContributor,
    size_equals: (agg, def) => narrowBoth(agg, def.size),
    string_format: (agg, def) => {
        setFormat(agg, def.format);
        if (def.pattern)
            addPattern(agg, def.pattern);
        if (def.format === "base64" || def.format === "base64url")
            agg.contentEncoding = def.format;
        if (def.local || def.precision === -1)
            agg.laxFormat = true;
    },
    mime_type: (agg, def) => intersectMime(agg, def.mime),
};
function aggregateChecks(schema) {
    const agg = {};
    const def = schema._zod.def;
    // a format schema is its own first check, same rule as $ZodType init
    const list = schema._zod.traits.has("$ZodCheck")
        ? [schema, ...(def.checks ?? [])]
        : (def.checks ?? []);
    for (const ch of list)
        contributors[ch._zod.def.check]?.(agg, ch._zod.def);
    // reconcile with the bag so third-party onattach contributions still land; first-party residue is never tighter than the fold, so merging it back is idempotent for one and additive for the other
    const bag = schema._zod.bag;
    if (bag.minimum !== undefined)
        narrowMin(agg, "minimum", bag.minimum);
    if (bag.exclusiveMinimum !== undefined)
        narrowMin(agg, "exclusiveMinimum", bag.exclusiveMinimum);
    if (bag.maximum !== undefined)
        narrowMax(agg, "maximum", bag.maximum);
    if (bag.exclusiveMaximum !== undefined)
        narrowMax(agg, "exclusiveMaximum", bag.exclusiveMaximum);
    if (bag.multipleOf !== undefined)
        addDivisor(agg, bag.multipleOf);
    if (bag.format !== undefined) {
        agg.format ?? (agg.format = bag.format);
        if (bag.format.includes("int"))
            agg.isInt = true;
    }
    if (bag.mime)
        intersectMime(agg, bag.mime);
    for (const pattern of bag.patterns ?? [])
        addPattern(agg, pattern);
    return agg;
}
const formatMap = {
    guid: "uuid",
    url: "uri",
    datetime: "date-time",
    json_string: "json-string",
    regex: "", // do not set
};
// ==================== SIMPLE TYPE PROCESSORS ====================
// the runtime patterns are lax so parse paths never overflow the regex stack; the emitted schema swaps in the exact block forms, which zod itself never executes
const exactPatterns = new Map([
    [base64Charset, regexes_base64],
    [base64urlCharset, regexes_base64url],
]);
const exactPattern = (p) => exactPatterns.get(p) ?? p;
const stringProcessor = (schema, ctx, _json, _params) => {
    const json = _json;
    json.type = "string";
    const { minimum, maximum, format, patterns, contentEncoding, laxFormat } = aggregateChecks(schema);
    if (typeof minimum === "number")
        json.minLength = minimum;
    if (typeof maximum === "number")
        json.maxLength = maximum;
    // custom pattern overrides format
    if (format) {
        json.format = formatMap[format] ?? format;
        if (json.format === "")
            delete json.format; // empty format is not valid
        // `z.iso.time()` is never full-time, and `laxFormat` carries the datetime shapes that also accept what their keyword forbids
        if (format === "time" || laxFormat) {
            delete json.format;
        }
    }
    if (contentEncoding)
        json.contentEncoding = contentEncoding;
    if (patterns && patterns.size > 0) {
        const patternList = [...patterns].map(exactPattern);
        if (patternList.length === 1)
            json.pattern = patternList[0].source;
        else if (patternList.length > 1) {
            json.allOf = [
                ...patternList.map((regex) => ({
                    ...(ctx.target === "draft-07" || ctx.target === "draft-04" || ctx.target === "openapi-3.0"
                        ? { type: "string" }
                        : {}),
                    pattern: regex.source,
                })),
            ];
        }
    }
};
const numberProcessor = (schema, ctx, _json, params) => {
    const json = _json;
    const { minimum, maximum, multipleOf, exclusiveMaximum, exclusiveMinimum, isInt } = aggregateChecks(schema);
    json.type = isInt ? "integer" : "number";
    // when both minimum and exclusiveMinimum exist, pick the more restrictive one
    const exMin = typeof exclusiveMinimum === "number" && exclusiveMinimum >= (minimum ?? Number.NEGATIVE_INFINITY);
    const exMax = typeof exclusiveMaximum === "number" && exclusiveMaximum <= (maximum ?? Number.POSITIVE_INFINITY);
    const legacy = ctx.target === "draft-04" || ctx.target === "openapi-3.0";
    if (exMin) {
        if (legacy) {
            json.minimum = exclusiveMinimum;
            json.exclusiveMinimum = true;
        }
        else {
            json.exclusiveMinimum = exclusiveMinimum;
        }
    }
    else if (typeof minimum === "number") {
        json.minimum = minimum;
    }
    if (exMax) {
        if (legacy) {
            json.maximum = exclusiveMaximum;
            json.exclusiveMaximum = true;
        }
        else {
            json.exclusiveMaximum = exclusiveMaximum;
        }
    }
    else if (typeof maximum === "number") {
        json.maximum = maximum;
    }
    if (multipleOf) {
        // JSON Schema requires a divisor strictly greater than zero, and a non-finite one does not survive JSON at all. A negative divisor accepts exactly what its absolute value accepts, so it still maps; zero, NaN and Infinity have no keyword form.
        const divisors = new Set();
        for (const divisor of multipleOf) {
            if (Number.isFinite(divisor) && divisor !== 0)
                divisors.add(Math.abs(divisor));
            else
                handleUnrepresentable(schema, ctx, json, params, `A multipleOf divisor of ${divisor} cannot be represented in JSON Schema`);
        }
        // chained divisors are a conjunction the keyword cannot carry alone, so extras ride an allOf, same as stacked patterns
        const [first, ...rest] = divisors;
        if (first !== undefined)
            json.multipleOf = first;
        if (rest.length)
            json.allOf = [...(json.allOf ?? []), ...rest.map((m) => ({ multipleOf: m }))];
    }
};
const booleanProcessor = (_schema, _ctx, json, _params) => {
    json.type = "boolean";
};
const bigintProcessor = (schema, ctx, json, params) => {
    handleUnrepresentable(schema, ctx, json, params, "BigInt cannot be represented in JSON Schema");
};
const symbolProcessor = (schema, ctx, json, params) => {
    handleUnrepresentable(schema, ctx, json, params, "Symbols cannot be represented in JSON Schema");
};
const nullProcessor = (_schema, ctx, json, _params) => {
    if (ctx.target === "openapi-3.0") {
        json.type = "string";
        json.nullable = true;
        json.enum = [null];
    }
    else {
        json.type = "null";
    }
};
const undefinedProcessor = (schema, ctx, json, params) => {
    handleUnrepresentable(schema, ctx, json, params, "Undefined cannot be represented in JSON Schema");
};
const voidProcessor = (schema, ctx, json, params) => {
    handleUnrepresentable(schema, ctx, json, params, "Void cannot be represented in JSON Schema");
};
const neverProcessor = (_schema, _ctx, json, _params) => {
    json.not = {};
};
const anyProcessor = (_schema, _ctx, _json, _params) => {
    // empty schema accepts anything
};
const unknownProcessor = (_schema, _ctx, _json, _params) => {
    // empty schema accepts anything
};
const dateProcessor = (schema, ctx, json, params) => {
    handleUnrepresentable(schema, ctx, json, params, "Date cannot be represented in JSON Schema");
};
const enumProcessor = (schema, _ctx, json, _params) => {
    const def = schema._zod.def;
    const values = getEnumValues(def.entries);
    // an empty enum accepts nothing, same as z.never()
    if (values.length === 0) {
        json.not = {};
        return;
    }
    // Number enums can have both string and number values
    if (values.every((v) => typeof v === "number"))
        json.type = "number";
    if (values.every((v) => typeof v === "string"))
        json.type = "string";
    json.enum = values;
};
const literalProcessor = (schema, ctx, json, params) => {
    const def = schema._zod.def;
    // a literal with no values accepts nothing, same as z.never()
    if (def.values.length === 0) {
        json.not = {};
        return;
    }
    const vals = [];
    for (const val of def.values) {
        if (val === undefined) {
            // a custom schema replaces the whole literal, so there is nothing left to accumulate
            if (handleUnrepresentable(schema, ctx, json, params, "Literal `undefined` cannot be represented in JSON Schema"))
                return;
            // otherwise do not add to vals
        }
        else if (typeof val === "bigint") {
            if (handleUnrepresentable(schema, ctx, json, params, "BigInt literals cannot be represented in JSON Schema"))
                return;
            vals.push(Number(val));
        }
        else {
            vals.push(val);
        }
    }
    if (vals.length === 0) {
        // do nothing (an undefined literal was stripped)
    }
    else if (vals.length === 1) {
        const val = vals[0];
        json.type = val === null ? "null" : typeof val;
        if (ctx.target === "draft-04" || ctx.target === "openapi-3.0") {
            json.enum = [val];
        }
        else {
            json.const = val;
        }
    }
    else {
        if (vals.every((v) => typeof v === "number"))
            json.type = "number";
        if (vals.every((v) => typeof v === "string"))
            json.type = "string";
        if (vals.every((v) => typeof v === "boolean"))
            json.type = "boolean";
        if (vals.every((v) => v === null))
            json.type = "null";
        json.enum = vals;
    }
};
const nanProcessor = (schema, ctx, json, params) => {
    handleUnrepresentable(schema, ctx, json, params, "NaN cannot be represented in JSON Schema");
};
const templateLiteralProcessor = (schema, _ctx, json, _params) => {
    const _json = json;
    const pattern = schema._zod.pattern;
    if (!pattern)
        throw new Error("Pattern not found in template literal");
    _json.type = "string";
    _json.pattern = pattern.source;
};
const fileProcessor = (schema, _ctx, json, _params) => {
    const _json = json;
    _json.type = "string";
    _json.format = "binary";
    _json.contentEncoding = "binary";
    const { minimum, maximum, mime } = aggregateChecks(schema);
    if (minimum !== undefined)
        _json.minLength = minimum;
    if (maximum !== undefined)
        _json.maxLength = maximum;
    if (!mime)
        return;
    // an empty intersection means the mime checks share no value, so nothing passes at runtime; `anyOf` must be non-empty, so the false schema is `not: {}`
    if (mime.length === 0)
        _json.not = {};
    else if (mime.length === 1)
        _json.contentMediaType = mime[0];
    // only contentMediaType differs, so the shared props stay at the root
    else
        _json.anyOf = mime.map((m) => ({ contentMediaType: m }));
};
const successProcessor = (_schema, _ctx, json, _params) => {
    json.type = "boolean";
};
const customProcessor = (schema, ctx, json, params) => {
    handleUnrepresentable(schema, ctx, json, params, "Custom types cannot be represented in JSON Schema");
};
const functionProcessor = (schema, ctx, json, params) => {
    handleUnrepresentable(schema, ctx, json, params, "Function types cannot be represented in JSON Schema");
};
const transformProcessor = (schema, ctx, json, params) => {
    handleUnrepresentable(schema, ctx, json, params, "Transforms cannot be represented in JSON Schema");
};
const mapProcessor = (schema, ctx, json, params) => {
    handleUnrepresentable(schema, ctx, json, params, "Map cannot be represented in JSON Schema");
};
const setProcessor = (schema, ctx, json, params) => {
    handleUnrepresentable(schema, ctx, json, params, "Set cannot be represented in JSON Schema");
};
// ==================== COMPOSITE TYPE PROCESSORS ====================
const arrayProcessor = (schema, ctx, _json, params) => {
    const json = _json;
    const def = schema._zod.def;
    const { minimum, maximum } = aggregateChecks(schema);
    if (typeof minimum === "number")
        json.minItems = minimum;
    if (typeof maximum === "number")
        json.maxItems = maximum;
    json.type = "array";
    json.items = to_json_schema_processSchema(def.element, ctx, {
        ...params,
        path: [...params.path, "items"],
    });
};
// Transform and catch set `optin = "optional"` at runtime so the parser lets them observe an
// absent key, but their declared input type stays required. An input JSON Schema describes the
// declared type, so resolve past them to the schema that actually carries the optionality.
// Used by both `objectProcessor` (for `required`) and `tupleProcessor` (for `minItems`); see
// wiki/optionality.md, "The JSON Schema emitter reads the *static* value".
function inputOptin(schema) {
    const def = schema._zod.def;
    if (def.type === "pipe" && def.in._zod.traits.has("$ZodTransform")) {
        return inputOptin(def.out);
    }
    if (def.type === "catch") {
        return inputOptin(def.innerType);
    }
    return schema._zod.optin;
}
const objectProcessor = (schema, ctx, _json, params) => {
    const json = _json;
    const def = schema._zod.def;
    const shape = def.shape;
    // dropping it while still emitting `additionalProperties: false` would emit a schema that rejects data this one requires
    const symbolKeys = Object.getOwnPropertySymbols(shape);
    if (symbolKeys.length &&
        handleUnrepresentable(schema, ctx, json, params, "Symbol keys cannot be represented in JSON Schema")) {
        return;
    }
    json.type = "object";
    json.properties = {};
    for (const key in shape) {
        // assignProp so a __proto__ key becomes an own property instead of hitting the inherited setter on the plain {} we build into
        util_assignProp(json.properties, key, to_json_schema_processSchema(shape[key], ctx, {
            ...params,
            path: [...params.path, "properties", key],
        }));
    }
    // required keys
    const requiredKeys = [];
    for (const key of Object.keys(shape)) {
        const field = def.shape[key];
        if (ctx.io === "input" ? inputOptin(field) === undefined : field._zod.optout === undefined) {
            requiredKeys.push(key);
        }
    }
    if (requiredKeys.length > 0) {
        json.required = requiredKeys;
    }
    // catchall
    if (def.catchall?._zod.def.type === "never") {
        // strict
        json.additionalProperties = false;
    }
    else if (!def.catchall) {
        // regular
        if (ctx.io === "output")
            json.additionalProperties = false;
    }
    else if (def.catchall) {
        json.additionalProperties = to_json_schema_processSchema(def.catchall, ctx, {
            ...params,
            path: [...params.path, "additionalProperties"],
        });
    }
};
const unionProcessor = (schema, ctx, json, params) => {
    const def = schema._zod.def;
    // Exclusive unions (inclusive === false) use oneOf (exactly one match) instead of anyOf (one or more matches). This includes both z.xor() and discriminated unions
    const isExclusive = def.inclusive === false;
    const options = def.options.map((x, i) => to_json_schema_processSchema(x, ctx, {
        ...params,
        path: [...params.path, isExclusive ? "oneOf" : "anyOf", i],
    }));
    if (isExclusive) {
        json.oneOf = options;
    }
    else {
        json.anyOf = options;
    }
};
const intersectionProcessor = (schema, ctx, json, params) => {
    const def = schema._zod.def;
    const a = to_json_schema_processSchema(def.left, ctx, {
        ...params,
        path: [...params.path, "allOf", 0],
    });
    const b = to_json_schema_processSchema(def.right, ctx, {
        ...params,
        path: [...params.path, "allOf", 1],
    });
    const isSimpleIntersection = (val) => "allOf" in val && Object.keys(val).length === 1;
    const allOf = [
        ...(isSimpleIntersection(a) ? a.allOf : [a]),
        ...(isSimpleIntersection(b) ? b.allOf : [b]),
    ];
    json.allOf = allOf;
    // Recorded innermost first, so a nested intersection has already folded by the time this one is considered. The array is the handle rather than the schema, because a wrapper that inherits this schema shares the same array; `finalize` folds every object holding it. See `foldIntersection`.
    ctx.intersections.push(allOf);
};
const tupleProcessor = (schema, ctx, _json, params) => {
    const json = _json;
    const def = schema._zod.def;
    json.type = "array";
    const prefixPath = ctx.target === "draft-2020-12" ? "prefixItems" : "items";
    const restPath = ctx.target === "draft-2020-12" ? "items" : ctx.target === "openapi-3.0" ? "items" : "additionalItems";
    const prefixItems = def.items.map((x, i) => to_json_schema_processSchema(x, ctx, {
        ...params,
        path: [...params.path, prefixPath, i],
    }));
    const rest = def.rest
        ? to_json_schema_processSchema(def.rest, ctx, {
            ...params,
            path: [...params.path, restPath, ...(ctx.target === "openapi-3.0" ? [def.items.length] : [])],
        })
        : null;
    let minItems = def.items.length;
    while (minItems > 0) {
        const item = def.items[minItems - 1];
        const optional = ctx.io === "input" ? inputOptin(item) !== undefined : item._zod.optout === "optional";
        if (!optional)
            break;
        minItems--;
    }
    const maxItems = def.items.length;
    const isClosed = !def.rest;
    if (ctx.target === "draft-2020-12") {
        json.prefixItems = prefixItems;
        if (isClosed) {
            json.items = false;
        }
        else if (rest) {
            json.items = rest;
        }
        if (minItems > 0)
            json.minItems = minItems;
        if (isClosed)
            json.maxItems = maxItems;
    }
    else if (ctx.target === "openapi-3.0") {
        json.items = {
            anyOf: prefixItems,
        };
        if (rest) {
            json.items.anyOf.push(rest);
        }
        if (minItems > 0)
            json.minItems = minItems;
        if (isClosed)
            json.maxItems = maxItems;
    }
    else {
        json.items = prefixItems;
        if (isClosed) {
            json.additionalItems = false;
        }
        else if (rest) {
            json.additionalItems = rest;
        }
        if (minItems > 0)
            json.minItems = minItems;
        if (isClosed)
            json.maxItems = maxItems;
    }
    // explicit user-defined length checks take precedence
    const { minimum, maximum } = aggregateChecks(schema);
    if (typeof minimum === "number")
        json.minItems = minimum;
    if (typeof maximum === "number")
        json.maxItems = maximum;
};
/** JSON object keys are always strings, so a numeric record key schema is re-expressed over the
 * numeric-string form the record parser matches. Deferred to `finalize`, after the flatten: a key
 * behind a wrapper only carries its own `type` before then, and a union key only has its branches.
 *
 * A numeric bound cannot apply to a property name, so `minimum` and its siblings are dropped rather
 * than carried over: keeping them beside `type: "string"` reproduces the match-nothing schema this
 * exists to fix. A key that carries one therefore emits wider than the record parses — `z.record(z.number().min(5), V)`
 * accepts `"3"` — which is the deliberate trade, since throwing on it would reject an ordinary schema
 * outright. */
function stringifyKeyNames(bySchema, json, visited) {
    // an extracted key that rewrites cannot go on sharing its definition — the string form a key position needs is not the number form every other reference wants — so it inlines. One that does not rewrite keeps the `$ref`.
    if (json.$ref) {
        // a recursive key holds its own reference inside its definition, so a node already on the path is left alone rather than resolved again
        if (visited.has(json))
            return json;
        visited.add(json);
        const def = bySchema.get(json)?.def;
        if (!def)
            return json;
        const inlined = stringifyKeyNames(bySchema, def, visited);
        return inlined === def ? json : inlined;
    }
    for (const keyword of ["anyOf", "oneOf"]) {
        const branches = json[keyword];
        if (!Array.isArray(branches))
            continue;
        const mapped = branches.map((branch) => stringifyKeyNames(bySchema, branch, visited));
        // rebuilding regardless would detach a key that had nothing to re-express, dropping its `$ref` and leaking the internal `id`
        if (mapped.some((branch, i) => branch !== branches[i]))
            json = { ...json, [keyword]: mapped };
    }
    // a member that already admits a string leaves the key unconstrained, so the node's own type re-expresses only when every member is numeric
    const types = Array.isArray(json.type) ? json.type : [json.type];
    const numericType = !types.includes("string") && types.some((t) => t === "number" || t === "integer");
    // a heterogeneous key carries no type at all, so its numeric members are caught here instead
    const values = json.enum ?? (json.const !== undefined ? [json.const] : undefined);
    if (!numericType && !values?.some((v) => typeof v === "number"))
        return json;
    const { minimum, maximum, exclusiveMinimum, exclusiveMaximum, multipleOf, format, id, ...rest } = json;
    if (rest.enum)
        rest.enum = rest.enum.map((v) => (typeof v === "number" ? String(v) : v));
    else if (typeof rest.const === "number")
        rest.const = String(rest.const);
    // a heterogeneous key keeps its absent type: the stringified members already say what a key may be
    if (!numericType)
        return rest;
    rest.type = "string";
    if (!values)
        rest.pattern = (types.includes("number") ? number : integer).source;
    return rest;
}
/** Every record of one conversion, so the carriers are found in a single pass rather than once per record. */
const pendingRecords = new WeakMap();
function rewriteKeyNames(ctx) {
    // an extracted key is resolved by the object `extractToDef` left in its place, so the map is built once rather than searched per reference. `_zod.toJSONSchema` can hand the same object to two schemas, so the first entry carrying a body wins, as a search would have found it.
    const bySchema = new Map();
    for (const entry of ctx.seen.values()) {
        if (entry.def && !bySchema.has(entry.schema))
            bySchema.set(entry.schema, entry);
    }
    const rewrites = new Map();
    for (const record of pendingRecords.get(ctx) ?? []) {
        const seen = ctx.seen.get(record);
        const names = (seen?.def ?? seen?.schema)?.propertyNames;
        if (!names || names === true || rewrites.has(names))
            continue;
        const rewritten = stringifyKeyNames(bySchema, names, new Set());
        if (rewritten !== names)
            rewrites.set(names, rewritten);
    }
    if (!rewrites.size)
        return;
    // the flatten has already copied each record's own properties onto every wrapper by reference, and an extracted body is another such copy, so every carrier holding a rewritten key is updated together
    for (const entry of ctx.seen.values()) {
        for (const carrier of [entry.schema, entry.def]) {
            const rewritten = carrier && rewrites.get(carrier.propertyNames);
            if (rewritten)
                carrier.propertyNames = rewritten;
        }
    }
}
const recordProcessor = (schema, ctx, _json, params) => {
    const json = _json;
    const def = schema._zod.def;
    json.type = "object";
    // For looseRecord with regex patterns, use patternProperties. This correctly represents "only validate keys matching the pattern" semantics and composes well with allOf (intersections)
    const keyType = def.keyType;
    const patterns = aggregateChecks(keyType).patterns;
    if (def.mode === "loose" && patterns && patterns.size > 0) {
        // Use patternProperties for looseRecord with regex patterns
        const valueSchema = to_json_schema_processSchema(def.valueType, ctx, {
            ...params,
            path: [...params.path, "patternProperties", "*"],
        });
        json.patternProperties = {};
        for (const pattern of patterns) {
            util_assignProp(json.patternProperties, exactPattern(pattern).source, valueSchema);
        }
    }
    else {
        // Default behavior: use propertyNames + additionalProperties
        if (ctx.target === "draft-07" || ctx.target === "draft-2020-12") {
            json.propertyNames = to_json_schema_processSchema(def.keyType, ctx, {
                ...params,
                path: [...params.path, "propertyNames"],
            });
            let pending = pendingRecords.get(ctx);
            if (!pending) {
                pending = [];
                pendingRecords.set(ctx, pending);
                ctx.deferred.push(() => rewriteKeyNames(ctx));
            }
            pending.push(schema);
        }
        json.additionalProperties = to_json_schema_processSchema(def.valueType, ctx, {
            ...params,
            path: [...params.path, "additionalProperties"],
        });
    }
    // Add required for keys with discrete values (enum, literal, etc.)
    const keyValues = keyType._zod.values;
    // Every key shares one value schema, so an optional-in value makes the whole key set omittable on input. Output keeps them: the exhaustive branch assigns every key, even one whose value came back undefined.
    const omittableOnInput = ctx.io === "input" && inputOptin(def.valueType) !== undefined;
    if (keyValues && !def.partial && !omittableOnInput) {
        const validKeyValues = [...keyValues].filter((v) => typeof v === "string" || typeof v === "number");
        if (validKeyValues.length > 0) {
            json.required = validKeyValues.map(String);
        }
    }
};
const nullableProcessor = (schema, ctx, json, params) => {
    const def = schema._zod.def;
    const inner = to_json_schema_processSchema(def.innerType, ctx, params);
    const seen = ctx.seen.get(schema);
    if (ctx.target === "openapi-3.0") {
        seen.ref = def.innerType;
        json.nullable = true;
    }
    else {
        json.anyOf = [inner, { type: "null" }];
    }
};
const nonoptionalProcessor = (schema, ctx, _json, params) => {
    const def = schema._zod.def;
    to_json_schema_processSchema(def.innerType, ctx, params);
    const seen = ctx.seen.get(schema);
    seen.ref = def.innerType;
};
/** Round-trips a default value through JSON so the emitted schema is guaranteed to be valid JSON.
 * A BigInt has no reliable encoding, so it goes through `unrepresentable` like any other
 * unrepresentable value. Returns a sentinel when the caller must not write a default of its own. */
const UNREPRESENTABLE_DEFAULT = Symbol();
function serializeDefaultValue(value, schema, ctx, json, params) {
    let unrepresentable = false;
    const serialized = JSON.stringify(value, (_, val) => {
        if (typeof val !== "bigint")
            return val;
        unrepresentable = true;
        return null;
    });
    if (!unrepresentable)
        return JSON.parse(serialized);
    handleUnrepresentable(schema, ctx, json, params, "BigInt defaults cannot be represented in JSON Schema");
    return UNREPRESENTABLE_DEFAULT;
}
const defaultProcessor = (schema, ctx, json, params) => {
    const def = schema._zod.def;
    to_json_schema_processSchema(def.innerType, ctx, params);
    const seen = ctx.seen.get(schema);
    seen.ref = def.innerType;
    const value = serializeDefaultValue(def.defaultValue, schema, ctx, json, params);
    if (value !== UNREPRESENTABLE_DEFAULT)
        json.default = value;
};
const prefaultProcessor = (schema, ctx, json, params) => {
    const def = schema._zod.def;
    to_json_schema_processSchema(def.innerType, ctx, params);
    const seen = ctx.seen.get(schema);
    seen.ref = def.innerType;
    if (ctx.io !== "input")
        return;
    const value = serializeDefaultValue(def.defaultValue, schema, ctx, json, params);
    if (value !== UNREPRESENTABLE_DEFAULT)
        json._prefault = value;
};
const catchProcessor = (schema, ctx, json, params) => {
    const def = schema._zod.def;
    to_json_schema_processSchema(def.innerType, ctx, params);
    const seen = ctx.seen.get(schema);
    seen.ref = def.innerType;
    let catchValue;
    try {
        catchValue = def.catchValue(undefined);
    }
    catch {
        handleUnrepresentable(schema, ctx, json, params, "Dynamic catch values are not supported in JSON Schema");
        return;
    }
    json.default = catchValue;
};
const pipeProcessor = (schema, ctx, _json, params) => {
    const def = schema._zod.def;
    const inIsTransform = def.in._zod.traits.has("$ZodTransform");
    const innerType = ctx.io === "input" ? (inIsTransform ? def.out : def.in) : def.out;
    to_json_schema_processSchema(innerType, ctx, params);
    const seen = ctx.seen.get(schema);
    seen.ref = innerType;
};
const readonlyProcessor = (schema, ctx, json, params) => {
    const def = schema._zod.def;
    to_json_schema_processSchema(def.innerType, ctx, params);
    const seen = ctx.seen.get(schema);
    seen.ref = def.innerType;
    json.readOnly = true;
};
const promiseProcessor = (schema, ctx, _json, params) => {
    const def = schema._zod.def;
    to_json_schema_processSchema(def.innerType, ctx, params);
    const seen = ctx.seen.get(schema);
    seen.ref = def.innerType;
};
const optionalProcessor = (schema, ctx, _json, params) => {
    const def = schema._zod.def;
    to_json_schema_processSchema(def.innerType, ctx, params);
    const seen = ctx.seen.get(schema);
    seen.ref = def.innerType;
};
const lazyProcessor = (schema, ctx, _json, params) => {
    const innerType = schema._zod.innerType;
    to_json_schema_processSchema(innerType, ctx, params);
    const seen = ctx.seen.get(schema);
    seen.ref = innerType;
};
// ==================== ALL PROCESSORS ====================
const allProcessors = {
    string: stringProcessor,
    number: numberProcessor,
    boolean: booleanProcessor,
    bigint: bigintProcessor,
    symbol: symbolProcessor,
    null: nullProcessor,
    undefined: undefinedProcessor,
    void: voidProcessor,
    never: neverProcessor,
    any: anyProcessor,
    unknown: unknownProcessor,
    date: dateProcessor,
    enum: enumProcessor,
    literal: literalProcessor,
    nan: nanProcessor,
    template_literal: templateLiteralProcessor,
    file: fileProcessor,
    success: successProcessor,
    custom: customProcessor,
    function: functionProcessor,
    transform: transformProcessor,
    map: mapProcessor,
    set: setProcessor,
    array: arrayProcessor,
    object: objectProcessor,
    union: unionProcessor,
    intersection: intersectionProcessor,
    tuple: tupleProcessor,
    record: recordProcessor,
    nullable: nullableProcessor,
    nonoptional: nonoptionalProcessor,
    default: defaultProcessor,
    prefault: prefaultProcessor,
    catch: catchProcessor,
    pipe: pipeProcessor,
    readonly: readonlyProcessor,
    promise: promiseProcessor,
    optional: optionalProcessor,
    lazy: lazyProcessor,
};
function toJSONSchema(input, params) {
    if ("_idmap" in input) {
        // Registry case
        const registry = input;
        const ctx = initializeContext({ ...params, processors: allProcessors });
        const defs = {};
        // First pass: process all schemas to build the seen map
        for (const entry of registry._idmap.entries()) {
            const [_, schema] = entry;
            processSchema(schema, ctx);
        }
        const schemas = {};
        const external = {
            registry,
            uri: params?.uri,
            defs,
        };
        // Update the context with external configuration
        ctx.external = external;
        // Second pass: emit each schema
        for (const entry of registry._idmap.entries()) {
            const [key, schema] = entry;
            extractDefs(ctx, schema);
            assignProp(schemas, key, finalize(ctx, schema));
        }
        if (Object.keys(defs).length > 0) {
            const defsSegment = ctx.target === "draft-2020-12" ? "$defs" : "definitions";
            schemas.__shared = {
                [defsSegment]: defs,
            };
        }
        return { schemas };
    }
    // Single schema case
    const ctx = initializeContext({ ...params, processors: allProcessors });
    processSchema(input, ctx);
    extractDefs(ctx, input);
    return finalize(ctx, input);
}

;// CONCATENATED MODULE: ./node_modules/zod/v4/locales/en.js

const error = () => {
    const Sizable = {
        string: { unit: "characters", verb: "to have" },
        file: { unit: "bytes", verb: "to have" },
        array: { unit: "items", verb: "to have" },
        set: { unit: "items", verb: "to have" },
        map: { unit: "entries", verb: "to have" },
    };
    function getSizing(origin) {
        return Sizable[origin] ?? null;
    }
    const FormatDictionary = {
        regex: "input",
        email: "email address",
        url: "URL",
        emoji: "emoji",
        uuid: "UUID",
        uuidv4: "UUIDv4",
        uuidv6: "UUIDv6",
        nanoid: "nanoid",
        guid: "GUID",
        cuid: "cuid",
        cuid2: "cuid2",
        ulid: "ULID",
        xid: "XID",
        ksuid: "KSUID",
        datetime: "ISO datetime",
        date: "ISO date",
        time: "ISO time",
        duration: "ISO duration",
        ipv4: "IPv4 address",
        ipv6: "IPv6 address",
        mac: "MAC address",
        cidrv4: "IPv4 range",
        cidrv6: "IPv6 range",
        base64: "base64-encoded string",
        base64url: "base64url-encoded string",
        json_string: "JSON string",
        e164: "E.164 number",
        currency_code: "currency code",
        credit_card: "credit card number",
        iban: "IBAN",
        jwt: "JWT",
        template_literal: "input",
    };
    // type names: missing keys = do not translate (use raw value via ?? fallback)
    const TypeDictionary = {
        // Compatibility: "nan" -> "NaN" for display
        nan: "NaN",
        // All other type names omitted - they fall back to raw values via ?? operator
    };
    function getTypeName(type, input) {
        if (type === "number" && typeof input === "number" && !Number.isFinite(input)) {
            return String(input);
        }
        return TypeDictionary[type] ?? type;
    }
    return (issue) => {
        switch (issue.code) {
            case "invalid_type": {
                const expected = getTypeName(issue.expected);
                const receivedType = parsedType(issue.input);
                const received = getTypeName(receivedType, issue.input);
                return `Invalid input: expected ${expected}, received ${received}`;
            }
            case "invalid_value":
                if (issue.values.length === 1)
                    return `Invalid input: expected ${stringifyPrimitive(issue.values[0])}`;
                return `Invalid option: expected one of ${joinValues(issue.values, "|")}`;
            case "too_big": {
                const adj = issue.exact ? "exactly " : issue.inclusive ? "<=" : "<";
                const sizing = getSizing(issue.origin);
                if (sizing)
                    return `Too big: expected ${issue.origin ?? "value"} to have ${adj}${issue.maximum.toString()} ${sizing.unit ?? "elements"}`;
                return `Too big: expected ${issue.origin ?? "value"} to be ${adj}${issue.maximum.toString()}`;
            }
            case "too_small": {
                const adj = issue.exact ? "exactly " : issue.inclusive ? ">=" : ">";
                const sizing = getSizing(issue.origin);
                if (sizing) {
                    return `Too small: expected ${issue.origin} to have ${adj}${issue.minimum.toString()} ${sizing.unit}`;
                }
                return `Too small: expected ${issue.origin} to be ${adj}${issue.minimum.toString()}`;
            }
            case "invalid_format": {
                const _issue = issue;
                if (_issue.format === "starts_with") {
                    return `Invalid string: must start with "${_issue.prefix}"`;
                }
                if (_issue.format === "ends_with")
                    return `Invalid string: must end with "${_issue.suffix}"`;
                if (_issue.format === "includes")
                    return `Invalid string: must include "${_issue.includes}"`;
                if (_issue.format === "regex")
                    return `Invalid string: must match pattern ${_issue.pattern}`;
                return `Invalid ${FormatDictionary[_issue.format] ?? issue.format}`;
            }
            case "not_multiple_of":
                return `Invalid number: must be a multiple of ${issue.divisor}`;
            case "unrecognized_keys":
                return `Unrecognized key${issue.keys.length > 1 ? "s" : ""}: ${joinValues(issue.keys, ", ")}`;
            case "invalid_key":
                return `Invalid key in ${issue.origin}`;
            case "invalid_union":
                if (issue.options && Array.isArray(issue.options) && issue.options.length > 0) {
                    const opts = issue.options.map((o) => `'${o}'`).join(" | ");
                    return `Invalid discriminator value. Expected ${opts}`;
                }
                if (issue.inclusive === false) {
                    return "Invalid input: more than one option matched";
                }
                return "Invalid input";
            case "invalid_element":
                return `Invalid value in ${issue.origin}`;
            default:
                return `Invalid input`;
        }
    };
};
/* harmony default export */ function en() {
    return {
        localeError: error(),
    };
}

;// CONCATENATED MODULE: ./node_modules/zod/v4/core/errors.js


/* Computing the message eagerly is expensive (pretty-printed JSON of all
 * issues), so defer it until first read. The accessor functions and
 * descriptors are shared across instances to keep error construction
 * cheap; the computed message is cached on the internals object. The
 * setter preserves plain assignment semantics for consumers that
 * overwrite `message`. */
function _getMessage() {
    const internals = this._zod;
    internals.message ?? (internals.message = JSON.stringify(internals.def, jsonStringifyReplacer, 2));
    return internals.message;
}
function _setMessage(value) {
    this._zod.message = value;
}
const _messageDesc = {
    get: _getMessage,
    set: _setMessage,
    enumerable: true,
    configurable: true,
};
const _issuesDesc = { value: undefined, enumerable: false };
/* Prototypes that already carry the lazy `toString`. Seeded with the
 * intrinsics so that `init` on a foreign object — it accepts any object —
 * can never install an accessor onto a prototype we do not own. */
const _installedToString = /* @__PURE__ */ new WeakSet([Object.prototype, Error.prototype]);
const initializer = (inst, def) => {
    inst.name = "$ZodError";
    // `_zod` is already non-enumerable: $constructor's init defined it with this same descriptor
    _issuesDesc.value = def;
    Object.defineProperty(inst, "issues", _issuesDesc);
    // Clear the shared slot; a retained `value` pins the last error's issues.
    _issuesDesc.value = undefined;
    Object.defineProperty(inst, "message", _messageDesc);
    /* `toString` lives as a non-enumerable lazy getter on the shared
     * prototype; on first access it caches a per-instance closure so
     * detached usage still works. */
    const proto = Object.getPrototypeOf(inst);
    if (!_installedToString.has(proto)) {
        _installedToString.add(proto);
        Object.defineProperty(proto, "toString", {
            configurable: true,
            enumerable: false,
            get() {
                const value = () => this.message;
                Object.defineProperty(this, "toString", { value, configurable: true, writable: true });
                return value;
            },
            set(value) {
                Object.defineProperty(this, "toString", { value, configurable: true, writable: true });
            },
        });
    }
};
const $ZodError = $constructor("$ZodError", initializer);
const $ZodRealError = $constructor("$ZodError", initializer, undefined, {
    Parent: Error,
});
/** Get-or-create `obj[key]` as an own data property. A path segment naming an inherited member
 * ("toString", "constructor") would otherwise read through to the prototype, and assigning
 * "__proto__" would hit the setter instead of creating a key. */
function node(obj, key, make) {
    if (!Object.prototype.hasOwnProperty.call(obj, key)) {
        if (key === "__proto__") {
            Object.defineProperty(obj, key, { value: make(), writable: true, enumerable: true, configurable: true });
        }
        else {
            obj[key] = make();
        }
    }
    return obj[key];
}
function flattenError(error, mapper = (issue) => issue.message) {
    const fieldErrors = {};
    const formErrors = [];
    for (const sub of error.issues) {
        if (sub.path.length > 0) {
            node(fieldErrors, sub.path[0], () => []).push(mapper(sub));
        }
        else {
            formErrors.push(mapper(sub));
        }
    }
    return { formErrors, fieldErrors };
}
function errors_formatError(error, mapper = (issue) => issue.message) {
    const fieldErrors = { _errors: [] };
    const processError = (error, path = []) => {
        for (const issue of error.issues) {
            if (issue.code === "invalid_union" && issue.errors.length) {
                issue.errors.map((issues) => processError({ issues }, [...path, ...issue.path]));
            }
            else if (issue.code === "invalid_key") {
                processError({ issues: issue.issues }, [...path, ...issue.path]);
            }
            else if (issue.code === "invalid_element") {
                processError({ issues: issue.issues }, [...path, ...issue.path]);
            }
            else {
                const fullpath = [...path, ...issue.path];
                if (fullpath.length === 0) {
                    fieldErrors._errors.push(mapper(issue));
                }
                else {
                    let curr = fieldErrors;
                    let i = 0;
                    while (i < fullpath.length) {
                        const el = fullpath[i];
                        const terminal = i === fullpath.length - 1;
                        // `_errors` is reserved by this legacy format, so merge a matching path segment into the current node instead of treating its array as a child.
                        if (el === "_errors") {
                            if (terminal)
                                curr._errors.push(mapper(issue));
                            i++;
                            continue;
                        }
                        // A path element may collide with an inherited property name such as
                        // "__proto__" or "constructor". Truthiness checks read the prototype
                        // (so no node is created, then ._errors.push throws), and bracket
                        // assignment of "__proto__" hits the setter instead of creating an
                        // own key. Guard the read with hasOwnProperty and create the node
                        // with defineProperty so any path element becomes a real own key.
                        if (!Object.prototype.hasOwnProperty.call(curr, el)) {
                            Object.defineProperty(curr, el, {
                                value: { _errors: [] },
                                enumerable: true,
                                writable: true,
                                configurable: true,
                            });
                        }
                        const node = curr[el];
                        if (terminal) {
                            node._errors.push(mapper(issue));
                        }
                        curr = node;
                        i++;
                    }
                }
            }
        }
    };
    processError(error);
    return fieldErrors;
}
function treeifyError(error, mapper = (issue) => issue.message) {
    const result = { errors: [] };
    const processError = (error, path = []) => {
        var _a;
        for (const issue of error.issues) {
            if (issue.code === "invalid_union" && issue.errors.length) {
                // regular union error
                issue.errors.map((issues) => processError({ issues }, [...path, ...issue.path]));
            }
            else if (issue.code === "invalid_key") {
                processError({ issues: issue.issues }, [...path, ...issue.path]);
            }
            else if (issue.code === "invalid_element") {
                processError({ issues: issue.issues }, [...path, ...issue.path]);
            }
            else {
                const fullpath = [...path, ...issue.path];
                if (fullpath.length === 0) {
                    result.errors.push(mapper(issue));
                    continue;
                }
                let curr = result;
                let i = 0;
                while (i < fullpath.length) {
                    const el = fullpath[i];
                    const terminal = i === fullpath.length - 1;
                    if (typeof el === "string") {
                        curr.properties ?? (curr.properties = {});
                        // el may collide with an inherited property name ("__proto__",
                        // "constructor", ...); ??= reads the prototype so the node is never
                        // created and curr.errors.push throws. Guard with hasOwnProperty and
                        // create the node with defineProperty so "__proto__" becomes a real
                        // own key rather than invoking the prototype setter.
                        if (!Object.prototype.hasOwnProperty.call(curr.properties, el)) {
                            Object.defineProperty(curr.properties, el, {
                                value: { errors: [] },
                                enumerable: true,
                                writable: true,
                                configurable: true,
                            });
                        }
                        curr = curr.properties[el];
                    }
                    else {
                        curr.items ?? (curr.items = []);
                        (_a = curr.items)[el] ?? (_a[el] = { errors: [] });
                        curr = curr.items[el];
                    }
                    if (terminal) {
                        curr.errors.push(mapper(issue));
                    }
                    i++;
                }
            }
        }
    };
    processError(error);
    return result;
}
/** Format a ZodError as a human-readable string in the following form.
 *
 * From
 *
 * ```ts
 * ZodError {
 *   issues: [
 *     {
 *       expected: 'string',
 *       code: 'invalid_type',
 *       path: [ 'username' ],
 *       message: 'Invalid input: expected string'
 *     },
 *     {
 *       expected: 'number',
 *       code: 'invalid_type',
 *       path: [ 'favoriteNumbers', 1 ],
 *       message: 'Invalid input: expected number'
 *     }
 *   ];
 * }
 * ```
 *
 * to
 *
 * ```
 * username
 *   ✖ Expected number, received string at "username
 * favoriteNumbers[0]
 *   ✖ Invalid input: expected number
 * ```
 */
function toDotPath(_path) {
    const segs = [];
    const path = _path.map((seg) => (typeof seg === "object" ? seg.key : seg));
    for (const seg of path) {
        if (typeof seg === "number")
            segs.push(`[${seg}]`);
        else if (typeof seg === "symbol")
            segs.push(`[${JSON.stringify(String(seg))}]`);
        else if (/[^\w$]/.test(seg))
            segs.push(`[${JSON.stringify(seg)}]`);
        else {
            if (segs.length)
                segs.push(".");
            segs.push(seg);
        }
    }
    return segs.join("");
}
function prettifyError(error) {
    const lines = [];
    // sort by path length
    const issues = [...error.issues].sort((a, b) => (a.path ?? []).length - (b.path ?? []).length);
    // Process each issue
    for (const issue of issues) {
        lines.push(`✖ ${issue.message}`);
        if (issue.path?.length)
            lines.push(`  → at ${toDotPath(issue.path)}`);
    }
    // Convert Map to formatted string
    return lines.join("\n");
}

;// CONCATENATED MODULE: ./node_modules/zod/v4/core/parse.js



// Always both keys, so the `_params` read site in `_parse` sees one object shape rather than two.
function finalizeParams(callee, params) {
    return { callee: params?.callee ?? callee, Err: params?.Err };
}
const _parse = (_Err) => {
    const fn = (schema, value, _ctx, _params) => {
        const ctx = _ctx ? { ..._ctx, async: false } : { async: false };
        const result = schema._zod.run({ value, issues: [] }, ctx);
        if (result instanceof Promise) {
            throw new $ZodAsyncError();
        }
        if (result.issues.length) {
            const e = new (_params?.Err ?? _Err)(result.issues.map((iss) => finalizeIssue(iss, ctx, config())));
            captureStackTrace(e, _params?.callee ?? fn);
            throw e;
        }
        return result.value;
    };
    return fn;
};
const parse_parse = /* @__PURE__*/ _parse($ZodRealError);
const _parseAsync = (_Err) => {
    const fn = async (schema, value, _ctx, params) => {
        const ctx = _ctx ? { ..._ctx, async: true } : { async: true };
        let result = schema._zod.run({ value, issues: [] }, ctx);
        if (result instanceof Promise)
            result = await result;
        if (result.issues.length) {
            const e = new (params?.Err ?? _Err)(result.issues.map((iss) => finalizeIssue(iss, ctx, config())));
            captureStackTrace(e, params?.callee ?? fn);
            throw e;
        }
        return result.value;
    };
    return fn;
};
const parse_parseAsync = /* @__PURE__*/ _parseAsync($ZodRealError);
const _safeParse = (_Err) => (schema, value, _ctx) => {
    const ctx = _ctx ? { ..._ctx, async: false } : { async: false };
    const result = schema._zod.run({ value, issues: [] }, ctx);
    if (result instanceof Promise) {
        throw new $ZodAsyncError();
    }
    return result.issues.length ? failure(_Err, result.issues, ctx) : { success: true, data: result.value };
};
const safeParse = /* @__PURE__*/ _safeParse($ZodRealError);
// the error is built on the first read of `error`: finalizing the issues and constructing the instance is most of a failing parse, and a caller that only branches on `success` never pays it. a getter in the literal keeps this small; the alternative, one shared accessor descriptor plus a hidden state slot, reads ~15% faster but costs ~75 B gzipped in every bundle
function failure(Err, issues, ctx) {
    let error;
    return {
        success: false,
        get error() {
            if (!error) {
                error = new Err(issues.map((iss) => finalizeIssue(iss, ctx, config())));
                // finalizeIssue drops `input`, so the built error holds nothing; keeping the raw issues past this point pins the parsed value for the life of the result
                issues = undefined;
                ctx = undefined;
            }
            return error;
        },
        set error(e) {
            error = e;
            // a replacement makes the getter's branch unreachable, so the captures have to go here too
            issues = undefined;
            ctx = undefined;
        },
    };
}
const _safeParseAsync = (_Err) => async (schema, value, _ctx) => {
    const ctx = _ctx ? { ..._ctx, async: true } : { async: true };
    let result = schema._zod.run({ value, issues: [] }, ctx);
    if (result instanceof Promise)
        result = await result;
    return result.issues.length ? failure(_Err, result.issues, ctx) : { success: true, data: result.value };
};
const safeParseAsync = /* @__PURE__*/ _safeParseAsync($ZodRealError);
// registry mirrors of the compiler's sentinels, so this module never imports the compiler
const COMPILE_INVALID = /* @__PURE__ */ Symbol.for("zod.compile.invalid");
const COMPILE_FALLBACK = /* @__PURE__ */ Symbol.for("zod.compile.fallback");
// Deliberately tiny, because v8 will not inline a body carrying the fallback's object literals and throw. Everything that is not the compiled happy path lives in validateFallback, and that split is worth ~35% on a compiled schema.
const validate = ((schema, value, _ctx) => {
    const validator = schema._zod.bag.validator;
    if (validator !== undefined) {
        if (validator(value) !== COMPILE_INVALID)
            return true;
        // a definite sentinel means the runtime would reject, so skip the re-parse; a ctx can still change the answer
        if (validator.definite === true && _ctx === undefined)
            return false;
    }
    return validateFallback(schema, value, _ctx);
});
function validateFallback(schema, value, _ctx) {
    const ctx = _ctx
        ? { ..._ctx, async: false, abortEarly: true }
        : { async: false, abortEarly: true };
    const fallbackRun = schema._zod.bag.fallbackRun;
    let result;
    if (fallbackRun) {
        // skip nested fast paths on the fallback, so user callbacks keep the at-most-twice bound
        ctx[COMPILE_FALLBACK] = true;
        result = fallbackRun({ value, issues: [] }, ctx);
    }
    else {
        result = schema._zod.run({ value, issues: [] }, ctx);
    }
    if (result instanceof Promise) {
        throw new $ZodAsyncError();
    }
    return result.issues.length === 0;
}
// no fast path: the compiler keeps async parses on the runtime, because a promise-returning callback that is not declared async compiles to a throw
const parse_validateAsync = async (schema, value, _ctx) => {
    const ctx = _ctx
        ? { ..._ctx, async: true, abortEarly: true }
        : { async: true, abortEarly: true };
    let result = schema._zod.run({ value, issues: [] }, ctx);
    if (result instanceof Promise)
        result = await result;
    return result.issues.length === 0;
};
const _encode = (_Err) => {
    const parse = _parse(_Err);
    const fn = (schema, value, _ctx, _params) => {
        const ctx = _ctx ? { ..._ctx, direction: "backward" } : { direction: "backward" };
        return parse(schema, value, ctx, finalizeParams(fn, _params));
    };
    return fn;
};
const encode = /* @__PURE__*/ _encode($ZodRealError);
const _decode = (_Err) => {
    const parse = _parse(_Err);
    const fn = (schema, value, _ctx, _params) => {
        return parse(schema, value, _ctx, finalizeParams(fn, _params));
    };
    return fn;
};
const decode = /* @__PURE__*/ _decode($ZodRealError);
const _encodeAsync = (_Err) => {
    const parseAsync = _parseAsync(_Err);
    const fn = async (schema, value, _ctx, _params) => {
        const ctx = _ctx ? { ..._ctx, direction: "backward" } : { direction: "backward" };
        return (await parseAsync(schema, value, ctx, finalizeParams(fn, _params)));
    };
    return fn;
};
const encodeAsync = /* @__PURE__*/ _encodeAsync($ZodRealError);
const _decodeAsync = (_Err) => {
    const parseAsync = _parseAsync(_Err);
    const fn = async (schema, value, _ctx, _params) => {
        return await parseAsync(schema, value, _ctx, finalizeParams(fn, _params));
    };
    return fn;
};
const decodeAsync = /* @__PURE__*/ _decodeAsync($ZodRealError);
const _safeEncode = (_Err) => (schema, value, _ctx) => {
    const ctx = _ctx ? { ..._ctx, direction: "backward" } : { direction: "backward" };
    return _safeParse(_Err)(schema, value, ctx);
};
const safeEncode = /* @__PURE__*/ _safeEncode($ZodRealError);
const _safeDecode = (_Err) => (schema, value, _ctx) => {
    return _safeParse(_Err)(schema, value, _ctx);
};
const safeDecode = /* @__PURE__*/ _safeDecode($ZodRealError);
const _safeEncodeAsync = (_Err) => async (schema, value, _ctx) => {
    const ctx = _ctx ? { ..._ctx, direction: "backward" } : { direction: "backward" };
    return _safeParseAsync(_Err)(schema, value, ctx);
};
const safeEncodeAsync = /* @__PURE__*/ _safeEncodeAsync($ZodRealError);
const _safeDecodeAsync = (_Err) => async (schema, value, _ctx) => {
    return _safeParseAsync(_Err)(schema, value, _ctx);
};
const safeDecodeAsync = /* @__PURE__*/ _safeDecodeAsync($ZodRealError);

;// CONCATENATED MODULE: ./node_modules/zod/v4/classic/errors.js



/* Prototypes that already carry the lazy helper methods. Seeded with the
 * intrinsics so that `init` on a foreign object — it accepts any object —
 * can never install an accessor onto a prototype we do not own. */
const _installedErrorProtos = /* @__PURE__ */ new WeakSet([Object.prototype, Error.prototype]);
/* Helper methods live as non-enumerable lazy getters on the shared
 * prototype instead of own properties on every instance. On first
 * access the getter allocates the per-instance closure and caches it
 * as a non-enumerable own property, so detached usage still works and
 * the allocation only happens for methods actually touched. */
function _lazyMethod(proto, key, make) {
    Object.defineProperty(proto, key, {
        configurable: true,
        enumerable: false,
        get() {
            const value = make(this);
            Object.defineProperty(this, key, { value, configurable: true, writable: true });
            return value;
        },
        set(value) {
            Object.defineProperty(this, key, { value, configurable: true, writable: true });
        },
    });
}
const errors_initializer = (inst, issues) => {
    $ZodError.init(inst, issues);
    inst.name = "ZodError";
    const proto = Object.getPrototypeOf(inst);
    if (_installedErrorProtos.has(proto))
        return;
    _installedErrorProtos.add(proto);
    _lazyMethod(proto, "format", (self) => (mapper) => errors_formatError(self, mapper));
    _lazyMethod(proto, "flatten", (self) => (mapper) => flattenError(self, mapper));
    _lazyMethod(proto, "addIssue", (self) => (issue) => {
        self.issues.push(issue);
        self.message = JSON.stringify(self.issues, jsonStringifyReplacer, 2);
    });
    _lazyMethod(proto, "addIssues", (self) => (issues) => {
        self.issues.push(...issues);
        self.message = JSON.stringify(self.issues, jsonStringifyReplacer, 2);
    });
    Object.defineProperty(proto, "isEmpty", {
        configurable: true,
        enumerable: false,
        get() {
            return this.issues.length === 0;
        },
    });
};
const ZodError = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodError", errors_initializer)));
const ZodRealError = /*@__PURE__*/ $constructor("ZodError", errors_initializer, undefined, {
    Parent: Error,
});
// /** @deprecated Use `z.core.$ZodErrorMapCtx` instead. */
// export type ErrorMapCtx = core.$ZodErrorMapCtx;

;// CONCATENATED MODULE: ./node_modules/zod/v4/classic/parse.js


const classic_parse_parse = /* @__PURE__ */ _parse(ZodRealError);
const classic_parse_parseAsync = /* @__PURE__ */ _parseAsync(ZodRealError);
const parse_safeParse = /* @__PURE__ */ _safeParse(ZodRealError);
const parse_safeParseAsync = /* @__PURE__ */ _safeParseAsync(ZodRealError);

// Codec functions
const parse_encode = /* @__PURE__ */ _encode(ZodRealError);
const parse_decode = /* @__PURE__ */ _decode(ZodRealError);
const parse_encodeAsync = /* @__PURE__ */ _encodeAsync(ZodRealError);
const parse_decodeAsync = /* @__PURE__ */ _decodeAsync(ZodRealError);
const parse_safeEncode = /* @__PURE__ */ _safeEncode(ZodRealError);
const parse_safeDecode = /* @__PURE__ */ _safeDecode(ZodRealError);
const parse_safeEncodeAsync = /* @__PURE__ */ _safeEncodeAsync(ZodRealError);
const parse_safeDecodeAsync = /* @__PURE__ */ _safeDecodeAsync(ZodRealError);

;// CONCATENATED MODULE: ./node_modules/zod/v4/classic/schemas.js








// Register English as the default locale on first ZodType construction. Hooked into the `ZodType` `$constructor` (rather than a top-level `config(en())` in `external.ts`) so bundlers honoring `sideEffects: false` can't tree-shake it out — see #5953, #5725. An explicit `z.config(z.locales.xx())` call wins regardless of order, since this only sets the default when none is present.
function _ensureDefaultLocale() {
    if (!globalConfig.localeError)
        config(en());
}
// the default memoizer is read by the core container init, which runs before `ZodType.init`, so each container calls this first
function _ensureDefaultMemoizer() {
    if (!globalConfig.memoizer)
        config({ memoizer: memoizer() });
}
const ZodType = /*@__PURE__*/ $constructor("ZodType", (inst, def) => {
    _ensureDefaultLocale();
    $ZodType.init(inst, def);
    inst.def = def;
    inst.type = def.type;
    return inst;
}, {
    check(...chks) {
        const def = this.def;
        return this.clone(mergeDefs(def, {
            checks: [
                ...(def.checks ?? []),
                ...chks.map((ch) => typeof ch === "function" ? { _zod: { check: ch, def: { check: "custom" }, onattach: [] } } : ch),
            ],
        }), { parent: true });
    },
    with(...chks) {
        return this.check(...chks);
    },
    clone(def, params) {
        return clone(this, def, params);
    },
    brand() {
        return this;
    },
    register(reg, meta) {
        reg.add(this, meta);
        return this;
    },
    refine(check, params) {
        return this.check(refine(check, params));
    },
    superRefine(refinement, params) {
        return this.check(superRefine(refinement, params));
    },
    overwrite(fn) {
        return this.check(_overwrite(fn));
    },
    optional() {
        return optional(this);
    },
    exactOptional() {
        return exactOptional(this);
    },
    nullable() {
        return nullable(this);
    },
    nullish() {
        return optional(nullable(this));
    },
    nonoptional(params) {
        return nonoptional(this, params);
    },
    array() {
        return array(this);
    },
    or(arg) {
        return union([this, arg]);
    },
    and(arg) {
        return intersection(this, arg);
    },
    transform(tx) {
        return pipe(this, transform(tx));
    },
    default(d) {
        return schemas_default(this, d);
    },
    prefault(d) {
        return prefault(this, d);
    },
    catch(params) {
        return schemas_catch(this, params);
    },
    pipe(target) {
        return pipe(this, target);
    },
    readonly() {
        return readonly(this);
    },
    describe(description) {
        const cl = this.clone();
        globalRegistry.add(cl, { description });
        return cl;
    },
    meta(...args) {
        // overloaded: meta() returns the registered metadata, meta(data) returns a clone with `data` registered. The mapped type picks up the second overload, so we accept variadic any-args and return `any` to satisfy both at runtime.
        if (args.length === 0)
            return globalRegistry.get(this);
        const cl = this.clone();
        globalRegistry.add(cl, args[0]);
        return cl;
    },
    isOptional() {
        return this.safeParse(undefined).success;
    },
    isNullable() {
        return this.safeParse(null).success;
    },
    apply(fn, ...args) {
        return args.length === 0 ? fn(this) : fn(this, ...args);
    },
    // Overrides core's `~standard` to add `jsonSchema`. Must stay a prototype entry: redefining it per instance demotes instances to dictionary mode.
    get "~standard"() {
        return hide(this, "~standard", {
            ...standardProps(this),
            jsonSchema: {
                input: createStandardJSONSchemaMethod(this, "input"),
                output: createStandardJSONSchemaMethod(this, "output"),
            },
        });
    },
    set "~standard"(value) {
        own(this, "~standard", value);
    },
    parse: function _parse(data, params) {
        return classic_parse_parse(this, data, params, { callee: _parse });
    },
    parseAsync: async function _parseAsync(data, params) {
        return await classic_parse_parseAsync(this, data, params, { callee: _parseAsync });
    },
    safeParse(data, params) {
        return parse_safeParse(this, data, params);
    },
    async safeParseAsync(data, params) {
        return parse_safeParseAsync(this, data, params);
    },
    // `spa` is an alias: same function object as `safeParseAsync`, as before.
    get spa() {
        return this?.safeParseAsync;
    },
    set spa(value) {
        own(this, "spa", value);
    },
    validate(data, params) {
        return validate(this, data, params);
    },
    validateAsync(data, params) {
        return parse_validateAsync(this, data, params);
    },
    encode: function _encode(data, params) {
        return parse_encode(this, data, params, { callee: _encode });
    },
    decode: function _decode(data, params) {
        return parse_decode(this, data, params, { callee: _decode });
    },
    encodeAsync: async function _encodeAsync(data, params) {
        return await parse_encodeAsync(this, data, params, { callee: _encodeAsync });
    },
    decodeAsync: async function _decodeAsync(data, params) {
        return await parse_decodeAsync(this, data, params, { callee: _decodeAsync });
    },
    safeEncode(data, params) {
        return parse_safeEncode(this, data, params);
    },
    safeDecode(data, params) {
        return parse_safeDecode(this, data, params);
    },
    async safeEncodeAsync(data, params) {
        return parse_safeEncodeAsync(this, data, params);
    },
    async safeDecodeAsync(data, params) {
        return parse_safeDecodeAsync(this, data, params);
    },
    toJSONSchema(params) {
        return createToJSONSchemaMethod(this, {})(params);
    },
    // Reads through to the registry on every access, so it must not cache.
    get description() {
        return globalRegistry.get(this)?.description;
    },
    // No setter: `schema._def = x` throws, as it did when `_def` was a non-writable own property.
    get _def() {
        return this._zod.def;
    },
});
/** @internal */
const _ZodString = /*@__PURE__*/ $constructor("_ZodString", (inst, def) => {
    $ZodString.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => stringProcessor(inst, ctx, json, params);
}, 
/*@__PURE__*/ derived({
    format: (inst) => aggregateChecks(inst).format ?? null,
    minLength: (inst) => aggregateChecks(inst).minimum ?? null,
    maxLength: (inst) => aggregateChecks(inst).maximum ?? null,
}, {
    regex(...args) {
        return this.check(_regex(...args));
    },
    includes(...args) {
        return this.check(_includes(...args));
    },
    startsWith(...args) {
        return this.check(_startsWith(...args));
    },
    endsWith(...args) {
        return this.check(_endsWith(...args));
    },
    min(...args) {
        return this.check(_minLength(...args));
    },
    max(...args) {
        return this.check(_maxLength(...args));
    },
    length(...args) {
        return this.check(_length(...args));
    },
    nonempty(...args) {
        return this.check(_minLength(1, ...args));
    },
    lowercase(params) {
        return this.check(_lowercase(params));
    },
    uppercase(params) {
        return this.check(_uppercase(params));
    },
    trim() {
        return this.check(_trim());
    },
    normalize(...args) {
        return this.check(_normalize(...args));
    },
    toLowerCase() {
        return this.check(_toLowerCase());
    },
    toUpperCase() {
        return this.check(_toUpperCase());
    },
    slugify() {
        return this.check(_slugify());
    },
}));
const ZodString = /*@__PURE__*/ $constructor("ZodString", (inst, def) => {
    $ZodString.init(inst, def);
    _ZodString.init(inst, def);
}, {
    email(params) {
        return this.check(_email(ZodEmail, params));
    },
    url(params) {
        return this.check(_url(ZodURL, params));
    },
    jwt(params) {
        return this.check(_jwt(ZodJWT, params));
    },
    emoji(params) {
        return this.check(api_emoji(ZodEmoji, params));
    },
    guid(params) {
        return this.check(_guid(ZodGUID, params));
    },
    uuid(params) {
        return this.check(_uuid(ZodUUID, params));
    },
    uuidv4(params) {
        return this.check(_uuidv4(ZodUUID, params));
    },
    uuidv6(params) {
        return this.check(_uuidv6(ZodUUID, params));
    },
    uuidv7(params) {
        return this.check(_uuidv7(ZodUUID, params));
    },
    nanoid(params) {
        return this.check(_nanoid(ZodNanoID, params));
    },
    cuid(params) {
        return this.check(_cuid(ZodCUID, params));
    },
    cuid2(params) {
        return this.check(_cuid2(ZodCUID2, params));
    },
    ulid(params) {
        return this.check(_ulid(ZodULID, params));
    },
    base64(params) {
        return this.check(_base64(ZodBase64, params));
    },
    base64url(params) {
        return this.check(_base64url(ZodBase64URL, params));
    },
    xid(params) {
        return this.check(_xid(ZodXID, params));
    },
    ksuid(params) {
        return this.check(_ksuid(ZodKSUID, params));
    },
    ipv4(params) {
        return this.check(_ipv4(ZodIPv4, params));
    },
    ipv6(params) {
        return this.check(_ipv6(ZodIPv6, params));
    },
    cidrv4(params) {
        return this.check(_cidrv4(ZodCIDRv4, params));
    },
    cidrv6(params) {
        return this.check(_cidrv6(ZodCIDRv6, params));
    },
    e164(params) {
        return this.check(_e164(ZodE164, params));
    },
    datetime(params) {
        return this.check(_isoDateTime(ZodISODateTime, params));
    },
    date(params) {
        return this.check(_isoDate(ZodISODate, params));
    },
    time(params) {
        return this.check(_isoTime(ZodISOTime, params));
    },
    duration(params) {
        return this.check(_isoDuration(ZodISODuration, params));
    },
});
function schemas_string(params) {
    return _string(ZodString, params);
}
const ZodStringFormat = /*@__PURE__*/ $constructor("ZodStringFormat", (inst, def) => {
    $ZodStringFormat.init(inst, def);
    _ZodString.init(inst, def);
});
const ZodISODateTime = /*@__PURE__*/ $constructor("ZodISODateTime", (inst, def) => {
    $ZodISODateTime.init(inst, def);
    ZodStringFormat.init(inst, def);
});
const ZodISODate = /*@__PURE__*/ $constructor("ZodISODate", (inst, def) => {
    $ZodISODate.init(inst, def);
    ZodStringFormat.init(inst, def);
});
const ZodISOTime = /*@__PURE__*/ $constructor("ZodISOTime", (inst, def) => {
    $ZodISOTime.init(inst, def);
    ZodStringFormat.init(inst, def);
});
const ZodISODuration = /*@__PURE__*/ $constructor("ZodISODuration", (inst, def) => {
    $ZodISODuration.init(inst, def);
    ZodStringFormat.init(inst, def);
});
const ZodEmail = /*@__PURE__*/ $constructor("ZodEmail", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodEmail.init(inst, def);
    ZodStringFormat.init(inst, def);
});
function schemas_email(params) {
    return core._email(ZodEmail, params);
}
const ZodGUID = /*@__PURE__*/ $constructor("ZodGUID", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodGUID.init(inst, def);
    ZodStringFormat.init(inst, def);
});
function schemas_guid(params) {
    return core._guid(ZodGUID, params);
}
const ZodUUID = /*@__PURE__*/ $constructor("ZodUUID", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodUUID.init(inst, def);
    ZodStringFormat.init(inst, def);
});
function schemas_uuid(params) {
    return core._uuid(ZodUUID, params);
}
function uuidv4(params) {
    return core._uuidv4(ZodUUID, params);
}
// ZodUUIDv6
function uuidv6(params) {
    return core._uuidv6(ZodUUID, params);
}
// ZodUUIDv7
function uuidv7(params) {
    return core._uuidv7(ZodUUID, params);
}
const ZodURL = /*@__PURE__*/ $constructor("ZodURL", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodURL.init(inst, def);
    ZodStringFormat.init(inst, def);
});
function url(params) {
    return core._url(ZodURL, params);
}
function httpUrl(params) {
    return core._url(ZodURL, {
        protocol: regexes.httpProtocol,
        hostname: regexes.domain,
        ...util.normalizeParams(params),
    });
}
const ZodEmoji = /*@__PURE__*/ $constructor("ZodEmoji", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodEmoji.init(inst, def);
    ZodStringFormat.init(inst, def);
});
function schemas_emoji(params) {
    return core._emoji(ZodEmoji, params);
}
const ZodNanoID = /*@__PURE__*/ $constructor("ZodNanoID", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodNanoID.init(inst, def);
    ZodStringFormat.init(inst, def);
});
function schemas_nanoid(params) {
    return core._nanoid(ZodNanoID, params);
}
/**
 * @deprecated CUID v1 is deprecated by its authors due to information leakage
 * (timestamps embedded in the id). Use {@link ZodCUID2} instead.
 * See https://github.com/paralleldrive/cuid.
 */
const ZodCUID = /*@__PURE__*/ $constructor("ZodCUID", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodCUID.init(inst, def);
    ZodStringFormat.init(inst, def);
});
/**
 * Validates a CUID v1 string.
 *
 * @deprecated CUID v1 is deprecated by its authors due to information leakage
 * (timestamps embedded in the id). Use {@link cuid2 | `z.cuid2()`} instead.
 * See https://github.com/paralleldrive/cuid.
 */
function schemas_cuid(params) {
    return core._cuid(ZodCUID, params);
}
const ZodCUID2 = /*@__PURE__*/ $constructor("ZodCUID2", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodCUID2.init(inst, def);
    ZodStringFormat.init(inst, def);
});
function schemas_cuid2(params) {
    return core._cuid2(ZodCUID2, params);
}
const ZodULID = /*@__PURE__*/ $constructor("ZodULID", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodULID.init(inst, def);
    ZodStringFormat.init(inst, def);
});
function schemas_ulid(params) {
    return core._ulid(ZodULID, params);
}
const ZodXID = /*@__PURE__*/ $constructor("ZodXID", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodXID.init(inst, def);
    ZodStringFormat.init(inst, def);
});
function schemas_xid(params) {
    return core._xid(ZodXID, params);
}
const ZodKSUID = /*@__PURE__*/ $constructor("ZodKSUID", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodKSUID.init(inst, def);
    ZodStringFormat.init(inst, def);
});
function schemas_ksuid(params) {
    return core._ksuid(ZodKSUID, params);
}
const ZodIPv4 = /*@__PURE__*/ $constructor("ZodIPv4", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodIPv4.init(inst, def);
    ZodStringFormat.init(inst, def);
});
function schemas_ipv4(params) {
    return core._ipv4(ZodIPv4, params);
}
const ZodMAC = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodMAC", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    core.$ZodMAC.init(inst, def);
    ZodStringFormat.init(inst, def);
})));
function schemas_mac(params) {
    return core._mac(ZodMAC, params);
}
const ZodIPv6 = /*@__PURE__*/ $constructor("ZodIPv6", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodIPv6.init(inst, def);
    ZodStringFormat.init(inst, def);
});
function schemas_ipv6(params) {
    return core._ipv6(ZodIPv6, params);
}
const ZodCIDRv4 = /*@__PURE__*/ $constructor("ZodCIDRv4", (inst, def) => {
    $ZodCIDRv4.init(inst, def);
    ZodStringFormat.init(inst, def);
});
function schemas_cidrv4(params) {
    return core._cidrv4(ZodCIDRv4, params);
}
const ZodCIDRv6 = /*@__PURE__*/ $constructor("ZodCIDRv6", (inst, def) => {
    $ZodCIDRv6.init(inst, def);
    ZodStringFormat.init(inst, def);
});
function schemas_cidrv6(params) {
    return core._cidrv6(ZodCIDRv6, params);
}
const ZodBase64 = /*@__PURE__*/ $constructor("ZodBase64", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodBase64.init(inst, def);
    ZodStringFormat.init(inst, def);
});
function schemas_base64(params) {
    return core._base64(ZodBase64, params);
}
const ZodBase64URL = /*@__PURE__*/ $constructor("ZodBase64URL", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodBase64URL.init(inst, def);
    ZodStringFormat.init(inst, def);
});
function schemas_base64url(params) {
    return core._base64url(ZodBase64URL, params);
}
const ZodE164 = /*@__PURE__*/ $constructor("ZodE164", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodE164.init(inst, def);
    ZodStringFormat.init(inst, def);
});
function schemas_e164(params) {
    return core._e164(ZodE164, params);
}
const ZodCreditCard = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodCreditCard", (inst, def) => {
    core.$ZodCreditCard.init(inst, def);
    ZodStringFormat.init(inst, def);
})));
function schemas_creditCard(params) {
    return core._creditCard(ZodCreditCard, params);
}
const ZodIBAN = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodIBAN", (inst, def) => {
    core.$ZodIBAN.init(inst, def);
    ZodStringFormat.init(inst, def);
})));
function schemas_iban(params) {
    return core._iban(ZodIBAN, params);
}
const ZodJWT = /*@__PURE__*/ $constructor("ZodJWT", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    $ZodJWT.init(inst, def);
    ZodStringFormat.init(inst, def);
});
function jwt(params) {
    return core._jwt(ZodJWT, params);
}
const ZodCustomStringFormat = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodCustomStringFormat", (inst, def) => {
    // ZodStringFormat.init(inst, def);
    core.$ZodCustomStringFormat.init(inst, def);
    ZodStringFormat.init(inst, def);
})));
function stringFormat(format, fnOrRegex, _params = {}) {
    return core._stringFormat(ZodCustomStringFormat, format, fnOrRegex, _params);
}
function schemas_hostname(_params) {
    return core._stringFormat(ZodCustomStringFormat, "hostname", regexes.hostname, _params);
}
function schemas_hex(_params) {
    return core._stringFormat(ZodCustomStringFormat, "hex", regexes.hex, _params);
}
function schemas_currencyCode(_params) {
    return core._stringFormat(ZodCustomStringFormat, "currency_code", regexes.currencyCode, _params);
}
function hash(alg, params) {
    const enc = params?.enc ?? "hex";
    const format = `${alg}_${enc}`;
    const regex = core.regexes[format];
    if (!regex)
        throw new Error(`Unrecognized hash format: ${format}`);
    return core._stringFormat(ZodCustomStringFormat, format, regex, params);
}
const ZodNumber = /*@__PURE__*/ $constructor("ZodNumber", (inst, def) => {
    $ZodNumber.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => numberProcessor(inst, ctx, json, params);
    inst.isFinite = true;
}, 
/*@__PURE__*/ derived({
    minValue: (inst) => {
        const { minimum, exclusiveMinimum } = aggregateChecks(inst);
        return Math.max(minimum ?? Number.NEGATIVE_INFINITY, exclusiveMinimum ?? Number.NEGATIVE_INFINITY);
    },
    maxValue: (inst) => {
        const { maximum, exclusiveMaximum } = aggregateChecks(inst);
        return Math.min(maximum ?? Number.POSITIVE_INFINITY, exclusiveMaximum ?? Number.POSITIVE_INFINITY);
    },
    isInt: (inst) => {
        const { isInt, multipleOf } = aggregateChecks(inst);
        return !!isInt || !!multipleOf?.some(Number.isSafeInteger);
    },
    format: (inst) => aggregateChecks(inst).format ?? null,
}, {
    gt(value, params) {
        return this.check(_gt(value, params));
    },
    gte(value, params) {
        return this.check(_gte(value, params));
    },
    min(value, params) {
        return this.check(_gte(value, params));
    },
    lt(value, params) {
        return this.check(_lt(value, params));
    },
    lte(value, params) {
        return this.check(_lte(value, params));
    },
    max(value, params) {
        return this.check(_lte(value, params));
    },
    int(params) {
        return this.check(schemas_int(params));
    },
    safe(params) {
        return this.check(schemas_int(params));
    },
    positive(params) {
        return this.check(_gt(0, params));
    },
    nonnegative(params) {
        return this.check(_gte(0, params));
    },
    negative(params) {
        return this.check(_lt(0, params));
    },
    nonpositive(params) {
        return this.check(_lte(0, params));
    },
    multipleOf(value, params) {
        return this.check(_multipleOf(value, params));
    },
    step(value, params) {
        return this.check(_multipleOf(value, params));
    },
    finite() {
        return this;
    },
}));
function schemas_number(params) {
    return _number(ZodNumber, params);
}
const ZodNumberFormat = /*@__PURE__*/ $constructor("ZodNumberFormat", (inst, def) => {
    $ZodNumberFormat.init(inst, def);
    ZodNumber.init(inst, def);
});
function schemas_int(params) {
    return _int(ZodNumberFormat, params);
}
function float32(params) {
    return core._float32(ZodNumberFormat, params);
}
function float64(params) {
    return core._float64(ZodNumberFormat, params);
}
function int32(params) {
    return core._int32(ZodNumberFormat, params);
}
function uint32(params) {
    return core._uint32(ZodNumberFormat, params);
}
const ZodBoolean = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodBoolean", (inst, def) => {
    core.$ZodBoolean.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => processors.booleanProcessor(inst, ctx, json, params);
})));
function schemas_boolean(params) {
    return core._boolean(ZodBoolean, params);
}
const ZodBigInt = /*@__PURE__*/ $constructor("ZodBigInt", (inst, def) => {
    $ZodBigInt.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => bigintProcessor(inst, ctx, json, params);
}, 
/*@__PURE__*/ derived({
    minValue: (inst) => aggregateChecks(inst).minimum ?? null,
    maxValue: (inst) => aggregateChecks(inst).maximum ?? null,
    format: (inst) => aggregateChecks(inst).format ?? null,
}, {
    gte(value, params) {
        return this.check(_gte(value, params));
    },
    min(value, params) {
        return this.check(_gte(value, params));
    },
    gt(value, params) {
        return this.check(_gt(value, params));
    },
    lt(value, params) {
        return this.check(_lt(value, params));
    },
    lte(value, params) {
        return this.check(_lte(value, params));
    },
    max(value, params) {
        return this.check(_lte(value, params));
    },
    positive(params) {
        return this.check(_gt(BigInt(0), params));
    },
    negative(params) {
        return this.check(_lt(BigInt(0), params));
    },
    nonpositive(params) {
        return this.check(_lte(BigInt(0), params));
    },
    nonnegative(params) {
        return this.check(_gte(BigInt(0), params));
    },
    multipleOf(value, params) {
        return this.check(_multipleOf(value, params));
    },
}));
function schemas_bigint(params) {
    return core._bigint(ZodBigInt, params);
}
const ZodBigIntFormat = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodBigIntFormat", (inst, def) => {
    core.$ZodBigIntFormat.init(inst, def);
    ZodBigInt.init(inst, def);
})));
function int64(params) {
    return core._int64(ZodBigIntFormat, params);
}
function uint64(params) {
    return core._uint64(ZodBigIntFormat, params);
}
const ZodSymbol = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodSymbol", (inst, def) => {
    core.$ZodSymbol.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => processors.symbolProcessor(inst, ctx, json, params);
})));
function symbol(params) {
    return core._symbol(ZodSymbol, params);
}
const ZodUndefined = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodUndefined", (inst, def) => {
    core.$ZodUndefined.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => processors.undefinedProcessor(inst, ctx, json, params);
})));
function schemas_undefined(params) {
    return core._undefined(ZodUndefined, params);
}

const ZodNull = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodNull", (inst, def) => {
    core.$ZodNull.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => processors.nullProcessor(inst, ctx, json, params);
})));
function schemas_null(params) {
    return core._null(ZodNull, params);
}

const ZodAny = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodAny", (inst, def) => {
    core.$ZodAny.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => processors.anyProcessor(inst, ctx, json, params);
})));
function any() {
    return core._any(ZodAny);
}
const ZodUnknown = /*@__PURE__*/ $constructor("ZodUnknown", (inst, def) => {
    $ZodUnknown.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => unknownProcessor(inst, ctx, json, params);
});
function unknown() {
    return _unknown(ZodUnknown);
}
const ZodNever = /*@__PURE__*/ $constructor("ZodNever", (inst, def) => {
    $ZodNever.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => neverProcessor(inst, ctx, json, params);
});
function never(params) {
    return _never(ZodNever, params);
}
const ZodVoid = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodVoid", (inst, def) => {
    core.$ZodVoid.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => processors.voidProcessor(inst, ctx, json, params);
})));
function schemas_void(params) {
    return core._void(ZodVoid, params);
}

const ZodDate = /*@__PURE__*/ $constructor("ZodDate", (inst, def) => {
    $ZodDate.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => dateProcessor(inst, ctx, json, params);
    inst.min = (value, params) => inst.check(_gte(value, params));
    inst.max = (value, params) => inst.check(_lte(value, params));
}, 
/*@__PURE__*/ derived({
    minDate: (inst) => {
        const { minimum } = aggregateChecks(inst);
        return minimum ? new Date(minimum) : null;
    },
    maxDate: (inst) => {
        const { maximum } = aggregateChecks(inst);
        return maximum ? new Date(maximum) : null;
    },
}, {}));
function schemas_date(params) {
    return core._date(ZodDate, params);
}
const ZodArray = /*@__PURE__*/ $constructor("ZodArray", (inst, def) => {
    _ensureDefaultMemoizer();
    $ZodArray.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => arrayProcessor(inst, ctx, json, params);
    inst.element = def.element;
}, {
    min(n, params) {
        return this.check(_minLength(n, params));
    },
    nonempty(params) {
        return this.check(_minLength(1, params));
    },
    max(n, params) {
        return this.check(_maxLength(n, params));
    },
    length(n, params) {
        return this.check(_length(n, params));
    },
    unwrap() {
        return this.element;
    },
});
function array(element, params) {
    return _array(ZodArray, element, params);
}
// .keyof
function keyof(schema) {
    const shape = schema._zod.def.shape;
    return schemas_enum(Object.keys(shape));
}
const ZodObject = /*@__PURE__*/ $constructor("ZodObject", (inst, def) => {
    _ensureDefaultMemoizer();
    $ZodObjectJIT.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => objectProcessor(inst, ctx, json, params);
    installLazyProp(inst, "shape", (self) => self._zod.def.shape, false);
}, {
    keyof() {
        return schemas_enum(Object.keys(this._zod.def.shape));
    },
    catchall(catchall) {
        // `mergeDefs` rather than a spread: spreading reads `shape`, and resolving it can mint a whole fresh subtree
        return this.clone(mergeDefs(this._zod.def, { catchall: catchall }));
    },
    passthrough() {
        return this.clone(mergeDefs(this._zod.def, { catchall: unknown() }));
    },
    loose() {
        return this.clone(mergeDefs(this._zod.def, { catchall: unknown() }));
    },
    strict() {
        return this.clone(mergeDefs(this._zod.def, { catchall: never() }));
    },
    strip() {
        return this.clone(mergeDefs(this._zod.def, { catchall: undefined }));
    },
    extend(incoming) {
        return extend(this, incoming);
    },
    safeExtend(incoming) {
        return safeExtend(this, incoming);
    },
    merge(other) {
        return merge(this, other);
    },
    pick(mask) {
        return pick(this, mask);
    },
    omit(mask) {
        return omit(this, mask);
    },
    partial(...args) {
        return partial(ZodOptional, this, args[0]);
    },
    exactPartial(...args) {
        return partial(ZodExactOptional, this, args[0], "exactPartial");
    },
    required(...args) {
        return required(ZodNonOptional, this, args[0]);
    },
});
function object(shape, params) {
    const def = {
        type: "object",
        shape: shape ?? {},
        ...normalizeParams(params),
    };
    return new ZodObject(def);
}
// strictObject
function strictObject(shape, params) {
    return new ZodObject({
        type: "object",
        shape,
        catchall: never(),
        ...util.normalizeParams(params),
    });
}
// looseObject
function looseObject(shape, params) {
    return new ZodObject({
        type: "object",
        shape,
        catchall: unknown(),
        ...util.normalizeParams(params),
    });
}
const ZodUnion = /*@__PURE__*/ $constructor("ZodUnion", (inst, def) => {
    $ZodUnion.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => unionProcessor(inst, ctx, json, params);
    inst.options = def.options;
});
function union(options, params) {
    return new ZodUnion({
        type: "union",
        options: options,
        ...normalizeParams(params),
    });
}
const ZodXor = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodXor", (inst, def) => {
    ZodUnion.init(inst, def);
    core.$ZodXor.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => processors.unionProcessor(inst, ctx, json, params);
    inst.options = def.options;
})));
/** Creates an exclusive union (XOR) where exactly one option must match.
 * Unlike regular unions that succeed when any option matches, xor fails if
 * zero or more than one option matches the input. */
function xor(options, params) {
    return new ZodXor({
        type: "union",
        options: options,
        inclusive: false,
        ...util.normalizeParams(params),
    });
}
const ZodDiscriminatedUnion = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodDiscriminatedUnion", (inst, def) => {
    ZodUnion.init(inst, def);
    core.$ZodDiscriminatedUnion.init(inst, def);
})));
function discriminatedUnion(discriminator, options, params) {
    // const [options, params] = args;
    return new ZodDiscriminatedUnion({
        type: "union",
        options: options,
        discriminator,
        ...util.normalizeParams(params),
    });
}
const ZodIntersection = /*@__PURE__*/ $constructor("ZodIntersection", (inst, def) => {
    $ZodIntersection.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => intersectionProcessor(inst, ctx, json, params);
});
function intersection(left, right) {
    return new ZodIntersection({
        type: "intersection",
        left: left,
        right: right,
    });
}
const ZodTuple = /*@__PURE__*/ $constructor("ZodTuple", (inst, def) => {
    _ensureDefaultMemoizer();
    $ZodTuple.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => tupleProcessor(inst, ctx, json, params);
}, {
    rest(rest) {
        return this.clone({
            ...this._zod.def,
            rest: rest,
        });
    },
    partial() {
        const def = this._zod.def;
        // a refinement was authored against the full arity; partialing would run it on a shorter array
        if (def.checks?.length)
            throw new Error(".partial() cannot be used on tuple schemas containing refinements");
        return this.clone({
            ...def,
            items: def.items.map((item) => new ZodOptional({ type: "optional", innerType: item })),
        });
    },
});
function tuple(items, _paramsOrRest, _params) {
    const hasRest = _paramsOrRest instanceof core.$ZodType;
    const params = hasRest ? _params : _paramsOrRest;
    const rest = hasRest ? _paramsOrRest : null;
    return new ZodTuple({
        type: "tuple",
        items: items,
        rest,
        ...util.normalizeParams(params),
    });
}
const ZodRecord = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodRecord", (inst, def) => {
    _ensureDefaultMemoizer();
    core.$ZodRecord.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => processors.recordProcessor(inst, ctx, json, params);
    inst.keyType = def.keyType;
    inst.valueType = def.valueType;
})));
function record(keyType, valueType, params) {
    // v3-compat: z.record(valueType, params?) — defaults keyType to z.string()
    if (!valueType || !valueType._zod) {
        return new ZodRecord({
            type: "record",
            keyType: schemas_string(),
            valueType: keyType,
            ...util.normalizeParams(valueType),
        });
    }
    return new ZodRecord({
        type: "record",
        keyType,
        valueType: valueType,
        ...util.normalizeParams(params),
    });
}
// type alksjf = core.output<core.$ZodRecordKey>;
function partialRecord(keyType, valueType, params) {
    return new ZodRecord({
        type: "record",
        keyType,
        valueType: valueType,
        ...util.normalizeParams(params),
        partial: true,
    });
}
function looseRecord(keyType, valueType, params) {
    return new ZodRecord({
        type: "record",
        keyType,
        valueType: valueType,
        mode: "loose",
        ...util.normalizeParams(params),
    });
}
const ZodMap = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodMap", (inst, def) => {
    _ensureDefaultMemoizer();
    core.$ZodMap.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => processors.mapProcessor(inst, ctx, json, params);
    inst.keyType = def.keyType;
    inst.valueType = def.valueType;
    inst.min = (...args) => inst.check(core._minSize(...args));
    inst.nonempty = (params) => inst.check(core._minSize(1, params));
    inst.max = (...args) => inst.check(core._maxSize(...args));
    inst.size = (...args) => inst.check(core._size(...args));
})));
function map(keyType, valueType, params) {
    return new ZodMap({
        type: "map",
        keyType: keyType,
        valueType: valueType,
        ...util.normalizeParams(params),
    });
}
const ZodSet = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodSet", (inst, def) => {
    _ensureDefaultMemoizer();
    core.$ZodSet.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => processors.setProcessor(inst, ctx, json, params);
    inst.min = (...args) => inst.check(core._minSize(...args));
    inst.nonempty = (params) => inst.check(core._minSize(1, params));
    inst.max = (...args) => inst.check(core._maxSize(...args));
    inst.size = (...args) => inst.check(core._size(...args));
})));
function set(valueType, params) {
    return new ZodSet({
        type: "set",
        valueType: valueType,
        ...util.normalizeParams(params),
    });
}
const ZodEnum = /*@__PURE__*/ $constructor("ZodEnum", (inst, def) => {
    $ZodEnum.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => enumProcessor(inst, ctx, json, params);
    inst.enum = def.entries;
    // reuse the parsed value set so a numeric TS enum's reverse-mapping keys stay out
    inst.options = [...inst._zod.values];
    const keys = new Set(Object.keys(def.entries));
    inst.extract = (values, params) => {
        const newEntries = {};
        for (const value of values) {
            if (keys.has(value)) {
                newEntries[value] = def.entries[value];
            }
            else
                throw new Error(`Key ${value} not found in enum`);
        }
        return new ZodEnum({
            ...def,
            checks: [],
            ...normalizeParams(params),
            entries: newEntries,
        });
    };
    inst.exclude = (values, params) => {
        const newEntries = { ...def.entries };
        for (const value of values) {
            if (keys.has(value)) {
                delete newEntries[value];
            }
            else
                throw new Error(`Key ${value} not found in enum`);
        }
        return new ZodEnum({
            ...def,
            checks: [],
            ...normalizeParams(params),
            entries: newEntries,
        });
    };
});
function schemas_enum(values, params) {
    const entries = Array.isArray(values) ? Object.fromEntries(values.map((v) => [v, v])) : values;
    return new ZodEnum({
        type: "enum",
        entries,
        ...normalizeParams(params),
    });
}

/** @deprecated This API has been merged into `z.enum()`. Use `z.enum()` instead.
 *
 * ```ts
 * enum Colors { red, green, blue }
 * z.enum(Colors);
 * ```
 */
function nativeEnum(entries, params) {
    return new ZodEnum({
        type: "enum",
        entries,
        ...util.normalizeParams(params),
    });
}
const ZodLiteral = /*@__PURE__*/ $constructor("ZodLiteral", (inst, def) => {
    $ZodLiteral.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => literalProcessor(inst, ctx, json, params);
    inst.values = new Set(def.values);
    Object.defineProperty(inst, "value", {
        get() {
            if (def.values.length > 1) {
                throw new Error("This schema contains multiple valid literal values. Use `.values` instead.");
            }
            return def.values[0];
        },
    });
});
function literal(value, params) {
    return new ZodLiteral({
        type: "literal",
        values: Array.isArray(value) ? value : [value],
        ...normalizeParams(params),
    });
}
const ZodFile = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodFile", (inst, def) => {
    core.$ZodFile.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => processors.fileProcessor(inst, ctx, json, params);
    inst.min = (size, params) => inst.check(core._minSize(size, params));
    inst.max = (size, params) => inst.check(core._maxSize(size, params));
    inst.mime = (types, params) => inst.check(core._mime(Array.isArray(types) ? types : [types], params));
})));
function file(params) {
    return core._file(ZodFile, params);
}
const ZodTransform = /*@__PURE__*/ $constructor("ZodTransform", (inst, def) => {
    _ensureDefaultMemoizer();
    $ZodTransform.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => transformProcessor(inst, ctx, json, params);
    inst._zod.parse = (payload, _ctx) => {
        if (_ctx.direction === "backward") {
            throw new $ZodEncodeError(inst.constructor.name);
        }
        payload.addIssue = (issue) => {
            if (typeof issue === "string") {
                payload.issues.push(util_issue(issue, payload.value, def));
            }
            else {
                // for Zod 3 backwards compatibility
                const _issue = issue;
                if (_issue.fatal)
                    _issue.continue = false;
                _issue.code ?? (_issue.code = "custom");
                if (!("input" in _issue))
                    _issue.input = payload.value;
                _issue.inst ?? (_issue.inst = inst);
                // _issue.continue ??= true;
                payload.issues.push(util_issue(_issue));
            }
        };
        const output = def.transform(payload.value, payload);
        if (output instanceof Promise) {
            return output.then((output) => {
                payload.value = output;
                return payload;
            });
        }
        payload.value = output;
        return payload;
    };
});
function transform(fn) {
    return new ZodTransform({
        type: "transform",
        transform: fn,
    });
}
const ZodOptional = /*@__PURE__*/ $constructor("ZodOptional", (inst, def) => {
    $ZodOptional.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => optionalProcessor(inst, ctx, json, params);
    inst.unwrap = () => inst._zod.def.innerType;
});
function optional(innerType) {
    return new ZodOptional({
        type: "optional",
        innerType: innerType,
    });
}
const ZodExactOptional = /*@__PURE__*/ $constructor("ZodExactOptional", (inst, def) => {
    $ZodExactOptional.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => optionalProcessor(inst, ctx, json, params);
    inst.unwrap = () => inst._zod.def.innerType;
});
function exactOptional(innerType) {
    return new ZodExactOptional({
        type: "optional",
        innerType: innerType,
    });
}
const ZodNullable = /*@__PURE__*/ $constructor("ZodNullable", (inst, def) => {
    $ZodNullable.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => nullableProcessor(inst, ctx, json, params);
    inst.unwrap = () => inst._zod.def.innerType;
});
function nullable(innerType) {
    return new ZodNullable({
        type: "nullable",
        innerType: innerType,
    });
}
// nullish
function schemas_nullish(innerType) {
    return optional(nullable(innerType));
}
const ZodDefault = /*@__PURE__*/ $constructor("ZodDefault", (inst, def) => {
    $ZodDefault.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => defaultProcessor(inst, ctx, json, params);
    inst.unwrap = () => inst._zod.def.innerType;
    inst.removeDefault = inst.unwrap;
});
function schemas_default(innerType, defaultValue) {
    return new ZodDefault({
        type: "default",
        innerType: innerType,
        get defaultValue() {
            return typeof defaultValue === "function" ? defaultValue() : shallowClone(defaultValue);
        },
    });
}
const ZodPrefault = /*@__PURE__*/ $constructor("ZodPrefault", (inst, def) => {
    $ZodPrefault.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => prefaultProcessor(inst, ctx, json, params);
    inst.unwrap = () => inst._zod.def.innerType;
});
function prefault(innerType, defaultValue) {
    return new ZodPrefault({
        type: "prefault",
        innerType: innerType,
        get defaultValue() {
            return typeof defaultValue === "function" ? defaultValue() : shallowClone(defaultValue);
        },
    });
}
const ZodNonOptional = /*@__PURE__*/ $constructor("ZodNonOptional", (inst, def) => {
    $ZodNonOptional.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => nonoptionalProcessor(inst, ctx, json, params);
    inst.unwrap = () => inst._zod.def.innerType;
});
function nonoptional(innerType, params) {
    return new ZodNonOptional({
        type: "nonoptional",
        innerType: innerType,
        ...normalizeParams(params),
    });
}
const ZodSuccess = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodSuccess", (inst, def) => {
    core.$ZodSuccess.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => processors.successProcessor(inst, ctx, json, params);
    inst.unwrap = () => inst._zod.def.innerType;
})));
function success(innerType) {
    return new ZodSuccess({
        type: "success",
        innerType: innerType,
    });
}
const ZodCatch = /*@__PURE__*/ $constructor("ZodCatch", (inst, def) => {
    $ZodCatch.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => catchProcessor(inst, ctx, json, params);
    inst.unwrap = () => inst._zod.def.innerType;
    inst.removeCatch = inst.unwrap;
});
function schemas_catch(innerType, catchValue) {
    return new ZodCatch({
        type: "catch",
        innerType: innerType,
        catchValue: (typeof catchValue === "function" ? catchValue : constantCatch(catchValue)),
    });
}

const ZodNaN = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodNaN", (inst, def) => {
    core.$ZodNaN.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => processors.nanProcessor(inst, ctx, json, params);
})));
function nan(params) {
    return core._nan(ZodNaN, params);
}
const ZodPipe = /*@__PURE__*/ $constructor("ZodPipe", (inst, def) => {
    $ZodPipe.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => pipeProcessor(inst, ctx, json, params);
    inst.in = def.in;
    inst.out = def.out;
});
function pipe(in_, out) {
    return new ZodPipe({
        type: "pipe",
        in: in_,
        out: out,
        // ...util.normalizeParams(params),
    });
}
const ZodCodec = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodCodec", (inst, def) => {
    ZodPipe.init(inst, def);
    core.$ZodCodec.init(inst, def);
})));
function codec(in_, out, params) {
    return new ZodCodec({
        type: "pipe",
        in: in_,
        out: out,
        transform: params.decode,
        reverseTransform: params.encode,
    });
}
function invertCodec(codec) {
    const def = codec._zod.def;
    return new ZodCodec({
        type: "pipe",
        in: def.out,
        out: def.in,
        transform: def.reverseTransform,
        reverseTransform: def.transform,
    });
}
const ZodPreprocess = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodPreprocess", (inst, def) => {
    ZodPipe.init(inst, def);
    core.$ZodPreprocess.init(inst, def);
})));
const ZodReadonly = /*@__PURE__*/ $constructor("ZodReadonly", (inst, def) => {
    $ZodReadonly.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => readonlyProcessor(inst, ctx, json, params);
    inst.unwrap = () => inst._zod.def.innerType;
});
function readonly(innerType) {
    return new ZodReadonly({
        type: "readonly",
        innerType: innerType,
    });
}
const ZodTemplateLiteral = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodTemplateLiteral", (inst, def) => {
    core.$ZodTemplateLiteral.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => processors.templateLiteralProcessor(inst, ctx, json, params);
})));
function templateLiteral(parts, params) {
    return new ZodTemplateLiteral({
        type: "template_literal",
        parts,
        ...util.normalizeParams(params),
    });
}
const ZodLazy = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodLazy", (inst, def) => {
    core.$ZodLazy.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => processors.lazyProcessor(inst, ctx, json, params);
    inst.unwrap = () => inst._zod.def.getter();
})));
function lazy(getter) {
    return new ZodLazy({
        type: "lazy",
        getter: getter,
    });
}
const ZodPromise = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodPromise", (inst, def) => {
    core.$ZodPromise.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => processors.promiseProcessor(inst, ctx, json, params);
    inst.unwrap = () => inst._zod.def.innerType;
})));
function promise(innerType) {
    return new ZodPromise({
        type: "promise",
        innerType: innerType,
    });
}
const ZodFunction = /*@__PURE__*/ (/* unused pure expression or super */ null && (core.$constructor("ZodFunction", (inst, def) => {
    core.$ZodFunction.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => processors.functionProcessor(inst, ctx, json, params);
})));
function _function(params) {
    return new ZodFunction({
        type: "function",
        input: Array.isArray(params?.input) ? tuple(params?.input) : (params?.input ?? array(unknown())),
        output: params?.output ?? unknown(),
    });
}

const ZodCustom = /*@__PURE__*/ $constructor("ZodCustom", (inst, def) => {
    $ZodCustom.init(inst, def);
    ZodType.init(inst, def);
    inst._zod.processJSONSchema = (ctx, json, params) => customProcessor(inst, ctx, json, params);
});
// custom checks
function check(fn) {
    const ch = new core.$ZodCheck({
        check: "custom",
        // ...util.normalizeParams(params),
    });
    ch._zod.check = fn;
    return ch;
}
function custom(fn, _params) {
    return core._custom(ZodCustom, fn ?? (() => true), _params);
}
function refine(fn, _params = {}) {
    return _refine(ZodCustom, fn, _params);
}
// superRefine
function superRefine(fn, params) {
    return _superRefine(fn, params);
}
// Re-export describe and meta from core
const schemas_describe = describe;
const schemas_meta = meta;
const ZodInstanceOf = /*@__PURE__*/ $constructor("ZodInstanceOf", (inst, def) => {
    ZodCustom.init(inst, def);
}, {
    properties(shape, params) {
        // asserts in place, so the narrowed output type is truthful without a wrapper
        return this.check(_properties(shape, params));
    },
});
function _instanceof(cls, params = {}) {
    const inst = new ZodInstanceOf({
        type: "custom",
        check: "custom",
        fn: (data) => data instanceof cls,
        abort: true,
        ...util.normalizeParams(params),
    });
    inst._zod.bag.Class = cls;
    // Override check to emit invalid_type instead of custom
    inst._zod.check = (payload) => {
        if (!(payload.value instanceof cls)) {
            payload.issues.push({
                code: "invalid_type",
                expected: cls.name,
                input: payload.value,
                inst,
                path: [...(inst._zod.def.path ?? [])],
            });
        }
    };
    return inst;
}

// stringbool
const stringbool = (...args) => core._stringbool({
    Codec: ZodCodec,
    Boolean: ZodBoolean,
    String: ZodString,
}, ...args);
function json(params) {
    const jsonSchema = lazy(() => {
        return union([schemas_string(params), schemas_number(), schemas_boolean(), schemas_null(), array(jsonSchema), record(schemas_string(), jsonSchema)]);
    });
    return jsonSchema;
}
// preprocess
function preprocess(fn, schema) {
    return new ZodPreprocess({
        type: "pipe",
        in: transform(fn),
        out: schema,
    });
}

// EXTERNAL MODULE: ./src/backup-id.ts
var backup_id = __nccwpck_require__(9439);
;// CONCATENATED MODULE: ./src/input-values.ts



/**
 * Parsers for one input value each: what it accepts, and an error that names the input
 * and the accepted values when it is anything else. `config.ts` puts them together.
 */
function choice(value, name, allowed, fallback) {
    if (!value && fallback !== undefined)
        return fallback;
    const result = schemas_enum(allowed).safeParse(value.toLowerCase());
    if (!result.success) {
        const got = value ? `"${value}"` : 'empty';
        throw new src_errors/* LifeboatError */.H3('input', `Input \`${name}\` is ${got}; accepted values: ${allowed.map((a) => `\`${a}\``).join(', ')}.`, {
            hint: `Set \`${name}\` to one of: ${allowed.join(', ')}.`,
        });
    }
    return result.data;
}
function bool(value, name, fallback) {
    if (!value)
        return fallback;
    if (/^(true|yes|1|on)$/i.test(value))
        return true;
    if (/^(false|no|0|off)$/i.test(value))
        return false;
    throw new src_errors/* LifeboatError */.H3('input', `Input \`${name}\` is "${value}"; accepted values: \`true\`, \`false\`.`, {
        hint: `Set \`${name}\` to true or false.`,
    });
}
function parseStore(value) {
    if (value === 'actions-cache')
        return { kind: 'actions-cache' };
    if (/^s3:\/\//i.test(value))
        return { kind: 's3', url: value };
    if (/^file:\/\//i.test(value) || value.startsWith('/') || value.startsWith('.') || /^[\w~-]/.test(value)) {
        if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) && !/^file:\/\//i.test(value))
            throw badStore(value);
        return { kind: 'local', path: value };
    }
    throw badStore(value);
}
function badStore(value) {
    return new src_errors/* LifeboatError */.H3('input', `Input \`store\` is "${value}", which is not a store Lifeboat knows.`, {
        hint: 'Use `actions-cache`, `s3://bucket/prefix`, a directory path, or a `file://` URL.',
    });
}
function parseName(value) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(value) || value.includes('..')) {
        throw new src_errors/* LifeboatError */.H3('input', `Input \`name\` is "${value}"; use letters, digits, '.', '_' and '-' (at most 100).`, {
            hint: 'For example `production` or `staging-eu`.',
        });
    }
    return value;
}
function parseBackupId(value) {
    if (!value || value === 'latest')
        return 'latest';
    if (!(0,backup_id/* isBackupId */["if"])(value)) {
        throw new src_errors/* LifeboatError */.H3('input', `Input \`backup-id\` is "${value}"; accepted values: \`latest\` or an id like 20261124_000312_345_9f2c41ab.`, {
            hint: '`lifeboat list --store …` shows the ids a store holds.',
        });
    }
    return value;
}
function parseTables(value) {
    if (!value)
        return [];
    return value
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean)
        .map((t) => {
        const match = /^(?:("(?:[^"]|"")+"|[^."]+)\.)?("(?:[^"]|"")+"|[^."]+)$/.exec(t);
        if (!match) {
            throw new src_errors/* LifeboatError */.H3('input', `Input \`tables\` has "${t}", which is not a table name.`, {
                hint: 'Use a comma-separated list of schema.table, e.g. `public.workspaces, public.projects`.',
            });
        }
        const unquote = (s) => (s.startsWith('"') ? s.slice(1, -1).replace(/""/g, '"') : s);
        return { schema: match[1] ? unquote(match[1]) : 'public', name: unquote(match[2]) };
    });
}

;// CONCATENATED MODULE: ./src/postgres/connection.ts

const PASSED_PARAMS = {
    sslmode: 'PGSSLMODE',
    sslrootcert: 'PGSSLROOTCERT',
    sslcert: 'PGSSLCERT',
    sslkey: 'PGSSLKEY',
    connect_timeout: 'PGCONNECT_TIMEOUT',
    application_name: 'PGAPPNAME',
    options: 'PGOPTIONS',
    target_session_attrs: 'PGTARGETSESSIONATTRS',
};
function parseConnectionUrl(url, inputName) {
    const text = url.trim();
    const invalid = (why) => new src_errors/* LifeboatError */.H3('input', `Input \`${inputName}\` is not a usable PostgreSQL URL: ${why}.`, {
        hint: 'Use the form postgresql://USER:PASSWORD@HOST:PORT/DATABASE (for Supabase, the session pooler URL from Project Settings → Database).',
    });
    if (!/^postgres(ql)?:\/\//i.test(text))
        throw invalid('it must start with postgresql:// or postgres://');
    let parsed;
    try {
        parsed = new URL(text);
    }
    catch {
        throw invalid('it could not be parsed (is a special character in the password not percent-encoded?)');
    }
    const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
    if (!host)
        throw invalid('it has no host');
    const port = parsed.port ? Number(parsed.port) : 5432;
    const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || 'postgres';
    const user = decodeURIComponent(parsed.username);
    if (!user)
        throw invalid('it has no user name');
    const password = parsed.password ? decodeURIComponent(parsed.password) : undefined;
    const params = {};
    for (const [key, value] of parsed.searchParams) {
        if (key in PASSED_PARAMS)
            params[key] = value;
    }
    return { host, port, database, user, password, params };
}
/** host:port/database, for logs and summaries. */
function describeTarget(target) {
    const host = target.host.includes(':') ? `[${target.host}]` : target.host;
    return `${host}:${target.port}/${target.database}`;
}
/** The same server, another database (drills create throwaway databases). */
function withDatabase(target, database) {
    return { ...target, database };
}
/**
 * The environment a libpq child process (pg_dump, pg_restore, psql) needs. Passwords go
 * through PGPASSWORD, never argv, where any user on the machine could read them.
 */
function libpqEnv(target, base = process.env) {
    const env = { ...base };
    for (const key of Object.keys(env)) {
        // A stray PGSERVICE or PGPASSFILE in the caller's environment must not redirect us.
        if (/^PG[A-Z]+$/.test(key))
            delete env[key];
    }
    env.PGHOST = target.host;
    env.PGPORT = String(target.port);
    env.PGDATABASE = target.database;
    env.PGUSER = target.user;
    if (target.password !== undefined)
        env.PGPASSWORD = target.password;
    env.PGAPPNAME = target.params.application_name ?? 'lifeboat';
    env.PGCONNECT_TIMEOUT = target.params.connect_timeout ?? '15';
    for (const [key, value] of Object.entries(target.params)) {
        const name = PASSED_PARAMS[key];
        if (name && key !== 'application_name' && key !== 'connect_timeout')
            env[name] = value;
    }
    return env;
}
/** Options for `pg.Client`, password passed apart from any string that might be logged. */
function pgClientConfig(target) {
    const ssl = sslFor(target.params.sslmode, target.host);
    return {
        host: target.host,
        port: target.port,
        database: target.database,
        user: target.user,
        password: target.password,
        ssl,
        application_name: 'lifeboat',
        connectionTimeoutMillis: Number(target.params.connect_timeout ?? 15) * 1000,
    };
}
function sslFor(mode, host) {
    switch (mode) {
        case 'disable':
        case 'allow':
            return false;
        case 'verify-ca':
        case 'verify-full':
            return { rejectUnauthorized: true };
        case 'require':
        case 'prefer':
            return { rejectUnauthorized: false };
        default:
            // libpq defaults to `prefer`; `pg` has no prefer. Hosted services need TLS, local ones rarely have it.
            return isLocalHost(host) ? false : { rejectUnauthorized: false };
    }
}
function isLocalHost(host) {
    return host === 'localhost' || host === '::1' || host.startsWith('127.') || host.startsWith('/');
}
/** Supabase's transaction pooler (port 6543) breaks pg_dump; the session pooler (5432) works. */
function isTransactionPooler(target) {
    return target.port === 6543 || (/\.pooler\.supabase\.com$/i.test(target.host) && target.port !== 5432);
}

;// CONCATENATED MODULE: ./src/postgres/catalog.ts
function qualified(schema, name) {
    return `${schema}.${name}`;
}
/** Quotes an identifier the way PostgreSQL would accept it in any context. */
function quoteIdent(name) {
    return `"${name.replace(/"/g, '""')}"`;
}
function quoteLiteral(value) {
    return `'${value.replace(/'/g, "''")}'`;
}
function tableRef(schema, name) {
    return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

;// CONCATENATED MODULE: ./src/postgres/catalog-queries.ts
/**
 * Catalog queries behind a snapshot. Every query skips system schemas and objects that
 * belong to extensions (the extension recreates those), so a snapshot lists only what a
 * dump carries and a restore must bring back.
 */
const USER_SCHEMA = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'`;
const notExtensionMember = (classid, oid) => `NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '${classid}'::regclass AND d.objid = ${oid} AND d.deptype = 'e')`;
const Q = {
    server: `SELECT current_setting('server_version') AS version, current_setting('server_version_num')::int AS num, current_database() AS database`,
    schemas: `SELECT n.nspname AS name FROM pg_namespace n WHERE ${USER_SCHEMA} AND ${notExtensionMember('pg_namespace', 'n.oid')} ORDER BY 1`,
    tables: `SELECT n.nspname AS schema, c.relname AS name, c.relkind AS kind, c.relrowsecurity AS rls_enabled,
      c.relforcerowsecurity AS rls_forced, pg_get_userbyid(c.relowner) AS owner
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND ${USER_SCHEMA} AND ${notExtensionMember('pg_class', 'c.oid')}
    ORDER BY 1, 2`,
    policies: `SELECT n.nspname AS schema, c.relname AS table, p.polname AS name, p.polcmd AS command, p.polpermissive AS permissive,
      COALESCE((SELECT array_agg(CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r) END ORDER BY 1) FROM unnest(p.polroles) AS r), '{}') AS roles,
      pg_get_expr(p.polqual, p.polrelid) AS using, pg_get_expr(p.polwithcheck, p.polrelid) AS check
    FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE ${USER_SCHEMA} ORDER BY 1, 2, 3`,
    functions: `SELECT n.nspname AS schema, p.proname AS name, pg_get_function_identity_arguments(p.oid) AS args, p.prokind AS kind,
      l.lanname AS language, md5(COALESCE(p.prosrc, '') || '|' || COALESCE(p.probin, '')) AS body_hash, p.prosecdef AS security_definer
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
    WHERE ${USER_SCHEMA} AND ${notExtensionMember('pg_proc', 'p.oid')} ORDER BY 1, 2, 3`,
    extensions: `SELECT e.extname AS name, e.extversion AS version, n.nspname AS schema
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace ORDER BY 1`,
    databaseSettings: `SELECT COALESCE(r.rolname, '') AS role, unnest(s.setconfig) AS setting
    FROM pg_db_role_setting s LEFT JOIN pg_roles r ON r.oid = s.setrole
    WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY 1, 2`,
    constraints: `SELECT n.nspname AS schema, c.relname AS table, con.conname AS name, con.contype AS type,
      pg_get_constraintdef(con.oid) AS definition, con.convalidated AS validated
    FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE con.contype IN ('p', 'u', 'f', 'c', 'x') AND ${USER_SCHEMA} AND ${notExtensionMember('pg_class', 'c.oid')}
      AND con.conparentid = 0
    ORDER BY 1, 2, 3`,
    indexes: `SELECT n.nspname AS schema, t.relname AS table, i.relname AS name, pg_get_indexdef(i.oid) AS definition
    FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE ${USER_SCHEMA} AND ${notExtensionMember('pg_class', 't.oid')} ORDER BY 1, 2, 3`,
    triggers: `SELECT n.nspname AS schema, c.relname AS table, t.tgname AS name, t.tgenabled AS enabled,
      pg_get_triggerdef(t.oid) AS definition
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE NOT t.tgisinternal AND ${USER_SCHEMA} AND ${notExtensionMember('pg_class', 'c.oid')} ORDER BY 1, 2, 3`,
    views: `SELECT n.nspname AS schema, c.relname AS name, c.relkind AS kind, pg_get_viewdef(c.oid) AS definition,
      c.relispopulated AS populated
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('v', 'm') AND ${USER_SCHEMA} AND ${notExtensionMember('pg_class', 'c.oid')} ORDER BY 1, 2`,
    sequences: `SELECT n.nspname AS schema, c.relname AS name,
      tn.nspname AS owner_schema, t.relname AS owner_table, a.attname AS owner_column
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
    LEFT JOIN pg_class t ON t.oid = d.refobjid LEFT JOIN pg_namespace tn ON tn.oid = t.relnamespace
    LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
    WHERE c.relkind = 'S' AND ${USER_SCHEMA} AND ${notExtensionMember('pg_class', 'c.oid')} ORDER BY 1, 2`,
    roles: `SELECT DISTINCT role FROM (
      SELECT pg_get_userbyid(c.relowner) AS role FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${USER_SCHEMA}
      UNION SELECT pg_get_userbyid(n.nspowner) FROM pg_namespace n WHERE ${USER_SCHEMA}
      UNION SELECT pg_get_userbyid(p.proowner) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ${USER_SCHEMA}
      UNION SELECT pg_get_userbyid(a.grantee) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
        LATERAL aclexplode(c.relacl) a WHERE ${USER_SCHEMA} AND a.grantee <> 0
      UNION SELECT pg_get_userbyid(a.grantee) FROM pg_namespace n, LATERAL aclexplode(n.nspacl) a WHERE ${USER_SCHEMA} AND a.grantee <> 0
      UNION SELECT pg_get_userbyid(a.grantee) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace,
        LATERAL aclexplode(p.proacl) a WHERE ${USER_SCHEMA} AND a.grantee <> 0
      UNION SELECT pg_get_userbyid(r) FROM pg_policy p, LATERAL unnest(p.polroles) r WHERE r <> 0
    ) x WHERE role IS NOT NULL ORDER BY 1`,
    largeObjects: `SELECT count(*)::bigint AS count FROM pg_largeobject_metadata`,
    /** What would stop the current role from reading every row. */
    readiness: `SELECT n.nspname AS schema, c.relname AS name,
      NOT has_table_privilege(c.oid, 'SELECT') AS no_select,
      (c.relrowsecurity AND NOT r.rolsuper AND NOT r.rolbypassrls
        AND (c.relforcerowsecurity OR NOT pg_has_role(c.relowner, 'USAGE'))) AS rls_blocks
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_roles r ON r.rolname = current_user
    WHERE c.relkind IN ('r', 'p', 'S', 'm') AND ${USER_SCHEMA} AND ${notExtensionMember('pg_class', 'c.oid')}
      AND (NOT has_table_privilege(c.oid, 'SELECT')
        OR (c.relrowsecurity AND NOT r.rolsuper AND NOT r.rolbypassrls
          AND (c.relforcerowsecurity OR NOT pg_has_role(c.relowner, 'USAGE'))))
    ORDER BY 1, 2`,
    currentRole: `SELECT current_user AS name, rolsuper AS superuser, rolbypassrls AS bypassrls FROM pg_roles WHERE rolname = current_user`,
};

;// CONCATENATED MODULE: ./src/postgres/inspect.ts



const DEFAULT_MIGRATIONS_TABLE = 'supabase_migrations.schema_migrations';
/**
 * Reads a catalog snapshot through `client`. Run it inside the transaction whose snapshot
 * the dump shares, and the counts describe exactly the rows the dump holds.
 */
async function inspectDatabase(client, options = {}) {
    const all = async (sql, params = []) => (await client.query(sql, params)).rows;
    const [server] = await all(Q.server);
    const tables = (await all(Q.tables)).map((r) => ({
        schema: str(r.schema),
        name: str(r.name),
        kind: r.kind === 'p' ? 'p' : 'r',
        rows: null,
        rlsEnabled: Boolean(r.rls_enabled),
        rlsForced: Boolean(r.rls_forced),
        owner: str(r.owner),
    }));
    for (const t of tables) {
        if (t.kind !== 'r')
            continue;
        if (options.fingerprints) {
            // One read per table: the fingerprint starts with the exact row count.
            t.fingerprint = await tableFingerprint(client, t.schema, t.name);
            t.rows = Number(t.fingerprint.split(':')[0]);
        }
        else if (options.rowCounts !== false) {
            const [row] = await all(`SELECT count(*)::bigint AS n FROM ${tableRef(t.schema, t.name)}`);
            t.rows = Number(row?.n ?? 0);
        }
    }
    const sequences = [];
    for (const r of await all(Q.sequences)) {
        const [value] = await all(`SELECT last_value::text AS last_value, is_called FROM ${tableRef(str(r.schema), str(r.name))}`);
        sequences.push({
            schema: str(r.schema),
            name: str(r.name),
            lastValue: value?.last_value == null ? null : str(value.last_value),
            isCalled: Boolean(value?.is_called),
            ownedBy: r.owner_table
                ? { schema: str(r.owner_schema), table: str(r.owner_table), column: str(r.owner_column) }
                : null,
        });
    }
    return {
        takenAt: new Date().toISOString(),
        database: str(server?.database),
        serverVersion: str(server?.version).split(' ')[0] ?? '',
        serverMajor: Math.floor(Number(server?.num) / 10000),
        tables,
        policies: (await all(Q.policies)).map((r) => ({
            schema: str(r.schema),
            table: str(r.table),
            name: str(r.name),
            command: str(r.command),
            permissive: Boolean(r.permissive),
            roles: strArray(r.roles),
            using: r.using == null ? null : str(r.using),
            check: r.check == null ? null : str(r.check),
        })),
        functions: (await all(Q.functions)).map((r) => ({
            schema: str(r.schema),
            name: str(r.name),
            args: str(r.args),
            kind: str(r.kind),
            language: str(r.language),
            bodyHash: str(r.body_hash),
            securityDefiner: Boolean(r.security_definer),
        })),
        extensions: (await all(Q.extensions)).map((r) => ({
            name: str(r.name),
            version: str(r.version),
            schema: str(r.schema),
        })),
        databaseSettings: (await all(Q.databaseSettings)).map((r) => ({
            role: str(r.role),
            setting: str(r.setting),
        })),
        constraints: (await all(Q.constraints)).map((r) => ({
            schema: str(r.schema),
            table: str(r.table),
            name: str(r.name),
            type: str(r.type),
            definition: str(r.definition),
            validated: Boolean(r.validated),
        })),
        indexes: (await all(Q.indexes)).map((r) => ({
            schema: str(r.schema),
            table: str(r.table),
            name: str(r.name),
            definition: str(r.definition),
        })),
        triggers: (await all(Q.triggers)).map((r) => ({
            schema: str(r.schema),
            table: str(r.table),
            name: str(r.name),
            enabled: str(r.enabled),
            definition: str(r.definition),
        })),
        views: (await all(Q.views)).map((r) => ({
            schema: str(r.schema),
            name: str(r.name),
            kind: r.kind === 'm' ? 'm' : 'v',
            definition: str(r.definition),
            populated: Boolean(r.populated),
        })),
        sequences,
        roles: (await all(Q.roles)).map((r) => str(r.role)),
        schemas: (await all(Q.schemas)).map((r) => str(r.name)),
        largeObjects: Number((await all(Q.largeObjects))[0]?.count ?? 0),
        migration: await readMigration(client, options.migrationsTable ?? DEFAULT_MIGRATIONS_TABLE),
    };
}
/** Output formats that make a row's text the same in any session on any server. */
const FINGERPRINT_SETTINGS = {
    TimeZone: 'UTC',
    DateStyle: 'ISO, YMD',
    IntervalStyle: 'postgres',
    extra_float_digits: '1',
    bytea_output: 'hex',
    lc_monetary: 'C',
};
/**
 * Sum of per-row hashes: independent of row order and physical layout, so a restored
 * copy hashes the same as its source while any altered, lost or added row changes it.
 * Rows are hashed as text in fixed formats, so a drill server in another time zone agrees.
 */
async function tableFingerprint(client, schema, name) {
    const settings = Object.entries(FINGERPRINT_SETTINGS);
    await client.query(settings.map(([key, value]) => `SET ${key} = '${value}'`).join('; '));
    try {
        const sql = `SELECT count(*)::text || ':' || COALESCE(sum(('x' || substr(md5(t::text), 1, 15))::bit(60)::bigint::numeric), 0)::text AS fp
      FROM ${tableRef(schema, name)} AS t`;
        const { rows } = await client.query(sql);
        return str(rows[0]?.fp);
    }
    finally {
        await client.query(settings.map(([key]) => `RESET ${key}`).join('; ')).catch(() => undefined);
    }
}
/** The newest applied migration version, or null when the table does not exist. */
async function readMigration(client, table) {
    const { rows } = await client
        .query('SELECT to_regclass($1)::text AS rel', [table])
        .catch((error) => {
        throw new src_errors/* LifeboatError */.H3('input', `Input \`migrations-table\` is not a valid table name: "${table}".`, {
            hint: 'Use schema.table, for example supabase_migrations.schema_migrations.',
            cause: error,
        });
    });
    const rel = rows[0]?.rel;
    if (!rel)
        return null;
    const columns = await client.query(`SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`, [rel]);
    const names = columns.rows.map((r) => str(r.attname));
    const column = ['version', 'id', 'name'].find((c) => names.includes(c)) ?? names[0];
    if (!column)
        return { table, latestVersion: null, count: 0 };
    const result = await client.query(`SELECT max(${quoteIdent(column)}::text) AS latest, count(*)::bigint AS n FROM ${String(rel)}`);
    const row = result.rows[0];
    return { table, latestVersion: row?.latest == null ? null : str(row.latest), count: Number(row?.n ?? 0) };
}
function str(value) {
    return value == null ? '' : String(value);
}
function strArray(value) {
    if (Array.isArray(value))
        return value.map(String);
    if (typeof value === 'string') {
        // node-postgres returns name[] as text when it lacks a parser for the type.
        return value
            .replace(/^\{|\}$/g, '')
            .split(',')
            .filter(Boolean)
            .map((s) => s.replace(/^"|"$/g, ''));
    }
    return [];
}

;// CONCATENATED MODULE: ./src/retention.ts


/** `14` keeps the newest 14 backups; `30d` keeps those younger than 30 days. */
function parseRetention(value) {
    if (/^\d+$/.test(value)) {
        const count = Number(value);
        if (count < 1) {
            throw new src_errors/* LifeboatError */.H3('input', 'Input `keep` must keep at least one backup.', {
                hint: 'Use a count such as `14` or an age such as `30d`.',
            });
        }
        return { kind: 'count', count };
    }
    try {
        return { kind: 'age', seconds: parseDuration(value, 'keep') };
    }
    catch {
        throw new src_errors/* LifeboatError */.H3('input', `Input \`keep\` is "${value}"; accepted values: a count (\`14\`) or an age (\`30d\`, \`12h\`).`, {
            hint: 'Leave it empty to keep every backup.',
        });
    }
}
/**
 * Which backups retention removes. Never the one just taken, never the newest verified
 * one, and nothing at all unless the backup just taken is among the candidates (so a
 * failed backup can never trigger deletion).
 */
function planRetention(backups, rule, justTaken, now = new Date()) {
    if (!backups.some((b) => b.backupId === justTaken))
        return [];
    const newestFirst = [...backups].sort((a, b) => (a.backupId < b.backupId ? 1 : -1));
    const newestVerified = newestFirst.find((b) => b.verified)?.backupId;
    const keep = new Set([justTaken, newestVerified].filter(Boolean));
    return newestFirst
        .filter((b, index) => rule.kind === 'count'
        ? index >= rule.count
        : now.getTime() - b.createdAt.getTime() > rule.seconds * 1000)
        .map((b) => b.backupId)
        .filter((id) => !keep.has(id));
}

;// CONCATENATED MODULE: ./src/config.ts








/**
 * Turns raw inputs into one typed settings object, validating everything up front so no
 * work starts on bad input. Every secret is handed to `secret` before anything can print it.
 */
function parseSettings(read, secret) {
    const raw = (name) => read(name).trim();
    for (const name of [
        Inputs.DatabaseUrl,
        Inputs.TargetUrl,
        Inputs.EncryptionIdentity,
        Inputs.EncryptionPassphrase,
        Inputs.GithubToken,
    ]) {
        const value = read(name);
        if (value)
            secret(value);
    }
    const mode = choice(raw(Inputs.Mode), Inputs.Mode, Modes, undefined);
    const common = {
        store: parseStore(raw(Inputs.Store) || 'actions-cache'),
        name: parseName(raw(Inputs.Name) || 'production'),
        keys: parseKeys(read, secret),
        pgBinDir: raw(Inputs.PgBinDir) || undefined,
        githubToken: raw(Inputs.GithubToken) || undefined,
    };
    const url = (name, required) => {
        const value = raw(name);
        if (!value) {
            if (required) {
                throw new src_errors/* LifeboatError */.H3('input', `Input \`${name}\` is required for mode \`${mode}\`.`, {
                    hint: 'Pass the connection string from a secret, e.g. `${{ secrets.DATABASE_URL }}`.',
                });
            }
            return undefined;
        }
        const target = parseConnectionUrl(value, name);
        if (target.password)
            secret(target.password);
        return target;
    };
    const migrationsTable = raw(Inputs.MigrationsTable) || DEFAULT_MIGRATIONS_TABLE;
    switch (mode) {
        case 'backup': {
            requireEncryptKey(common);
            const keep = raw(Inputs.Keep);
            return {
                ...common,
                mode,
                database: url(Inputs.DatabaseUrl, true),
                keep: keep ? parseRetention(keep) : undefined,
                migrationsTable,
                fingerprints: bool(raw(Inputs.VerifyContent), Inputs.VerifyContent, false),
            };
        }
        case 'gate':
            return {
                ...common,
                mode,
                maxAgeSeconds: parseDuration(raw(Inputs.MaxAge) || '24h', Inputs.MaxAge),
                require: choice(raw(Inputs.Require), Inputs.Require, VerificationLevels, 'readable'),
                database: url(Inputs.DatabaseUrl, false),
                migrationsTable,
                migrationsDir: raw(Inputs.MigrationsDir) || 'supabase/migrations',
                failOnStale: bool(raw(Inputs.FailOnStale), Inputs.FailOnStale, true),
            };
        case 'drill': {
            requireDecryptKey(common, mode);
            const rto = raw(Inputs.RtoTarget);
            const rpo = raw(Inputs.RpoTarget);
            return {
                ...common,
                mode,
                target: url(Inputs.TargetUrl, true),
                backupId: parseBackupId(raw(Inputs.BackupId)),
                rtoTargetSeconds: rto ? parseDuration(rto, Inputs.RtoTarget) : undefined,
                rpoTargetSeconds: rpo ? parseDuration(rpo, Inputs.RpoTarget) : undefined,
                verifySql: raw(Inputs.VerifySql) || undefined,
                profile: choice(raw(Inputs.Profile), Inputs.Profile, Profiles, 'auto'),
                keepDatabase: bool(raw(Inputs.KeepDatabase), Inputs.KeepDatabase, false),
            };
        }
        case 'restore': {
            requireDecryptKey(common, mode);
            return {
                ...common,
                mode,
                target: url(Inputs.TargetUrl, true),
                backupId: parseBackupId(raw(Inputs.BackupId)),
                confirm: raw(Inputs.Confirm),
                dryRun: bool(raw(Inputs.DryRun), Inputs.DryRun, false),
                tables: parseTables(raw(Inputs.Tables)),
                profile: choice(raw(Inputs.Profile), Inputs.Profile, Profiles, 'auto'),
            };
        }
    }
}
function parseKeys(read, secret) {
    const recipients = read(Inputs.EncryptionRecipient).trim()
        ? parseRecipients(read(Inputs.EncryptionRecipient), Inputs.EncryptionRecipient)
        : [];
    const identities = read(Inputs.EncryptionIdentity).trim()
        ? parseIdentities(read(Inputs.EncryptionIdentity), Inputs.EncryptionIdentity)
        : [];
    identities.forEach(secret);
    const passphrase = read(Inputs.EncryptionPassphrase) || undefined;
    if (passphrase && (recipients.length || identities.length)) {
        throw new src_errors/* LifeboatError */.H3('input', 'Inputs `encryption-passphrase` and `encryption-recipient`/`encryption-identity` cannot be combined.', {
            hint: 'Use age keys (recommended: backups need only the public key) or a passphrase, not both.',
        });
    }
    // An identity alone can encrypt too: its recipient is derived from it.
    const all = recipients.length ? recipients : identities.map(recipientOf);
    return { recipients: all, identities, passphrase };
}
function requireEncryptKey(common) {
    if (common.keys.recipients.length || common.keys.passphrase)
        return;
    const why = common.store.kind === 'actions-cache'
        ? ' The actions-cache store is readable by pull requests from forks, so backups there must be encrypted.'
        : ' Lifeboat never stores an unencrypted backup.';
    throw new src_errors/* LifeboatError */.H3('input', `Mode \`backup\` needs \`encryption-recipient\` (an age public key) or \`encryption-passphrase\`.${why}`, {
        hint: 'Generate a key pair with `age-keygen -o key.txt`, keep key.txt secret, and pass its public key (age1…) as encryption-recipient.',
    });
}
function requireDecryptKey(common, mode) {
    if (common.keys.identities.length || common.keys.passphrase)
        return;
    throw new src_errors/* LifeboatError */.H3('input', `Mode \`${mode}\` needs \`encryption-identity\` (AGE-SECRET-KEY-1…) or \`encryption-passphrase\` to read the backup.`, {
        hint: 'Store the identity in a protected GitHub environment and pass it as `${{ secrets.LIFEBOAT_IDENTITY }}`.',
    });
}

;// CONCATENATED MODULE: external "node:stream/consumers"
const consumers_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:stream/consumers");
// EXTERNAL MODULE: ./src/stores/store.ts
var stores_store = __nccwpck_require__(4703);
;// CONCATENATED MODULE: ./src/archive/manifest.ts



/**
 * The manifest of a backup set. Its plain part is readable without a key (the gate reads
 * it in pull-request jobs that hold no secrets), so it holds nothing derived from user
 * data; the catalog snapshot travels age-encrypted in `catalog`.
 */
const MANIFEST_FORMAT = 'lifeboat-manifest';
const MANIFEST_VERSION = 1;
const LevelSchema = schemas_enum(VerificationLevels);
const ManifestSchema = object({
    format: literal(MANIFEST_FORMAT),
    formatVersion: schemas_number().int().positive(),
    backupId: schemas_string().min(1),
    name: schemas_string().min(1),
    createdAt: schemas_string(),
    completedAt: schemas_string(),
    lifeboatVersion: schemas_string(),
    source: object({
        serverVersion: schemas_string(),
        serverMajor: schemas_number().int(),
        pgDumpVersion: schemas_string(),
    }),
    archive: object({
        key: schemas_string(),
        format: literal('pg_dump-custom'),
        compression: literal('zstd'),
        encryption: schemas_enum(['age-x25519', 'age-scrypt']),
        sizeBytes: schemas_number().int().nonnegative(),
        dumpBytes: schemas_number().int().nonnegative().nullable(),
        sha256: schemas_string().regex(/^[0-9a-f]{64}$/),
        tocEntries: schemas_number().int().nonnegative().nullable(),
    }),
    verification: object({
        level: LevelSchema,
        checkedAt: schemas_string(),
        history: array(object({ level: LevelSchema, at: schemas_string(), by: schemas_string() })),
    }),
    migration: object({
        table: schemas_string(),
        latestVersion: schemas_string().nullable(),
    })
        .nullable(),
    durationSeconds: schemas_number().nonnegative(),
    /** age-encrypted JSON catalog snapshot, base64. */
    catalog: schemas_string(),
});
function serializeManifest(manifest) {
    return Buffer.from(`${JSON.stringify(ManifestSchema.parse(manifest), null, 2)}\n`);
}
function parseManifest(bytes, where) {
    let json;
    try {
        json = JSON.parse(bytes.toString());
    }
    catch {
        throw new src_errors/* LifeboatError */.H3('integrity', `The manifest ${where} is not valid JSON (damaged or truncated).`, {
            hint: 'Take a new backup; this one cannot be trusted.',
        });
    }
    const head = json;
    if (head?.format !== MANIFEST_FORMAT) {
        throw new src_errors/* LifeboatError */.H3('format', `${where} is not a Lifeboat manifest.`, {
            hint: 'Check the store and name inputs.',
        });
    }
    if (typeof head.formatVersion === 'number' && head.formatVersion > MANIFEST_VERSION) {
        throw new src_errors/* LifeboatError */.H3('format', `The manifest ${where} has format version ${head.formatVersion}, newer than this Lifeboat understands (${MANIFEST_VERSION}).`, { hint: 'Upgrade Lifeboat (use the same major version that wrote the backup, or newer).' });
    }
    const result = ManifestSchema.safeParse(json);
    if (!result.success) {
        const issue = result.error.issues[0];
        throw new src_errors/* LifeboatError */.H3('integrity', `The manifest ${where} is damaged: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'schema mismatch'}.`, { hint: 'Take a new backup; this one cannot be trusted.' });
    }
    return result.data;
}
const RANK = { stored: 1, readable: 2, restored: 3 };
function levelAtLeast(level, required) {
    return RANK[level] >= RANK[required];
}
/** A manifest whose verification level rose, with the step recorded. */
function withLevel(manifest, level, by, at = new Date()) {
    const next = RANK[level] > RANK[manifest.verification.level] ? level : manifest.verification.level;
    return {
        ...manifest,
        verification: {
            level: next,
            checkedAt: at.toISOString(),
            history: [...manifest.verification.history, { level, at: at.toISOString(), by }],
        },
    };
}

;// CONCATENATED MODULE: ./src/archive/manifests.ts




/** Reads and parses one manifest. */
async function readManifest(store, name, backupId) {
    const key = (0,stores_store/* manifestKey */.Rn)(name, backupId);
    const bytes = await (0,consumers_namespaceObject.buffer)(await store.get(key));
    const manifest = parseManifest(bytes, key);
    if (manifest.backupId !== backupId || manifest.name !== name) {
        throw new src_errors/* LifeboatError */.H3('integrity', `The manifest ${key} describes backup ${manifest.name}/${manifest.backupId}, not ${name}/${backupId}.`, {
            hint: 'The store was edited by hand or objects were mixed up; do not trust this backup.',
        });
    }
    return manifest;
}
/** The manifest `latest` or a given id points at, with a clear error when there is none. */
async function resolveManifest(store, name, backupId) {
    const id = backupId === 'latest' ? await (0,stores_store/* latestBackupId */.b5)(store, name) : backupId;
    if (!id) {
        throw new src_errors/* LifeboatError */.H3('not-found', `The store ${store.location} holds no backup of "${name}".`, {
            hint: 'Run the backup workflow first (mode: backup), and check that store and name match it.',
        });
    }
    return readManifest(store, name, id);
}
/** Every readable manifest of a set, newest first; damaged ones are reported, not hidden. */
async function readAllManifests(store, name) {
    const manifests = [];
    const damaged = [];
    for (const id of await (0,stores_store/* listBackupIds */.hf)(store, name)) {
        try {
            manifests.push(await readManifest(store, name, id));
        }
        catch (error) {
            damaged.push({ backupId: id, error: error.message });
        }
    }
    return { manifests, damaged };
}

;// CONCATENATED MODULE: ./src/retention-apply.ts




/**
 * Applies retention after a verified backup. The manifest goes first, so a backup that
 * is half deleted is never listed as one.
 */
async function applyRetention(store, name, rule, justTaken, log, options = {}) {
    const { manifests } = await readAllManifests(store, name);
    const doomed = planRetention(manifests.map((m) => ({
        backupId: m.backupId,
        createdAt: (0,backup_id/* backupIdTime */.NB)(m.backupId) ?? new Date(m.createdAt),
        verified: m.verification.level !== 'stored',
    })), rule, justTaken);
    for (const id of doomed) {
        if (options.dryRun) {
            log.info(`Retention would delete ${name}/${id}.`);
            continue;
        }
        await store.delete((0,stores_store/* manifestKey */.Rn)(name, id));
        await store.delete((0,stores_store/* archiveKey */.q2)(name, id));
        log.info(`Retention deleted ${name}/${id}.`);
    }
    if (doomed.length === 0)
        log.info('Retention: nothing to delete.');
    return doomed;
}

// EXTERNAL MODULE: external "node:stream/promises"
var promises_ = __nccwpck_require__(6466);
// EXTERNAL MODULE: external "node:timers/promises"
var external_node_timers_promises_ = __nccwpck_require__(8500);
// EXTERNAL MODULE: external "node:child_process"
var external_node_child_process_ = __nccwpck_require__(1421);
;// CONCATENATED MODULE: ./src/process.ts


const STDERR_LIMIT = 16 * 1024;
/**
 * Starts a child process whose failure can never go unnoticed: every caller awaits `done`,
 * which rejects on a non-zero status or a signal, quoting the last lines it wrote to stderr.
 * Arguments never carry passwords (they travel in env), so argv is safe to show.
 */
function startChild(command, args, options) {
    const proc = (0,external_node_child_process_.spawn)(command, args, {
        env: options.env ?? process.env,
        stdio: options.stdio ?? ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (chunk) => {
        stderr = (stderr + chunk).slice(-STDERR_LIMIT);
    });
    const mask = options.mask ?? ((t) => t);
    const tail = () => mask(stderr.trim());
    const done = new Promise((resolve, reject) => {
        proc.once('error', (error) => {
            reject(new src_errors/* LifeboatError */.H3(error.code === 'ENOENT' ? 'tools' : options.code, error.code === 'ENOENT'
                ? `${options.label} could not be started: ${command} was not found.`
                : `${options.label} could not be started: ${error.message}`, { hint: options.hint, cause: error }));
        });
        proc.once('close', (status, signal) => {
            if (status === 0)
                return resolve();
            const how = signal ? `was killed by ${signal}` : `exited with status ${status}`;
            const said = tail();
            reject(new src_errors/* LifeboatError */.H3(options.code, `${options.label} ${how}${said ? `:\n${indent(said)}` : '.'}`, {
                hint: options.hint,
            }));
        });
    });
    // Callers may attach late; never let an early failure become an unhandled rejection.
    done.catch(() => undefined);
    return {
        process: proc,
        done,
        stderr: tail,
        kill: () => {
            if (proc.exitCode === null && proc.signalCode === null)
                proc.kill('SIGKILL');
        },
    };
}
function indent(text) {
    const lines = text.split('\n');
    const kept = lines.length > 20 ? ['…', ...lines.slice(-20)] : lines;
    return kept.map((l) => `  ${l}`).join('\n');
}
/**
 * The error of the first of `children` that failed, else `error`: a child that died
 * (pg_dump, zstd) says in its own stderr what the broken pipe it left downstream cannot.
 */
async function preferChildError(error, children) {
    for (const child of children) {
        const childError = await child.done.then(() => undefined, (e) => e);
        if (childError)
            return childError;
    }
    return error;
}

;// CONCATENATED MODULE: ./src/archive/hash.ts


/** Passes bytes through unchanged while hashing (SHA-256) and counting them. */
class HashCounter extends external_node_stream_.Transform {
    hash = (0,external_node_crypto_.createHash)('sha256');
    bytes = 0;
    _transform(chunk, _encoding, callback) {
        this.hash.update(chunk);
        this.bytes += chunk.length;
        callback(null, chunk);
    }
    /** Hex digest; call once, after the stream finished. */
    digest() {
        return this.hash.digest('hex');
    }
}
/**
 * Holds back the end of a stream until `check` resolves, so a store never finalizes
 * an object whose producer (pg_dump, zstd) failed after writing its last byte.
 */
class EndGate extends external_node_stream_.Transform {
    check;
    constructor(check) {
        super();
        this.check = check;
    }
    _transform(chunk, _encoding, callback) {
        callback(null, chunk);
    }
    _flush(callback) {
        this.check().then(() => callback(), (error) => callback(error));
    }
}

;// CONCATENATED MODULE: ./src/archive/progress.ts


/** Counts bytes passing through and reports size and rate every `intervalMs`. */
class ProgressMeter extends external_node_stream_.Transform {
    log;
    label;
    bytes = 0;
    started = Date.now();
    timer;
    constructor(log, label, intervalMs = 5000) {
        super();
        this.log = log;
        this.label = label;
        this.timer = setInterval(() => this.report(), intervalMs);
        this.timer.unref();
        const stop = () => this.stop();
        this.once('end', stop).once('error', stop).once('close', stop);
    }
    _transform(chunk, _encoding, callback) {
        this.bytes += chunk.length;
        callback(null, chunk);
    }
    rate() {
        const seconds = Math.max((Date.now() - this.started) / 1000, 0.001);
        return this.bytes / seconds;
    }
    report() {
        this.log.progress(`${this.label}: ${formatBytes(this.bytes)} at ${formatBytes(this.rate())}/s`);
    }
    stop() {
        if (this.timer)
            clearInterval(this.timer);
        this.timer = undefined;
    }
}

;// CONCATENATED MODULE: ./src/archive/zstd.ts

/**
 * zstd runs as the `zstd` CLI: multi-threaded, native speed, and the same tool a person
 * uses to recover by hand. Node 20 has no zstd in zlib. Frames carry a content checksum
 * (`--check`), so decompression proves every byte.
 *
 * Level 2: on application-like data (npm run bench) it compresses as well as
 * `pg_dump --compress=9` and within 2% of level 3, for about two thirds of level 3's CPU,
 * which a 2-core runner shares with pg_dump (docs/performance.md).
 */
const ZSTD_LEVEL = 2;
const HINT = 'Install zstd (apt-get install zstd, brew install zstd); GitHub-hosted runners have it.';
function startCompressor(stdin, level = ZSTD_LEVEL) {
    return startChild('zstd', ['-q', '-c', `-${level}`, '-T0', '--check'], {
        label: 'zstd (compress)',
        code: 'internal',
        stdio: [stdin, 'pipe', 'pipe'],
        hint: HINT,
    });
}
const DECOMPRESS_HINT = 'The archive decrypted but did not decompress: it was damaged before it was encrypted, or written by another tool.';
/** `zstd -d` writing to `stdout`: a file descriptor, or another process's stdin. */
function startDecompressor(stdout) {
    return startChild('zstd', ['-q', '-d', '-c'], {
        label: 'zstd (decompress)',
        code: 'integrity',
        stdio: ['pipe', stdout, 'pipe'],
        hint: DECOMPRESS_HINT,
    });
}
/** `zstd -t -v`: decompresses everything, keeps nothing, and says how many bytes it made. */
function startDecompressionTest() {
    return startChild('zstd', ['-t', '-v'], {
        label: 'zstd (decompress)',
        code: 'integrity',
        stdio: ['pipe', 'ignore', 'pipe'],
        hint: DECOMPRESS_HINT,
        // -v also prints zstd's banner, which says nothing about the archive.
        mask: (text) => text.replace(/^\*\*\*.*\*\*\*\s*$/gm, '').trim(),
    });
}
/**
 * The size of the decompressed data, from the line `zstd -t -v` ends with:
 * `/*stdin*\            : 806354944 bytes`. Null when a zstd words it otherwise: the size is
 * informative, the test itself is the exit status.
 */
function testedBytes(stderr) {
    const match = /:\s*(\d+) bytes\s*$/.exec(stderr.trim());
    return match ? Number(match[1]) : null;
}

;// CONCATENATED MODULE: ./src/archive/readback.ts









/**
 * Reads the stored archive back, every byte. Level `stored`: its bytes hash to what was
 * written. Level `readable` (needs a key): every age chunk authenticates, zstd
 * decompresses to the end with its frame checksum, and pg_restore parses the table of
 * contents. `pg_restore --list` alone proves nothing: it reads only the start.
 *
 * Node hashes and decrypts; the decompressed dump never passes through it. `zstd -t`
 * decompresses all of it and checks the frame checksum, and a second zstd feeds
 * pg_restore directly until it has read the table of contents. Routing the plaintext
 * through Node instead cost about a fifth more time (npm run bench).
 */
async function readBack(options) {
    const { store, key, log } = options;
    const source = await store.get(key).catch((error) => {
        if (!(0,src_errors/* isLifeboatError */.rx)(error, 'not-found'))
            throw error;
        throw new src_errors/* LifeboatError */.H3('integrity', `The store acknowledged ${key}, but reading it back found nothing there: ${error.message}.`, {
            hint: 'The store lost an object it reported stored (a misbehaving S3-compatible service, say). Nothing was marked verified; check the store and take a new backup.',
            cause: error,
        });
    });
    const hasher = new HashCounter();
    const meter = new ProgressMeter(log, 'Reading back');
    try {
        if (!options.keys || !options.pgRestore) {
            await (0,promises_.pipeline)(source, hasher, meter, sink());
            checkHash(hasher, options, key);
            return { level: 'stored', dumpBytes: null, tocEntries: null };
        }
        const test = startDecompressionTest();
        let toc;
        try {
            toc = startTocListing(options.pgRestore);
        }
        catch (error) {
            test.kill();
            throw error;
        }
        try {
            await Promise.all([
                (0,promises_.pipeline)(source, hasher, meter, createDecryptStream(options.keys), new Tee(test.process.stdin, toc.input)),
                test.done,
                toc.done,
            ]);
        }
        catch (error) {
            source.destroy();
            const cause = await firstOwnFailure([test, toc.feeder], error);
            test.kill();
            toc.kill();
            throw cause;
        }
        checkHash(hasher, options, key);
        return { level: 'readable', dumpBytes: testedBytes(test.stderr()), tocEntries: toc.entries() };
    }
    finally {
        meter.stop();
    }
}
/**
 * A zstd that stopped on damaged data (or was killed, say by the kernel's OOM killer)
 * breaks the pipes around it, and pg_restore then fails on a short input: the zstd's own
 * error says why, so it wins. A zstd that died of a closed pipe (SIGPIPE) or is still
 * reading says nothing.
 */
async function firstOwnFailure(children, error) {
    await Promise.race([Promise.allSettled(children.map((c) => c.done)), (0,external_node_timers_promises_.setTimeout)(200)]);
    const ended = children.filter(({ process: p }) => (p.exitCode !== null || p.signalCode !== null) && p.signalCode !== 'SIGPIPE');
    return preferChildError(error, ended);
}
function checkHash(hasher, expected, key) {
    const digest = hasher.digest();
    if (hasher.bytes !== expected.sizeBytes || digest !== expected.sha256) {
        throw new src_errors/* LifeboatError */.H3('integrity', `The stored archive ${key} does not match what was written: ${hasher.bytes} bytes with SHA-256 ${digest}, expected ${expected.sizeBytes} bytes with ${expected.sha256}.`, {
            hint: 'The store lost or altered bytes. Nothing was marked verified; check the store and take a new backup.',
        });
    }
}
function sink() {
    return new external_node_stream_.Writable({ write: (_chunk, _enc, cb) => cb() });
}
/**
 * zstd → `pg_restore --list`, joined by a pipe between the two processes. pg_restore
 * exits once it has read the table of contents; the zstd feeding it then dies of the
 * closed pipe, which is expected and says nothing about the archive (the test does).
 */
function startTocListing(tool) {
    const list = startChild(tool.path, ['--list'], {
        label: `pg_restore ${tool.version} --list`,
        code: 'integrity',
        stdio: ['pipe', 'pipe', 'pipe'],
        hint: 'The archive decrypted and decompressed but is not a pg_dump custom-format archive this pg_restore can read.',
    });
    const feeder = startDecompressor(list.process.stdin);
    // The feeder holds the pipe now; ours would keep pg_restore from seeing the end of its input.
    list.process.stdin.destroy();
    let listing = '';
    list.process.stdout.setEncoding('utf8');
    list.process.stdout.on('data', (text) => (listing += text));
    const input = feeder.process.stdin;
    input.on('error', () => undefined); // EPIPE once the feeder is gone: see above.
    return {
        input,
        feeder,
        done: list.done,
        kill() {
            list.kill();
            feeder.kill();
        },
        entries() {
            const lines = listing.split('\n').filter((l) => l.trim() && !l.startsWith(';'));
            if (lines.length === 0) {
                throw new src_errors/* LifeboatError */.H3('integrity', 'The archive has an empty table of contents.', {
                    hint: 'pg_dump produced no objects; check the database and the role used for the backup.',
                });
            }
            return lines.length;
        },
    };
}
/**
 * Writes every chunk to the first stream and, while it stays open, to the second; waits
 * for both to take it, so the slower one sets the pace and memory stays bounded.
 */
class Tee extends external_node_stream_.Writable {
    first;
    second;
    constructor(first, second) {
        super();
        this.first = first;
        this.second = second;
        // A reader that stopped breaks the pipe: the whole tee fails, and the caller says why.
        first.on('error', (error) => this.destroy(error));
        const drop = () => (this.second = undefined);
        second.once('error', drop);
        second.once('close', drop);
    }
    _write(chunk, _encoding, callback) {
        let pending = 1;
        const settle = () => {
            if (--pending === 0)
                callback();
        };
        for (const target of [this.first, this.second]) {
            if (!target || target.destroyed)
                continue;
            pending++;
            if (target.write(chunk)) {
                settle();
                continue;
            }
            const resume = () => {
                target.off('drain', resume);
                target.off('close', resume);
                settle();
            };
            target.on('drain', resume);
            target.on('close', resume);
        }
        settle();
    }
    _final(callback) {
        this.first.end();
        if (this.second && !this.second.destroyed)
            this.second.end();
        callback();
    }
}

;// CONCATENATED MODULE: ./src/archive/write.ts








/**
 * pg_dump → zstd → age → SHA-256 → store, streamed end to end: memory stays flat and no
 * plaintext touches the disk. pg_dump's stdout feeds zstd directly (no copy through
 * Node); the store sees the end of the stream only after both processes exited cleanly,
 * so a killed pg_dump can never leave a complete-looking archive behind.
 */
async function writeArchive(options) {
    const { dump, store, key, keys, log } = options;
    const stdout = dump.process.stdout;
    if (!stdout)
        throw new Error('pg_dump was started without a stdout pipe');
    const zstd = startCompressor(stdout);
    // zstd holds its own copy of the pipe now; ours would keep pg_dump's 'close' from firing.
    stdout.destroy();
    const hasher = new HashCounter();
    const meter = new ProgressMeter(log, 'Backing up (compressed, encrypted)');
    const body = new external_node_stream_.PassThrough();
    const children = () => Promise.all([dump.done, zstd.done]).then(() => undefined);
    const flowing = (0,promises_.pipeline)(zstd.process.stdout, new EndGate(children), createEncryptStream(keys), hasher, meter, body);
    const stored = store.put(key, body);
    try {
        await Promise.all([flowing, stored, children()]);
    }
    catch (error) {
        const alreadyExited = [dump, zstd].filter((c) => c.process.exitCode !== null || c.process.signalCode !== null);
        dump.kill();
        zstd.kill();
        body.destroy();
        await flowing.catch(() => undefined);
        // A store that failed says why (a full disk, a refused upload); the broken pipe it caused upstream does not.
        const storeError = await stored.then(() => undefined, (e) => e);
        // A store may have finished just before a child's failure surfaced: never leave it.
        await store.delete(key).catch(() => undefined);
        throw await preferChildError((0,src_errors/* isLifeboatError */.rx)(storeError) ? storeError : error, alreadyExited);
    }
    finally {
        meter.stop();
    }
    meter.report();
    return { sizeBytes: hasher.bytes, sha256: hasher.digest() };
}

// EXTERNAL MODULE: ./src/interrupt.ts
var interrupt = __nccwpck_require__(8476);
// EXTERNAL MODULE: ./node_modules/pg/lib/index.js
var lib = __nccwpck_require__(3273);
;// CONCATENATED MODULE: ./node_modules/pg/esm/index.mjs
// ESM wrapper for pg


// Re-export all the properties
const Client = lib.Client
const Pool = lib.Pool
const Connection = lib.Connection
const types = lib.types
const Query = lib.Query
const DatabaseError = lib.DatabaseError
const escapeIdentifier = lib.escapeIdentifier
const escapeLiteral = lib.escapeLiteral
const Result = lib.Result
const TypeOverrides = lib.TypeOverrides

// Also export the defaults
const defaults = lib.defaults

// Re-export the default
/* harmony default export */ const esm = (lib);

;// CONCATENATED MODULE: ./src/postgres/dump.ts




/** How long pg_dump waits for a lock before failing rather than hanging behind a DDL. */
const LOCK_WAIT_TIMEOUT_MS = 120_000;
/** The lock wait in milliseconds; LIFEBOAT_LOCK_WAIT_TIMEOUT_MS overrides it (tests use seconds). */
function lockWaitTimeoutMs(env = process.env) {
    const override = Number(env.LIFEBOAT_LOCK_WAIT_TIMEOUT_MS);
    return Number.isInteger(override) && override > 0 ? override : LOCK_WAIT_TIMEOUT_MS;
}
async function openSnapshotSession(client, log) {
    const begin = async () => {
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        // The catalog snapshot reads every table too: behind a DDL lock it must give up as pg_dump does.
        await client.query(`SET LOCAL lock_timeout = ${lockWaitTimeoutMs()}`);
    };
    await begin();
    let snapshotId;
    try {
        const { rows } = await client.query('SELECT pg_export_snapshot() AS id');
        snapshotId = String(rows[0]?.id);
    }
    catch (error) {
        // Standbys and some poolers cannot export snapshots: fall back to a snapshot of our own.
        await client.query('ROLLBACK');
        await begin();
        log.warning(`The server cannot export a snapshot (${error.message}); the catalog snapshot is taken immediately before the dump instead.`);
    }
    return {
        client,
        snapshotId,
        close: async () => {
            await client.query('COMMIT').catch(() => undefined);
        },
    };
}
function connect(target) {
    const client = new esm.Client(pgClientConfig(target));
    // An idle-connection error after a failure must not crash the process; queries report their own.
    client.on('error', () => undefined);
    return client;
}
function pgDumpArgs(snapshotId) {
    const args = [
        '--format=custom',
        // Compression happens downstream in zstd: multi-threaded and far faster than pg_dump's zlib.
        '--compress=0',
        '--no-password',
        `--lock-wait-timeout=${lockWaitTimeoutMs()}`,
    ];
    if (snapshotId)
        args.push(`--snapshot=${snapshotId}`);
    // Never --enable-row-security: with a role lacking BYPASSRLS it dumps zero rows and exits 0.
    return args;
}
function startPgDump(tool, target, snapshotId, mask) {
    return startChild(tool.path, pgDumpArgs(snapshotId), {
        label: `pg_dump ${tool.version}`,
        code: 'dump',
        env: libpqEnv(target),
        stdio: ['ignore', 'pipe', 'pipe'],
        mask,
        hint: 'Nothing was stored. Fix the cause above and run the backup again.',
    });
}
/** Reclassifies a pg_dump failure whose stderr shows a known cause. */
function explainDumpFailure(error) {
    const lockHint = `A long-running transaction or migration holds an exclusive lock. Lifeboat waits at most ${lockWaitTimeoutMs() / 1000}s; run the backup when it has finished.`;
    // lock_not_available: the catalog snapshot's own read gave up behind the lock.
    if (error?.code === '55P03') {
        return new src_errors/* LifeboatError */.H3('lock', `Gave up waiting for a lock while reading the catalog: ${error.message}`, {
            hint: lockHint,
            cause: error,
        });
    }
    if (!(error instanceof src_errors/* LifeboatError */.H3) || error.code !== 'dump')
        return error;
    // pg_dump bounds its LOCK TABLE with statement_timeout, so the server says "statement timeout".
    if (/could not obtain lock|lock timeout|statement timeout[\s\S]*LOCK TABLE/i.test(error.message)) {
        return new src_errors/* LifeboatError */.H3('lock', `pg_dump gave up waiting for a lock: ${error.message}`, {
            hint: lockHint,
        });
    }
    if (/row-level security|row security/i.test(error.message)) {
        return new src_errors/* LifeboatError */.H3('permission', error.message, {
            hint: 'Use a role with BYPASSRLS (Supabase: the postgres role) so every row is dumped.',
        });
    }
    if (/server version|aborting because of server version mismatch/i.test(error.message)) {
        return new src_errors/* LifeboatError */.H3('tools', error.message, {
            hint: 'Install a pg_dump at least as new as the server, or set pg-bin-dir.',
        });
    }
    return error;
}

;// CONCATENATED MODULE: external "node:dns/promises"
const external_node_dns_promises_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:dns/promises");
;// CONCATENATED MODULE: ./src/postgres/diagnose.ts



const SESSION_POOLER_HINT = 'Use the Supabase session pooler URL (Project Settings → Database → Connection string → Session pooler, port 5432 on the *.pooler.supabase.com host): it is reachable over IPv4 and works with pg_dump.';
/**
 * Turns a connection failure into an error that says what is wrong and how to fix it.
 * The message names host, port and database, never the password.
 */
async function diagnoseConnectionError(error, target, role) {
    const where = describeTarget(target);
    const err = error;
    const code = err?.code ?? '';
    const text = err?.message ?? String(error);
    if (code === '28P01' || /password authentication failed/i.test(text)) {
        return new src_errors/* LifeboatError */.H3('auth', `Password authentication failed for user "${target.user}" at ${where}.`, {
            hint: `Check the password in the ${role} secret; for Supabase the user is "postgres.<project-ref>" on the pooler.`,
            cause: error,
        });
    }
    if (code === '3D000') {
        return new src_errors/* LifeboatError */.H3('connection', `Database "${target.database}" does not exist at ${where}.`, {
            hint: `Check the database name at the end of the ${role} URL.`,
            cause: error,
        });
    }
    if (code === '28000' || /no pg_hba.conf entry/i.test(text)) {
        return new src_errors/* LifeboatError */.H3('auth', `The server at ${where} refused the connection for user "${target.user}".`, {
            hint: 'The server does not allow this user from this address (pg_hba.conf), or requires SSL: add `?sslmode=require`.',
            cause: error,
        });
    }
    const ipv6Only = await resolvesOnlyToIpv6(target.host);
    if (ipv6Only && /ENETUNREACH|EHOSTUNREACH|EADDRNOTAVAIL|ETIMEDOUT|timeout/i.test(`${code} ${text}`)) {
        return new src_errors/* LifeboatError */.H3('ipv6', `Cannot reach ${where}: the host resolves only to IPv6 addresses and this machine has no IPv6 route (GitHub-hosted runners have none).`, { hint: SESSION_POOLER_HINT, cause: error });
    }
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
        return new src_errors/* LifeboatError */.H3('connection', `Cannot resolve the host name in the ${role} URL (${where}).`, {
            hint: 'Check the host name; for Supabase copy the connection string from the dashboard.',
            cause: error,
        });
    }
    if (/ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|timeout|terminated unexpectedly/i.test(`${code} ${text}`)) {
        return new src_errors/* LifeboatError */.H3('connection', `Cannot connect to ${where} (${code || firstLine(text)}).`, {
            hint: 'Check that the server is running and reachable from this machine (host, port, firewall, allowed IPs).',
            cause: error,
        });
    }
    return new src_errors/* LifeboatError */.H3('connection', `Cannot connect to ${where}: ${firstLine(text)}`, {
        hint: `Check the ${role} URL.`,
        cause: error,
    });
}
function transactionPoolerError(target) {
    return new src_errors/* LifeboatError */.H3('pooler', `${describeTarget(target)} looks like a transaction-mode pooler (port 6543), which breaks pg_dump and pg_restore (they need session state: snapshots, SET, prepared statements).`, { hint: SESSION_POOLER_HINT });
}
async function resolvesOnlyToIpv6(host) {
    if (host.includes(':'))
        return true;
    try {
        const addresses = await (0,external_node_dns_promises_namespaceObject.lookup)(host, { all: true });
        return addresses.length > 0 && addresses.every((a) => a.family === 6);
    }
    catch {
        return false;
    }
}
function firstLine(text) {
    return text.split('\n')[0] ?? text;
}

;// CONCATENATED MODULE: ./src/postgres/session.ts





/** Connects, turning every failure into an error that says what to fix. */
async function openClient(target, role) {
    if (isTransactionPooler(target))
        throw transactionPoolerError(target);
    const client = connect(target);
    try {
        await client.connect();
        const { rows } = await client.query(Q.server);
        const row = rows[0];
        return {
            client,
            server: {
                version: String(row.version).split(' ')[0] ?? '',
                major: Math.floor(Number(row.num) / 10000),
                database: row.database,
            },
        };
    }
    catch (error) {
        await client.end().catch(() => undefined);
        throw await diagnoseConnectionError(error, target, role);
    }
}
/**
 * Refuses to dump when the role cannot read every row: without BYPASSRLS, a table with
 * row-level security would make pg_dump fail halfway (or, with --enable-row-security,
 * silently dump nothing).
 */
async function checkCanReadEverything(client, target) {
    const { rows } = await client.query(Q.readiness);
    if (rows.length === 0)
        return;
    const list = (filter) => rows
        .filter(filter)
        .map((r) => `${r.schema}.${r.name}`)
        .slice(0, 20)
        .join(', ');
    const rls = list((r) => Boolean(r.rls_blocks));
    const denied = list((r) => Boolean(r.no_select));
    const parts = [
        rls && `row-level security hides rows of ${rls} from role "${target.user}" (it lacks BYPASSRLS)`,
        denied && `role "${target.user}" may not SELECT from ${denied}`,
    ].filter(Boolean);
    throw new src_errors/* LifeboatError */.H3('permission', `Cannot back up ${describeTarget(target)} completely: ${parts.join('; ')}.`, {
        hint: 'Use a role that can read every row: a superuser or a role with BYPASSRLS and SELECT on every table (on Supabase, the postgres user). Lifeboat never dumps with row security on, which would silently drop rows.',
    });
}

// EXTERNAL MODULE: external "node:fs/promises"
var external_node_fs_promises_ = __nccwpck_require__(1455);
// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __nccwpck_require__(3024);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __nccwpck_require__(6760);
var external_node_path_default = /*#__PURE__*/__nccwpck_require__.n(external_node_path_);
// EXTERNAL MODULE: external "node:util"
var external_node_util_ = __nccwpck_require__(7975);
;// CONCATENATED MODULE: ./src/postgres/tools.ts






const run = (0,external_node_util_.promisify)(external_node_child_process_.execFile);
function createToolFinder(options = {}) {
    const cache = new Map();
    const finder = {
        candidates(name) {
            let found = cache.get(name);
            if (!found) {
                found = discover(name, options.binDir, options.env ?? process.env);
                cache.set(name, found);
            }
            return found;
        },
        async forServer(name, serverMajor, serverVersion) {
            const all = await finder.candidates(name);
            if (options.binDir) {
                const own = all.filter((t) => external_node_path_default().dirname(t.path) === external_node_path_default().resolve(options.binDir));
                const fit = own.find((t) => t.major >= serverMajor);
                if (fit)
                    return fit;
                if (own.length === 0) {
                    throw new src_errors/* LifeboatError */.H3('tools', `Input \`pg-bin-dir\` has no runnable ${name} (${options.binDir}).`, {
                        hint: `Point pg-bin-dir at the bin directory of a PostgreSQL ${serverMajor} (or newer) client installation.`,
                    });
                }
            }
            const fitting = all.filter((t) => t.major >= serverMajor).sort((a, b) => a.major - b.major);
            const chosen = fitting.find((t) => t.major === serverMajor) ?? fitting[0];
            if (chosen)
                return chosen;
            throw tooOld(name, serverMajor, serverVersion, all);
        },
    };
    return finder;
}
function tooOld(name, serverMajor, serverVersion, found) {
    const list = found.length
        ? found.map((t) => `${t.version} (${t.path})`).join(', ')
        : 'none on PATH, in /usr/lib/postgresql/*/bin or in pg-bin-dir';
    return new src_errors/* LifeboatError */.H3('tools', `The server runs PostgreSQL ${serverVersion}, but no ${name} of major version ${serverMajor} or newer was found. Found: ${list}.`, {
        hint: `Install the PostgreSQL ${serverMajor} client. On Ubuntu/Debian (GitHub runners): ` +
            `sudo apt-get install -y postgresql-common && sudo /usr/share/postgresql-common/pgdg/apt.postgresql.org.sh -y && sudo apt-get install -y postgresql-client-${serverMajor}. ` +
            `On macOS: brew install postgresql@${serverMajor}. Or set pg-bin-dir to a directory holding ${name} ${serverMajor}.`,
    });
}
async function discover(name, binDir, env) {
    const dirs = new Set();
    if (binDir)
        dirs.add(external_node_path_default().resolve(binDir));
    for (const dir of (env.PATH ?? '').split((external_node_path_default()).delimiter))
        if (dir)
            dirs.add(external_node_path_default().resolve(dir));
    for (const root of ['/usr/lib/postgresql', '/usr/pgsql']) {
        const versions = await (0,external_node_fs_promises_.readdir)(root).catch(() => []);
        for (const v of versions)
            dirs.add(external_node_path_default().join(root, v, 'bin'));
    }
    dirs.add('/usr/local/pgsql/bin');
    for (const brew of ['/opt/homebrew/opt', '/usr/local/opt']) {
        const entries = await (0,external_node_fs_promises_.readdir)(brew).catch(() => []);
        for (const e of entries)
            if (/^(libpq|postgresql(@\d+)?)$/.test(e))
                dirs.add(external_node_path_default().join(brew, e, 'bin'));
    }
    const seen = new Set();
    const tools = [];
    for (const dir of dirs) {
        const file = external_node_path_default().join(dir, name);
        if (!(await isExecutable(file)))
            continue;
        const version = await versionOf(file);
        if (!version || seen.has(`${version.version}|${file}`))
            continue;
        seen.add(`${version.version}|${file}`);
        tools.push({ name, path: file, ...version });
    }
    return tools.sort((a, b) => b.major - a.major);
}
async function isExecutable(file) {
    try {
        await (0,external_node_fs_promises_.access)(file, external_node_fs_.constants.X_OK);
        return true;
    }
    catch {
        return false;
    }
}
/** `pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)` → { major: 15, version: '15.18' } */
function parseToolVersion(output) {
    const match = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(output);
    if (!match)
        return undefined;
    const major = Number(match[1]);
    return { major, version: match[2] ? `${major}.${match[2]}` : `${major}` };
}
async function versionOf(file) {
    try {
        const { stdout } = await run(file, ['--version'], { timeout: 10_000 });
        return parseToolVersion(stdout);
    }
    catch {
        return undefined;
    }
}

;// CONCATENATED MODULE: ./src/report/backup-summary.ts

/** The job summary of a backup: what was taken, how well it was proven, how to restore it by hand. */
function renderBackupSummary(report) {
    const m = report.manifest;
    const seconds = Math.max(report.dumpSeconds, 0.001);
    const dump = m.archive.dumpBytes;
    const rows = [
        ['Backup id', `\`${m.backupId}\``],
        ['Set', `\`${m.name}\` in ${report.store}`],
        [
            'Database',
            `${report.database} (PostgreSQL ${m.source.serverVersion}, pg_dump ${m.source.pgDumpVersion})`,
        ],
        [
            'Size',
            dump == null
                ? formatBytes(m.archive.sizeBytes)
                : `${formatBytes(dump)} → ${formatBytes(m.archive.sizeBytes)} (${ratio(dump, m.archive.sizeBytes)})`,
        ],
        [
            'Duration',
            `${formatDuration(report.dumpSeconds)} dump + ${formatDuration(report.verifySeconds)} read-back`,
        ],
        ['Throughput', `${formatBytes((dump ?? m.archive.sizeBytes) / seconds)}/s`],
        ['Verified', levelText(m.verification.level)],
        ['SHA-256', `\`${m.archive.sha256}\``],
        ['Latest migration', m.migration?.latestVersion ? `\`${m.migration.latestVersion}\`` : 'none recorded'],
    ];
    return [
        `### Lifeboat backup \`${m.backupId}\``,
        '',
        '| | |',
        '| --- | --- |',
        ...rows.map(([k, v]) => `| ${k} | ${v} |`),
        '',
        '<details><summary>Restore by hand</summary>',
        '',
        '```sh',
        ...manualRestore(m.archive.key),
        '```',
        '</details>',
        '',
    ].join('\n');
}
function manualRestore(key) {
    const file = key.split('/').pop() ?? key;
    return [
        `# fetch ${key} from the store, then:`,
        `age -d -i key.txt ${file} | zstd -d > backup.dump`,
        'pg_restore --list backup.dump | head            # look inside',
        'createdb restored && pg_restore --exit-on-error -d restored backup.dump',
    ];
}
function levelText(level) {
    switch (level) {
        case 'readable':
            return '**readable**: stored bytes match, every chunk decrypted and authenticated, decompressed to the end, table of contents parsed';
        case 'restored':
            return '**restored**: a drill restored it and its catalog matched';
        default:
            return '**stored**: stored bytes match the checksum (pass an identity to prove it decrypts)';
    }
}
function ratio(before, after) {
    return after > 0 ? `${(before / after).toFixed(1)}×` : '–';
}

// EXTERNAL MODULE: external "node:url"
var external_node_url_ = __nccwpck_require__(3136);
// EXTERNAL MODULE: ./src/tempfiles.ts
var tempfiles = __nccwpck_require__(3646);
;// CONCATENATED MODULE: ./src/stores/local.ts








/**
 * A directory: `<dir>/<name>/<backup-id>.dump.zst.age` and `.manifest.json`. Each object
 * is written to a hidden temp file, flushed to disk, then moved into place in one step,
 * so a reader sees a whole object or none.
 */
class LocalStore {
    root;
    kind = 'local';
    location;
    constructor(root) {
        this.root = root;
        this.location = root;
    }
    async put(key, body, options = {}) {
        const final = this.pathOf(key);
        const dir = external_node_path_default().dirname(final);
        await (0,external_node_fs_promises_.mkdir)(dir, { recursive: true }).catch((error) => {
            throw unwritable(this.root, error);
        });
        const temp = external_node_path_default().join(dir, `.${external_node_path_default().basename(final)}.${(0,external_node_crypto_.randomBytes)(4).toString('hex')}.tmp`);
        // A signal skips every finally below: the half-written object must still go.
        const forget = (0,tempfiles/* removeOnExit */.o$)(temp);
        try {
            await (0,promises_.pipeline)(body, (0,external_node_fs_.createWriteStream)(temp, { flags: 'wx', mode: 0o600 }));
            const handle = await (0,external_node_fs_promises_.open)(temp, 'r');
            await handle.sync().finally(() => handle.close());
            if (options.overwrite) {
                await (0,external_node_fs_promises_.rename)(temp, final);
            }
            else {
                // link() fails when the target exists: an atomic "create, never clobber".
                await (0,external_node_fs_promises_.link)(temp, final).catch((error) => {
                    if (error.code === 'EEXIST') {
                        throw new src_errors/* LifeboatError */.H3('store', `The store already holds ${key}; refusing to overwrite it.`, {
                            hint: 'Backup ids never repeat; this means two writers chose the same key. Run the backup again.',
                        });
                    }
                    throw error;
                });
                await (0,external_node_fs_promises_.unlink)(temp);
            }
        }
        catch (error) {
            body.destroy();
            await (0,external_node_fs_promises_.rm)(temp, { force: true });
            if (error instanceof src_errors/* LifeboatError */.H3)
                throw error;
            const code = error.code;
            if (code === 'EACCES' || code === 'EROFS' || code === 'EPERM')
                throw unwritable(this.root, error);
            if (code === 'ENOSPC') {
                throw new src_errors/* LifeboatError */.H3('disk', `The store ${this.root} ran out of space while writing ${key}.`, {
                    hint: 'Free space or use another store; nothing was kept.',
                    cause: error,
                });
            }
            throw error;
        }
        finally {
            forget();
        }
    }
    async get(key) {
        const file = this.pathOf(key);
        const handle = await (0,external_node_fs_promises_.open)(file, 'r').catch((error) => {
            if (error.code === 'ENOENT') {
                throw new src_errors/* LifeboatError */.H3('not-found', `The store ${this.root} has no ${key}.`, {
                    hint: 'Check the store, name and backup-id inputs; `lifeboat list` shows what the store holds.',
                });
            }
            throw new src_errors/* LifeboatError */.H3('store', `Cannot read ${key} from ${this.root}: ${error.message}`, {
                cause: error,
            });
        });
        // 1 MiB reads instead of 64 KiB: a sixteenth of the trips through the hash and decrypt
        // streams, which made the read-back about a quarter faster (npm run bench).
        return (0,external_node_fs_.createReadStream)('', { fd: handle, highWaterMark: 1024 * 1024 });
    }
    async list(prefix) {
        const keys = [];
        const walk = async (dir, rel) => {
            const entries = await (0,external_node_fs_promises_.readdir)(dir, { withFileTypes: true }).catch((error) => {
                if (error.code === 'ENOENT')
                    return [];
                throw new src_errors/* LifeboatError */.H3('store', `Cannot list ${dir}: ${error.message}`, { cause: error });
            });
            for (const entry of entries) {
                if (entry.name.startsWith('.'))
                    continue; // temp files in flight
                const key = rel ? `${rel}/${entry.name}` : entry.name;
                if (entry.isDirectory())
                    await walk(external_node_path_default().join(dir, entry.name), key);
                else if (key.startsWith(prefix))
                    keys.push(key);
            }
        };
        const top = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
        await walk(top ? this.pathOf(top) : this.root, top);
        return keys;
    }
    async exists(key) {
        try {
            return (await (0,external_node_fs_promises_.stat)(this.pathOf(key))).isFile();
        }
        catch (error) {
            const code = error.code;
            if (code === 'ENOENT' || code === 'ENOTDIR')
                return false;
            const message = `Cannot check for ${key} in ${this.root}: ${error.message}`;
            throw new src_errors/* LifeboatError */.H3('store', message, { cause: error });
        }
    }
    async delete(key) {
        await (0,external_node_fs_promises_.rm)(this.pathOf(key), { force: true });
    }
    /** Fails fast, before any dump starts, when the directory cannot be written. */
    async checkWritable() {
        const probe = external_node_path_default().join(this.root, `.lifeboat-probe-${(0,external_node_crypto_.randomBytes)(4).toString('hex')}`);
        try {
            await (0,external_node_fs_promises_.mkdir)(this.root, { recursive: true });
            await (0,promises_.pipeline)((async function* () {
                yield Buffer.from('ok');
            })(), (0,external_node_fs_.createWriteStream)(probe, { flags: 'wx' }));
        }
        catch (error) {
            throw unwritable(this.root, error);
        }
        finally {
            await (0,external_node_fs_promises_.rm)(probe, { force: true }).catch(() => undefined);
        }
    }
    pathOf(key) {
        const parts = key.split('/');
        if (parts.some((p) => p === '' || p === '.' || p === '..')) {
            throw new src_errors/* LifeboatError */.H3('input', `Invalid store key "${key}".`, {
                hint: 'Names may not contain "..".',
            });
        }
        return external_node_path_default().join(this.root, ...parts);
    }
}
function localStoreFromSpec(spec) {
    const dir = spec.startsWith('file://') ? (0,external_node_url_.fileURLToPath)(spec) : spec;
    return new LocalStore(external_node_path_default().resolve(dir));
}
function unwritable(root, error) {
    const reason = error?.code ?? error?.message;
    return new src_errors/* LifeboatError */.H3('store', `The store directory ${root} is not writable (${reason}).`, {
        hint: 'Choose a directory this user can write to, or fix its permissions.',
        cause: error,
    });
}

;// CONCATENATED MODULE: ./src/version.ts
/** Kept equal to package.json's version by a test. */
const LIFEBOAT_VERSION = '0.1.0';

;// CONCATENATED MODULE: ./src/modes/backup.ts



















/**
 * Takes one backup set: dump, compress, encrypt and store the archive, read it back and
 * verify it, and only then write the manifest that makes it count.
 */
async function runBackup(settings, ctx) {
    const { log, store } = ctx;
    const started = Date.now();
    if (store instanceof LocalStore)
        await store.checkWritable();
    const where = describeTarget(settings.database);
    log.info(`Backing up ${where} into ${store.location} as set "${settings.name}".`);
    const { client, server } = await openClient(settings.database, 'database-url');
    let manifest;
    let catalog;
    let dumpSeconds;
    const backupId = (0,backup_id/* newBackupId */._H)(ctx.now);
    const key = (0,stores_store/* archiveKey */.q2)(settings.name, backupId);
    try {
        const tools = createToolFinder({ binDir: settings.pgBinDir });
        const pgDump = await tools.forServer('pg_dump', server.major, server.version);
        log.info(`Server PostgreSQL ${server.version}; using ${pgDump.path} (${pgDump.version}).`);
        await checkCanReadEverything(client, settings.database);
        const session = await openSnapshotSession(client, log);
        const inspect = () => inspectDatabase(client, {
            migrationsTable: settings.migrationsTable,
            fingerprints: settings.fingerprints,
        });
        // Without a shared snapshot the catalog is read first, so it never describes rows the dump lacks.
        const early = session.snapshotId ? undefined : await inspect();
        const dump = startPgDump(pgDump, settings.database, session.snapshotId, (text) => log.mask(text));
        // Until its manifest is written the archive counts for nothing: any way out before that,
        // a signal included, removes it rather than leave an orphan no retention ever sees.
        let committed = false;
        const discard = () => (committed ? Promise.resolve() : store.delete(key).catch(() => undefined));
        const release = (0,interrupt/* onInterrupt */.n)(discard);
        try {
            // With a shared snapshot the catalog is read while pg_dump streams.
            const [snapshot, written] = await Promise.all([
                (early ? Promise.resolve(early) : inspect()).catch((error) => {
                    dump.kill();
                    throw error;
                }),
                writeArchive({ dump, store, key, keys: encryptKeys(settings.keys), log }),
            ]);
            catalog = snapshot;
            dumpSeconds = (Date.now() - started) / 1000;
            log.info(`Stored ${key} (${written.sizeBytes} bytes, SHA-256 ${written.sha256}).`);
            const verifyStarted = Date.now();
            const pgRestore = await tools
                .forServer('pg_restore', pgDump.major, pgDump.version)
                .catch(() => undefined);
            const decrypt = decryptKeys(settings.keys);
            if (!decrypt)
                log.info('No identity or passphrase given: verifying the stored bytes only (level `stored`).');
            const check = await readBack({ store, key, ...written, keys: decrypt, pgRestore, log });
            const verifySeconds = (Date.now() - verifyStarted) / 1000;
            const now = new Date();
            manifest = {
                format: 'lifeboat-manifest',
                formatVersion: 1,
                backupId,
                name: settings.name,
                createdAt: new Date(started).toISOString(),
                completedAt: now.toISOString(),
                lifeboatVersion: LIFEBOAT_VERSION,
                source: { serverVersion: server.version, serverMajor: server.major, pgDumpVersion: pgDump.version },
                archive: {
                    key,
                    format: 'pg_dump-custom',
                    compression: 'zstd',
                    encryption: settings.keys.passphrase ? 'age-scrypt' : 'age-x25519',
                    sizeBytes: written.sizeBytes,
                    dumpBytes: check.dumpBytes,
                    sha256: written.sha256,
                    tocEntries: check.tocEntries,
                },
                verification: {
                    level: check.level,
                    checkedAt: now.toISOString(),
                    history: [{ level: check.level, at: now.toISOString(), by: 'backup' }],
                },
                migration: catalog.migration
                    ? { table: catalog.migration.table, latestVersion: catalog.migration.latestVersion }
                    : null,
                durationSeconds: (Date.now() - started) / 1000,
                catalog: (await encryptBytes(Buffer.from(JSON.stringify(catalog)), encryptKeys(settings.keys))).toString('base64'),
            };
            await store.put((0,stores_store/* manifestKey */.Rn)(settings.name, backupId), bufferStream(serializeManifest(manifest)));
            committed = true;
            log.info(`Backup ${backupId} verified at level "${check.level}".`);
            await ctx.reporter.summary(renderBackupSummary({ manifest, database: where, store: store.location, dumpSeconds, verifySeconds }));
        }
        catch (error) {
            dump.kill();
            await discard();
            throw explainDumpFailure(error);
        }
        finally {
            release();
            await session.close();
        }
    }
    finally {
        await client.end().catch(() => undefined);
    }
    ctx.reporter.output(Outputs.BackupId, manifest.backupId);
    ctx.reporter.output(Outputs.Sha256, manifest.archive.sha256);
    ctx.reporter.output(Outputs.SizeBytes, String(manifest.archive.sizeBytes));
    ctx.reporter.output(Outputs.Verified, manifest.verification.level);
    if (settings.keep)
        await applyRetention(store, settings.name, settings.keep, manifest.backupId, log);
    return { manifest, catalog };
}
function encryptKeys(keys) {
    if (keys.passphrase)
        return { passphrase: keys.passphrase };
    if (keys.recipients.length)
        return { recipients: keys.recipients };
    throw new src_errors/* LifeboatError */.H3('input', 'No encryption key: pass encryption-recipient or encryption-passphrase.');
}
function decryptKeys(keys) {
    if (keys.passphrase)
        return { passphrase: keys.passphrase };
    if (keys.identities.length)
        return { identities: keys.identities };
    return undefined;
}
function bufferStream(data) {
    return external_node_stream_.Readable.from([data]);
}

;// CONCATENATED MODULE: ./src/drill/checks.ts
function emptyComparison() {
    return { checks: [], compared: {} };
}
function count(out, kind, n = 1) {
    out.compared[kind] = (out.compared[kind] ?? 0) + n;
}
function checks_merge(into, from) {
    into.checks.push(...from.checks);
    for (const [kind, n] of Object.entries(from.compared))
        count(into, kind, n);
    return into;
}
function errorsOf(checks) {
    return checks.filter((c) => c.severity === 'error');
}
function warningsOf(checks) {
    return checks.filter((c) => c.severity === 'warning');
}

;// CONCATENATED MODULE: ./src/drill/archive-offsets.ts

/**
 * Writes the data offsets into a custom-format archive that pg_dump wrote to a pipe.
 *
 * pg_dump records where each table's data starts only when its output is seekable. Ours
 * streams through zstd and age, so every TOC entry says "position not set", and each
 * parallel pg_restore worker then reads the archive from the top to find its table: a
 * restore with --jobs runs several times slower than from a file pg_dump wrote itself.
 * One sequential pass finds every data block; the fixed-size offset fields are then
 * patched in place, which is exactly what pg_dump does when it can seek.
 *
 * The layout (pg_backup_archiver.c, pg_backup_custom.c): ints are a sign byte plus
 * `intSize` little-endian bytes; strings an int length (-1 for null) plus bytes; each TOC
 * entry ends with a flag byte (1 not set, 2 set, 3 no data) and `offSize` offset bytes;
 * data blocks are a type byte (1 data, 3 large objects), the dump id, then length-prefixed
 * chunks ending in a zero length. Unknown versions are left alone: the restore still works.
 */
const OFFSET_NOT_SET = 1;
const OFFSET_SET = 2;
const BLOCK_DATA = 1;
const BLOCK_BLOBS = 3;
const SUPPORTED = { min: 12, max: 16 }; // archive versions 1.12 (PostgreSQL 9.6) to 1.16 (17)
function addDataOffsets(file) {
    const fd = (0,external_node_fs_.openSync)(file, 'r+');
    try {
        const r = new Reader(fd);
        if (r.bytes(5).toString('latin1') !== 'PGDMP')
            return { patched: 0, reason: 'not a custom-format archive' };
        const major = r.byte();
        const minor = r.byte();
        r.byte(); // revision
        if (major !== 1 || minor < SUPPORTED.min || minor > SUPPORTED.max) {
            return { patched: 0, reason: `archive version 1.${minor} is not one this step knows` };
        }
        r.intSize = r.byte();
        const offSize = r.byte();
        if (r.byte() !== 1)
            return { patched: 0, reason: 'not a custom-format archive' };
        if (minor >= 15)
            r.byte();
        else
            r.int();
        for (let i = 0; i < 7; i++)
            r.int(); // creation time
        r.str(); // database name
        r.str(); // server version
        r.str(); // pg_dump version
        const unset = new Map(); // dump id → position of its offset flag
        const count = r.int();
        for (let i = 0; i < count; i++) {
            const id = r.int();
            r.int(); // had a data dumper
            for (let s = 0; s < 4; s++)
                r.str(); // table oid, oid, tag, desc
            r.int(); // section
            for (let s = 0; s < 5; s++)
                r.str(); // definition, drop, copy, namespace, tablespace
            if (minor >= 14)
                r.str(); // table access method
            if (minor >= 16)
                r.int(); // relkind
            r.str(); // owner
            r.str(); // "false": WITH OIDS
            while (r.str() !== null)
                ; // dependencies
            const flagAt = r.position();
            if (r.byte() === OFFSET_NOT_SET)
                unset.set(id, flagAt);
            r.skip(offSize);
        }
        if (unset.size === 0)
            return { patched: 0, reason: 'the archive already records its data offsets' };
        const found = new Map();
        for (;;) {
            const at = r.position();
            const type = r.byteOrEnd();
            if (type === undefined)
                break;
            const id = r.int();
            if (type !== BLOCK_DATA && type !== BLOCK_BLOBS)
                return { patched: 0, reason: `unknown block type ${type}` };
            found.set(id, at);
            if (type === BLOCK_DATA)
                r.skipChunks();
            else
                while (r.int() !== 0)
                    r.skipChunks(); // each large object: its oid, then chunks
        }
        let patched = 0;
        for (const [id, flagAt] of unset) {
            const at = found.get(id);
            if (at === undefined)
                continue;
            const field = Buffer.alloc(1 + offSize);
            field[0] = OFFSET_SET;
            let value = BigInt(at);
            for (let b = 0; b < offSize; b++, value >>= 8n)
                field[1 + b] = Number(value & 0xffn);
            (0,external_node_fs_.writeSync)(fd, field, 0, field.length, flagAt);
            patched++;
        }
        return { patched };
    }
    finally {
        (0,external_node_fs_.closeSync)(fd);
    }
}
/**
 * A sequential reader over a large buffer. Synchronous on purpose: a data section holds
 * one chunk per row, millions of them, and a promise per chunk would cost more than the
 * reading; nothing else runs while the drill indexes its archive.
 */
class Reader {
    fd;
    intSize = 4;
    buf = Buffer.allocUnsafe(4 * 1024 * 1024);
    start = 0; // file position of buf[0]
    len = 0;
    at = 0;
    constructor(fd) {
        this.fd = fd;
    }
    position() {
        return this.start + this.at;
    }
    byte() {
        const b = this.byteOrEnd();
        if (b === undefined)
            throw new Error('the archive ends early');
        return b;
    }
    byteOrEnd() {
        if (this.at >= this.len && !this.fill(1))
            return undefined;
        return this.buf[this.at++];
    }
    bytes(n) {
        if (this.at + n > this.len && !this.fill(n))
            throw new Error('the archive ends early');
        const out = Buffer.from(this.buf.subarray(this.at, this.at + n));
        this.at += n;
        return out;
    }
    int() {
        if (this.at + 1 + this.intSize > this.len && !this.fill(1 + this.intSize)) {
            throw new Error('the archive ends early');
        }
        const negative = this.buf[this.at++] !== 0;
        let value;
        if (this.intSize === 4) {
            // Every archive pg_dump writes today: one call instead of a loop, for millions of chunk lengths.
            value = this.buf.readUInt32LE(this.at);
            this.at += 4;
        }
        else {
            value = 0;
            for (let b = 0; b < this.intSize; b++)
                value += this.buf[this.at++] * 2 ** (8 * b);
        }
        return negative ? -value : value;
    }
    /** Skips a string and says whether it was null (the end of a dependency list). */
    str() {
        const length = this.int();
        if (length < 0)
            return null;
        this.skip(length);
        return '';
    }
    skip(n) {
        if (this.at + n <= this.len) {
            this.at += n;
            return;
        }
        // Past the buffer: start reading again at the new position.
        this.start = this.position() + n;
        this.len = 0;
        this.at = 0;
    }
    skipChunks() {
        for (let length = this.int(); length !== 0; length = this.int())
            this.skip(length);
    }
    /** Moves the unread rest to the front and reads more; false at the end of the file. */
    fill(need) {
        const rest = this.len - this.at;
        this.buf.copy(this.buf, 0, this.at, this.len);
        this.start += this.at;
        this.at = 0;
        this.len = rest;
        while (this.len < need) {
            const n = (0,external_node_fs_.readSync)(this.fd, this.buf, this.len, this.buf.length - this.len, this.start + this.len);
            if (n === 0)
                return false;
            this.len += n;
        }
        return true;
    }
}

;// CONCATENATED MODULE: ./src/drill/database.ts




/**
 * The drill database on the target server: created fresh from template0, checked empty,
 * given the database-level settings the backup recorded, dropped afterwards.
 */
function drillDatabaseName(backupId) {
    // A random tail, so a kept database from an earlier drill of the same backup never collides.
    const id = backupId
        .replace(/[^a-z0-9_]/gi, '_')
        .toLowerCase()
        .slice(0, 36);
    return `lifeboat_drill_${id}_${(0,external_node_crypto_.randomBytes)(3).toString('hex')}`;
}
async function createDrillDatabase(admin, name, target) {
    try {
        // template0: nothing a server's template1 may hold can leak into the drill.
        await admin.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE template0`);
    }
    catch (error) {
        const code = error.code;
        throw new src_errors/* LifeboatError */.H3(code === '42501' ? 'permission' : 'drill', `Cannot create the drill database on ${describeTarget(target)}: ${error.message}.`, {
            hint: 'The drill restores into a fresh database of a throwaway server; use a user that may create databases (the superuser of a `services: postgres` container).',
            cause: error,
        });
    }
}
/** Never restore into a database that already holds user tables: a drill must not touch real data. */
async function assertEmpty(client, name) {
    const { rows } = await client.query(`SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        AND n.nspname NOT LIKE 'pg\\_%'`);
    const n = Number(rows[0]?.n ?? 0);
    if (n > 0) {
        throw new src_errors/* LifeboatError */.H3('drill', `The drill database ${name} already holds ${n} tables; refusing to restore into it.`, {
            hint: 'Point target-url at a throwaway server whose template0 is pristine.',
        });
    }
}
// A read-only default would stop the restore itself; it is applied once the data is in.
const AFTER_RESTORE = new Set(['default_transaction_read_only', 'transaction_read_only']);
/**
 * Replays `ALTER DATABASE … SET` and `ALTER ROLE … IN DATABASE … SET`, which a custom-format
 * dump does not carry. Each value is set in the session first and stored `FROM CURRENT`, so
 * list values such as a search_path come back exactly as the server printed them.
 */
async function replaySettings(client, database, settings, phase, log) {
    let applied = 0;
    for (const { role, setting } of settings) {
        const at = setting.indexOf('=');
        const name = setting.slice(0, at);
        if ((phase === 'after') !== AFTER_RESTORE.has(name))
            continue;
        const where = role ? `ALTER ROLE ${quoteIdent(role)} IN DATABASE` : 'ALTER DATABASE';
        try {
            if (!/^[A-Za-z_][\w.]*$/.test(name))
                throw new Error('not a setting name');
            await client.query('BEGIN');
            await client.query('SELECT set_config($1, $2, true)', [name, setting.slice(at + 1)]);
            await client.query(`${where} ${quoteIdent(database)} SET ${name} FROM CURRENT`);
            await client.query('COMMIT');
            applied++;
        }
        catch (error) {
            await client.query('ROLLBACK').catch(() => undefined);
            log.warning(`Could not replay ${role ? `the setting for role ${role}` : 'the database setting'} ${setting}: ${error.message}`);
        }
    }
    return applied;
}
async function dropDrillDatabase(admin, name, serverMajor) {
    // Sessions still connected (pg_restore's workers, the drill's own client when a signal
    // cut it short) would block the drop: WITH (FORCE) ends them on PostgreSQL 13+, older
    // servers need them terminated first.
    if (serverMajor >= 13) {
        await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
        return;
    }
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}`);
}

;// CONCATENATED MODULE: ./src/drill/fetch.ts









/**
 * store → SHA-256 → age → zstd → file, in one pass. zstd writes the file itself, so the
 * decompressed bytes (the bulk) never pass through Node. The hash is checked against the
 * manifest before anything is restored; age has already authenticated every chunk.
 */
async function fetchDump(options) {
    const { manifest, log } = options;
    const key = manifest.archive.key;
    const source = await options.store.get(key);
    const hasher = new HashCounter();
    const meter = new ProgressMeter(log, `Fetching ${key}`);
    const out = await (0,external_node_fs_promises_.open)(options.file, 'wx', 0o600);
    const zstd = startDecompressor(out.fd);
    try {
        await Promise.all([
            (0,promises_.pipeline)(source, hasher, meter, createDecryptStream(options.keys), zstd.process.stdin, {
                signal: options.signal,
            }),
            zstd.done,
        ]);
    }
    catch (error) {
        zstd.kill();
        source.destroy();
        if (/No space left on device/i.test(zstd.stderr()))
            throw outOfSpace(options.file, manifest, error);
        throw error;
    }
    finally {
        meter.stop();
        await out.close();
    }
    const sha256 = hasher.digest();
    if (hasher.bytes !== manifest.archive.sizeBytes || sha256 !== manifest.archive.sha256) {
        throw new src_errors/* LifeboatError */.H3('integrity', `The stored archive ${key} does not match its manifest: ${hasher.bytes} bytes with SHA-256 ${sha256}, the manifest says ${manifest.archive.sizeBytes} bytes with ${manifest.archive.sha256}.`, { hint: 'The store lost or altered bytes since the backup; use another backup and check the store.' });
    }
    const { size } = await (0,external_node_fs_promises_.stat)(options.file);
    log.info(`Fetched ${formatBytes(hasher.bytes)}; SHA-256 matches the manifest; dump is ${formatBytes(size)}.`);
    return { sizeBytes: hasher.bytes, sha256, dumpBytes: size };
}
function outOfSpace(file, manifest, cause) {
    const size = manifest.archive.dumpBytes === null ? '' : ` (${formatBytes(manifest.archive.dumpBytes)})`;
    return new src_errors/* LifeboatError */.H3('disk', `The temporary directory ${external_node_path_default().dirname(file)} ran out of space while decompressing the dump${size}.`, {
        hint: 'Free space on the runner or point RUNNER_TEMP at a larger disk: the uncompressed dump must fit there while pg_restore reads it.',
        cause,
    });
}
/** The catalog snapshot the backup recorded, decrypted from the manifest. */
async function readExpectedCatalog(manifest, keys) {
    const plain = await decryptBytes(Buffer.from(manifest.catalog, 'base64'), keys);
    try {
        return JSON.parse(plain.toString('utf8'));
    }
    catch (error) {
        throw new src_errors/* LifeboatError */.H3('integrity', `The catalog snapshot in the manifest of ${manifest.backupId} is not JSON.`, {
            hint: 'The manifest was written by another tool or damaged; use another backup.',
            cause: error,
        });
    }
}

;// CONCATENATED MODULE: ./src/drill/prepare.ts

/** What the fresh drill database and its server already have, for planning the preparation. */
async function readTargetState(client) {
    const { rows } = await client.query(`SELECT
      ARRAY(SELECT rolname FROM pg_roles)::text[] AS roles,
      ARRAY(SELECT nspname FROM pg_namespace)::text[] AS schemas,
      ARRAY(SELECT n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'auth')::text[] AS functions,
      ARRAY(SELECT name FROM pg_available_extensions)::text[] AS extensions,
      (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser`);
    const row = rows[0];
    const set = (v) => new Set(Array.isArray(v) ? v.map(String) : []);
    return {
        roles: set(row.roles),
        schemas: set(row.schemas),
        functions: set(row.functions),
        availableExtensions: set(row.extensions),
        superuser: Boolean(row.superuser),
    };
}
/** Runs the plan's statements, saying what each created, and names every skipped entry. */
async function applyPreparation(client, plan, target, log) {
    for (const step of plan.steps) {
        try {
            await client.query(step.sql);
        }
        catch (error) {
            throw new src_errors/* LifeboatError */.H3('drill', `Preparing the drill database failed creating ${step.creates}: ${error.message}.`, {
                hint: 'The target-url user needs to create roles and schemas on the throwaway server; use its superuser.',
                cause: error,
            });
        }
    }
    if (plan.roles.length)
        log.info(`Created roles the backup expects: ${plan.roles.join(', ')} (NOLOGIN).`);
    if (plan.schemas.length)
        log.info(`Created schemas: ${plan.schemas.join(', ')}.`);
    if (plan.functions.length)
        log.info(`Created Supabase stand-ins: ${plan.functions.join(', ')}.`);
    for (const s of plan.skipped)
        log.warning(`Skipped ${s.entry}: ${s.reason}.`);
    if (!target.superuser) {
        // Counting rows as a role that row-level security applies to would report rows as lost.
        log.warning('The target-url user is not a superuser: row counts of tables with row-level security may come out low. Use the superuser of the throwaway server.');
    }
    if (plan.missingRoles.length) {
        log.warning(`The backup references roles this server lacks: ${plan.missingRoles.join(', ')}. Profile \`${plan.profile}\` does not create them, so the restore will stop at the first object that names one.`);
    }
}

;// CONCATENATED MODULE: ./src/drill/progress.ts

/**
 * pg_restore says nothing until it is done; the size of the database it fills is the
 * honest measure of progress, read every few seconds on the idle admin connection.
 */
function watchRestore(admin, database, log, intervalMs = 5000) {
    const started = Date.now();
    let bytes = 0;
    let busy = false;
    const sample = async (final = false) => {
        if (busy && !final)
            return;
        busy = true;
        try {
            const { rows } = await admin.query('SELECT pg_database_size($1)::bigint AS size', [database]);
            bytes = Number(rows[0]?.size ?? bytes);
            const rate = bytes / Math.max((Date.now() - started) / 1000, 0.001);
            if (!final)
                log.progress(`Restoring: ${formatBytes(bytes)} in ${database} (${formatBytes(rate)}/s)`);
        }
        catch {
            // A sample missed is no reason to disturb the restore.
        }
        finally {
            busy = false;
        }
    };
    const timer = setInterval(() => void sample(), intervalMs);
    timer.unref();
    return {
        /** Stops sampling and reads the size once more: what the restore wrote in the end. */
        async stop() {
            clearInterval(timer);
            await sample(true);
            return bytes;
        },
    };
}

;// CONCATENATED MODULE: ./src/report/github-api.ts

class GitHubPermissionError extends src_errors/* LifeboatError */.H3 {
    permission;
    constructor(message, permission, cause) {
        super('permission', message, { hint: permissionHint(permission), cause });
        this.name = 'GitHubPermissionError';
        this.permission = permission;
    }
}
function permissionHint(permission) {
    const [scope, level] = permission.split(': ');
    const fork = scope === 'pull-requests'
        ? ' A workflow run for a pull request from a fork always gets a read-only token; use pull_request_target or skip the comment there.'
        : '';
    return `Grant it in the workflow: \`permissions:\` with \`${scope}: ${level}\` on the job (the default GITHUB_TOKEN is often read-only).${fork}`;
}
/**
 * The context for the repository a workflow runs in, or undefined when there is no token
 * or no repository to talk to (a local CLI run), so callers can skip GitHub reporting.
 */
function githubContextFromEnv(token, env = process.env) {
    const repository = env.GITHUB_REPOSITORY?.trim();
    if (!token || !repository)
        return undefined;
    const [owner, repo, ...rest] = repository.split('/');
    if (!owner || !repo || rest.length > 0) {
        throw new src_errors/* LifeboatError */.H3('input', `GITHUB_REPOSITORY must look like owner/repo, got "${repository}"`, {
            hint: 'Leave GITHUB_REPOSITORY as the runner sets it, or set it to owner/repo when running the CLI.',
        });
    }
    const apiUrl = (env.GITHUB_API_URL?.trim() || 'https://api.github.com').replace(/\/+$/, '');
    return { token, apiUrl, owner, repo };
}
const clients = new WeakMap();
// Loaded on first use: most runs (a backup into a local store, say) never call GitHub,
// and the client's modules add tens of megabytes to the process and to its start.
let loadOctokit;
// Reads and edits are safe to repeat; a create is not (a lost answer would make a duplicate).
const RETRIED_METHODS = new Set(['GET', 'PATCH']);
const RETRY_DELAYS_MS = [500, 2000];
/** One client per context, reused for every call. */
async function octokitFor(ctx) {
    let client = clients.get(ctx);
    if (!client) {
        loadOctokit ??= Promise.all(/* import() */[__nccwpck_require__.e(119), __nccwpck_require__.e(166)]).then(__nccwpck_require__.bind(__nccwpck_require__, 2785)).then((m) => m.getOctokit);
        client = (await loadOctokit)(ctx.token, { baseUrl: ctx.apiUrl, userAgent: 'lifeboat' });
        // @actions/github brings pagination but no retry plugin: ride out GitHub's brief 5xx bursts here.
        client.hook.wrap('request', async (request, options) => {
            for (let attempt = 0;; attempt++) {
                try {
                    return await request(options);
                }
                catch (error) {
                    const delay = RETRY_DELAYS_MS[attempt];
                    const status = statusOf(error);
                    const transient = status === undefined || status >= 500;
                    if (delay === undefined || !transient || !RETRIED_METHODS.has(options.method))
                        throw error;
                    await new Promise((resolve) => setTimeout(resolve, delay));
                }
            }
        });
        clients.set(ctx, client);
    }
    return client;
}
function statusOf(error) {
    const status = error?.status;
    return typeof status === 'number' ? status : undefined;
}
function messageOf(error) {
    const data = error?.response?.data;
    if (typeof data?.message === 'string')
        return data.message;
    return error instanceof Error ? error.message : String(error);
}
/**
 * Runs one API call and translates its failure: permission problems into
 * `GitHubPermissionError`, the rest into a `LifeboatError` that says what was being done.
 */
async function github_api_callGitHub(ctx, what, permission, call) {
    try {
        return await call(await octokitFor(ctx));
    }
    catch (error) {
        throw translate(ctx, what, permission, error);
    }
}
function translate(ctx, what, permission, error) {
    if (error instanceof src_errors/* LifeboatError */.H3)
        return error;
    const status = statusOf(error);
    const message = messageOf(error);
    const repo = `${ctx.owner}/${ctx.repo}`;
    // GitHub says "Resource not accessible by integration" (GITHUB_TOKEN, apps) or "... by personal access token".
    if (status === 403 && /not accessible|must have|permission/i.test(message)) {
        return new GitHubPermissionError(`Cannot ${what} in ${repo}: the token lacks ${permission} (${message})`, permission, error);
    }
    if (status === 401) {
        return new src_errors/* LifeboatError */.H3('auth', `Cannot ${what} in ${repo}: GitHub rejected the token (${message})`, {
            hint: 'Pass a valid token as github-token; the default is the workflow GITHUB_TOKEN.',
            cause: error,
        });
    }
    if (status === 404) {
        return new src_errors/* LifeboatError */.H3('not-found', `Cannot ${what} in ${repo}: GitHub answered 404 (${message})`, {
            hint: 'Check that GITHUB_REPOSITORY names the repository and that the token can see it.',
            cause: error,
        });
    }
    const why = status === undefined ? message : `HTTP ${status}: ${message}`;
    return new src_errors/* LifeboatError */.H3('connection', `Cannot ${what} in ${repo} (${why})`, {
        hint: 'GitHub may be having trouble or rate-limiting the token; re-run the job later.',
        cause: error,
    });
}

;// CONCATENATED MODULE: ./src/report/github-issues.ts
/**
 * The issue, comment and label calls the drill report needs, each one REST
 * operation (or one paginated listing) with its failure translated.
 */

function summarize(issue) {
    return {
        number: issue.number,
        title: issue.title,
        body: issue.body ?? '',
        state: issue.state === 'closed' ? 'closed' : 'open',
        url: issue.html_url,
        labels: issue.labels.map((l) => (typeof l === 'string' ? l : (l.name ?? ''))).filter(Boolean),
        createdAt: issue.created_at,
        closedAt: issue.closed_at,
    };
}
/** Every issue carrying `label`, newest first, across all pages; pull requests are left out. */
async function listIssuesByLabel(ctx, label, state) {
    const issues = await github_api_callGitHub(ctx, `list issues labelled ${label}`, 'issues: read', (octokit) => octokit.paginate(octokit.rest.issues.listForRepo, {
        owner: ctx.owner,
        repo: ctx.repo,
        labels: label,
        state,
        sort: 'created',
        direction: 'desc',
        per_page: 100,
    }));
    // The issues endpoint lists pull requests too; they are told apart by this field.
    return issues.filter((issue) => !issue.pull_request).map(summarize);
}
async function createIssue(ctx, issue) {
    const { data } = await github_api_callGitHub(ctx, 'open an issue', 'issues: write', (octokit) => octokit.rest.issues.create({ owner: ctx.owner, repo: ctx.repo, ...issue }));
    return summarize(data);
}
async function updateIssue(ctx, number, changes) {
    const { stateReason, ...rest } = changes;
    const { data } = await github_api_callGitHub(ctx, `update issue #${number}`, 'issues: write', (octokit) => octokit.rest.issues.update({
        owner: ctx.owner,
        repo: ctx.repo,
        issue_number: number,
        ...rest,
        ...(stateReason ? { state_reason: stateReason } : {}),
    }));
    return summarize(data);
}
async function addComment(ctx, number, body) {
    const { data } = await github_api_callGitHub(ctx, `comment on issue #${number}`, 'issues: write', (octokit) => octokit.rest.issues.createComment({ owner: ctx.owner, repo: ctx.repo, issue_number: number, body }));
    return { id: data.id, url: data.html_url };
}
/** Creates the labels the repository lacks; existing ones keep whatever colour their owners gave them. */
async function ensureLabels(ctx, labels) {
    const existing = await github_api_callGitHub(ctx, 'list labels', 'issues: read', (octokit) => octokit.paginate(octokit.rest.issues.listLabelsForRepo, {
        owner: ctx.owner,
        repo: ctx.repo,
        per_page: 100,
    }));
    // Label names are case-insensitive on GitHub.
    const have = new Set(existing.map((l) => l.name.toLowerCase()));
    for (const label of labels) {
        if (have.has(label.name.toLowerCase()))
            continue;
        await github_api_callGitHub(ctx, `create label ${label.name}`, 'issues: write', async (octokit) => {
            try {
                await octokit.rest.issues.createLabel({ owner: ctx.owner, repo: ctx.repo, ...label });
            }
            catch (error) {
                // Another job created it between our listing and now: that is what we wanted.
                if (!isAlreadyExists(error))
                    throw error;
            }
        });
    }
}
function isAlreadyExists(error) {
    const data = error ?? {};
    return data.status === 422 && (data.response?.data?.errors ?? []).some((e) => e.code === 'already_exists');
}

;// CONCATENATED MODULE: ./src/report/github-data.ts
/**
 * Machine-readable data hidden in an issue or comment body: an HTML comment
 * holding JSON, invisible when GitHub renders the markdown, read back by later
 * runs (the drill history lives in previous drill issues).
 */
/** Accepts the bare name (`lifeboat:drill-data`) or a whole marker comment (`<!-- lifeboat:gate -->`). */
function markerName(marker) {
    return marker
        .replace(/^\s*<!--/, '')
        .replace(/-->\s*$/, '')
        .trim();
}
function escapeRegExp(text) {
    return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
/**
 * `<!-- name {json} -->`. Inside JSON `<` and `>` only occur in strings, where the
 * `\u003c`/`\u003e` escapes mean the same; without a `>` nothing can end the
 * comment early (`-->`, `--!>`), whatever the values hold.
 */
function embedData(marker, data) {
    const json = JSON.stringify(data ?? null)
        .replace(/</g, '\\u003c')
        .replace(/>/g, '\\u003e');
    return `<!-- ${markerName(marker)} ${json} -->`;
}
/** The data embedded under `marker`, or undefined when the body has none or it does not parse. */
function extractData(marker, body) {
    if (!body)
        return undefined;
    const pattern = new RegExp(`<!--\\s*${escapeRegExp(markerName(marker))}\\s+([\\s\\S]*?)\\s*-->`);
    const match = pattern.exec(body);
    if (!match?.[1])
        return undefined;
    try {
        // The shape is the caller's to check: bodies can be edited by hand.
        return JSON.parse(match[1]);
    }
    catch {
        return undefined;
    }
}

;// CONCATENATED MODULE: ./src/report/github.ts
/**
 * Lifeboat's GitHub REST client: the sticky deploy-gate comment and pull request
 * facts here, issues and labels in github-issues.ts, the hidden data block in
 * github-data.ts, context and error translation in github-api.ts. Import from here.
 */




/**
 * Keeps one comment on an issue or pull request, found again by `marker` (a hidden HTML
 * comment): created the first time, edited in place afterwards, so re-runs never pile up.
 */
async function upsertStickyComment(ctx, issueNumber, marker, body) {
    const text = body.includes(marker) ? body : `${marker}\n${body}`;
    const comments = await github_api_callGitHub(ctx, `read the comments on #${issueNumber}`, 'pull-requests: read', (octokit) => octokit.paginate(octokit.rest.issues.listComments, {
        owner: ctx.owner,
        repo: ctx.repo,
        issue_number: issueNumber,
        per_page: 100,
    }));
    const existing = comments.find((c) => c.body?.includes(marker));
    if (existing?.body === text)
        return { url: existing.html_url, created: false };
    const url = await github_api_callGitHub(ctx, `comment on #${issueNumber}`, 'pull-requests: write', async (octokit) => {
        const target = { owner: ctx.owner, repo: ctx.repo, body: text };
        const { data } = existing
            ? await octokit.rest.issues.updateComment({ ...target, comment_id: existing.id })
            : await octokit.rest.issues.createComment({ ...target, issue_number: issueNumber });
        return data.html_url;
    });
    return { url, created: !existing };
}
async function getPullRequest(ctx, number) {
    const { data } = await callGitHub(ctx, `read pull request #${number}`, 'pull-requests: read', (octokit) => octokit.rest.pulls.get({ owner: ctx.owner, repo: ctx.repo, pull_number: number }));
    // The description calls head.repo required, but GitHub sends null once a fork is deleted.
    const head = data.head.repo ?? undefined;
    return {
        number: data.number,
        headRepo: head?.full_name,
        headSha: data.head.sha,
        fromFork: head === undefined || head.full_name.toLowerCase() !== data.base.repo.full_name.toLowerCase(),
    };
}

;// CONCATENATED MODULE: ./src/report/drill-summary.ts


/**
 * The job summary of a drill: the verdict, the objectives, each step with its duration,
 * a table of what was checked, and every difference by name. Pure; the issue body
 * reuses it with a longer list.
 */
const KINDS = [
    ['restore', 'Restore (pg_restore, stop on first error)'],
    ['table', 'Tables present, owners'],
    ['rows', 'Exact row counts'],
    ['content', 'Table contents (fingerprint)'],
    ['rls', 'RLS enabled / forced'],
    ['policy', 'Policies (command, roles, expressions)'],
    ['function', 'Functions (signature, body)'],
    ['trigger', 'Triggers'],
    ['view', 'Views and materialized views'],
    ['index', 'Indexes'],
    ['constraint', 'Constraints incl. foreign keys'],
    ['fk-orphans', 'Foreign keys without orphans'],
    ['sequence', 'Sequences'],
    ['sequence-max', 'Sequences ahead of their column'],
    ['extension', 'Extensions'],
    ['setting', 'Database settings'],
    ['schema', 'Schemas'],
    ['migration', 'Latest migration'],
    ['large-objects', 'Large objects'],
    ['verify-sql', 'verify-sql checks'],
    ['skipped', 'Skipped by the profile'],
];
function renderDrillSummary(report, options = {}) {
    const limit = options.listLimit ?? 50;
    const passed = report.status === 'passed';
    const out = [`### ${passed ? '✅' : '❌'} Lifeboat restore drill ${report.status}: \`${report.name}\``, ''];
    out.push(drill_summary_describe(report), '');
    out.push('| Objective | Measured | Target | |', '| --- | ---: | ---: | --- |');
    out.push(objective('RTO (start → verified)', report.rtoSeconds, report.rtoTargetSeconds));
    out.push(objective('RPO (backup age at start)', report.rpoSeconds, report.rpoTargetSeconds), '');
    if (report.failure) {
        out.push(`**Failed at “${report.failure.step}”:** ${report.failure.message}`);
        if (report.failure.hint)
            out.push('', `_Hint:_ ${report.failure.hint}`);
        out.push('');
    }
    out.push('#### Steps', '', '| Step | Duration | |', '| --- | ---: | --- |');
    for (const s of report.steps) {
        const mark = s.status === 'ok' ? '✅' : s.status === 'failed' ? '❌' : '⏭️ skipped';
        out.push(`| ${s.name} | ${s.status === 'skipped' ? '–' : seconds(s.seconds)} | ${mark} ${cell(s.detail ?? '')} |`);
    }
    out.push('', '#### Checks', '', '| Check | Compared | Result |', '| --- | ---: | --- |');
    for (const [kind, label] of KINDS) {
        const mine = report.checks.filter((c) => c.kind === kind);
        const compared = report.compared[kind];
        if (compared === undefined && mine.length === 0)
            continue;
        out.push(`| ${label} | ${compared ?? '–'} | ${verdict(mine)} |`);
    }
    out.push('');
    // A step's failure is shown above with its hint; listing it again would only repeat it.
    const failed = errorsOf(report.checks).filter((c) => c.message !== report.failure?.message);
    out.push(...list('Failed checks', failed, limit));
    out.push(...list('Warnings', warningsOf(report.checks), limit));
    return out.join('\n');
}
function drill_summary_describe(r) {
    const parts = [`Backup \`${r.backupId}\``];
    if (r.backup) {
        const size = r.backup.dumpBytes ? formatBytes(r.backup.dumpBytes) : formatBytes(r.backup.sizeBytes);
        parts.push(`(${size}, PostgreSQL ${r.backup.serverVersion}, completed ${r.backup.completedAt})`);
    }
    parts.push(`restored into ${r.target.server}${r.target.database ? `/${r.target.database}` : ''}`);
    if (r.target.serverVersion)
        parts.push(`(PostgreSQL ${r.target.serverVersion})`);
    if (r.profile.used)
        parts.push(`with profile \`${r.profile.used}\`${r.profile.reason ? ` (${r.profile.reason})` : ''}`);
    if (r.restore.pgRestore)
        parts.push(`using pg_restore ${r.restore.pgRestore} with ${r.restore.jobs} jobs`);
    const kept = r.target.kept && r.target.database ? ` The drill database \`${r.target.database}\` was kept.` : '';
    return `${parts.join(' ')}.${kept}`;
}
function objective(label, value, target) {
    const measured = value === null ? '–' : formatDuration(value);
    const goal = target === null ? 'none set' : formatDuration(target);
    const mark = value === null || target === null
        ? ''
        : value <= target
            ? '✅'
            : `❌ over by ${formatDuration(value - target)}`;
    return `| ${label} | ${measured} | ${goal} | ${mark} |`;
}
function verdict(checks) {
    const errors = errorsOf(checks).length;
    const warnings = warningsOf(checks).length;
    if (errors === 0 && warnings === 0)
        return '✅';
    const parts = [
        errors && `❌ ${errors} failed`,
        warnings && `⚠️ ${warnings} warning${warnings === 1 ? '' : 's'}`,
    ];
    return parts.filter(Boolean).join(', ');
}
function list(title, checks, limit) {
    if (checks.length === 0)
        return [];
    const lines = [`#### ${title} (${checks.length})`, ''];
    for (const c of checks.slice(0, limit)) {
        lines.push(`- ${cell(c.message)}${c.hint ? ` _${cell(c.hint)}_` : ''}`);
    }
    if (checks.length > limit)
        lines.push(`- … and ${checks.length - limit} more in the JSON report.`);
    lines.push('');
    return lines;
}
/** Table cells and list items must stay on one line, and a `|` would split the cell. */
function cell(text) {
    return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}
function seconds(value) {
    return value < 60 ? `${value.toFixed(1)}s` : formatDuration(value);
}

;// CONCATENATED MODULE: ./src/report/history.ts

/** Accepts what an issue body held only when it has the shape we wrote; bodies can be edited by hand. */
function asDrillRecord(data) {
    const d = data;
    if (!d || typeof d !== 'object')
        return undefined;
    const num = (v) => v === null || (typeof v === 'number' && Number.isFinite(v));
    if (typeof d.name !== 'string' || typeof d.backupId !== 'string' || typeof d.startedAt !== 'string')
        return undefined;
    if (d.status !== 'passed' && d.status !== 'failed')
        return undefined;
    if (!num(d.rtoSeconds) || !num(d.rpoSeconds) || !num(d.rtoTargetSeconds ?? null))
        return undefined;
    return {
        runId: typeof d.runId === 'string' ? d.runId : null,
        name: d.name,
        backupId: d.backupId,
        startedAt: d.startedAt,
        status: d.status,
        rtoSeconds: d.rtoSeconds ?? null,
        rpoSeconds: d.rpoSeconds ?? null,
        rtoTargetSeconds: d.rtoTargetSeconds ?? null,
    };
}
/** Newest first in the table; the chart runs left to right in time. */
function renderHistory(records, limit = 24) {
    const sorted = [...records].sort((a, b) => a.startedAt.localeCompare(b.startedAt)).slice(-limit);
    if (sorted.length === 0)
        return '_No drills recorded yet._';
    const rows = [...sorted].reverse().map((r) => {
        const issue = r.issue ? `[#${r.issue.number}](${r.issue.url})` : 'this issue';
        return `| ${r.startedAt.slice(0, 10)} | ${r.status === 'passed' ? '✅ passed' : '❌ failed'} | ${history_time(r.rtoSeconds)} | ${history_time(r.rpoSeconds)} | \`${r.backupId}\` | ${issue} |`;
    });
    const older = records.length > sorted.length ? `\n\n_${records.length - sorted.length} older drills not shown._` : '';
    const table = [
        '| Date | Result | RTO | RPO | Backup | Issue |',
        '| --- | --- | ---: | ---: | --- | --- |',
        ...rows,
    ];
    return `${table.join('\n')}${older}\n\n${renderRtoChart(sorted)}`;
}
/** A Mermaid `xychart-beta` of RTO per drill, with the target as a second line when one is set. */
function renderRtoChart(records) {
    const points = records.filter((r) => r.rtoSeconds !== null);
    if (points.length === 0)
        return '_No drill has reached a verified restore yet, so there is no RTO to chart._';
    const targets = points.map((r) => r.rtoTargetSeconds);
    const top = Math.max(...points.map((r) => r.rtoSeconds), ...targets.map((t) => t ?? 0));
    // Minutes read better once drills take longer than a few minutes.
    const [unit, divisor] = top >= 600 ? ['minutes', 60] : ['seconds', 1];
    const value = (s) => String(Math.round((s / divisor) * 10) / 10);
    const labels = uniqueLabels(points.map((r) => r.startedAt.slice(0, 10)));
    const lines = [
        '```mermaid',
        'xychart-beta',
        `  title "RTO per drill (${unit})"`,
        `  x-axis [${labels.map((l) => `"${l}"`).join(', ')}]`,
        `  y-axis "RTO (${unit})" 0 --> ${value(Math.max(top * 1.1, divisor))}`,
        `  bar [${points.map((r) => value(r.rtoSeconds)).join(', ')}]`,
    ];
    if (targets.every((t) => t !== null))
        lines.push(`  line [${targets.map((t) => value(t)).join(', ')}]`);
    lines.push('```');
    return lines.join('\n');
}
/** Two drills on one day would share an axis label; number the repeats. */
function uniqueLabels(labels) {
    const seen = new Map();
    return labels.map((label) => {
        const n = (seen.get(label) ?? 0) + 1;
        seen.set(label, n);
        return n === 1 ? label : `${label} (${n})`;
    });
}
function history_time(seconds) {
    if (seconds === null)
        return '–';
    return seconds < 60 ? `${seconds.toFixed(1)}s` : formatDuration(seconds);
}

;// CONCATENATED MODULE: ./src/report/drill-issue.ts




/**
 * One issue per drill run, found again through the hidden data block it carries:
 *  - a re-run of the same workflow run (same GITHUB_RUN_ID) updates its issue;
 *  - a passed drill comments on every other open drill issue of the set and closes it;
 *  - a failed drill stays open, labelled drill-failed, until a later drill passes.
 * The history table and RTO chart are rebuilt from those blocks every time.
 */
const LABELS = [
    { name: Labels.Drill, color: '1d76db', description: 'Lifeboat restore drill' },
    { name: Labels.DrillFailed, color: 'd73a4a', description: 'A Lifeboat restore drill failed' },
];
// GitHub refuses issue bodies over 65,536 characters.
const MAX_BODY = 60_000;
/** `mask` scrubs secrets from everything sent: an issue leaves by another door than the log. */
async function publishDrillIssue(gh, report, mask = (text) => text) {
    await ensureLabels(gh, LABELS);
    const previous = (await listIssuesByLabel(gh, Labels.Drill, 'all'))
        .map((issue) => ({ issue, record: asDrillRecord(extractData(Markers.DrillData, issue.body)) }))
        .filter((p) => p.record?.name === report.name);
    const record = drillRecord(report);
    const mine = record.runId ? previous.find((p) => p.record.runId === record.runId) : undefined;
    const history = [
        ...previous
            .filter((p) => p !== mine)
            .map((p) => ({ ...p.record, issue: { number: p.issue.number, url: p.issue.url } })),
        record,
    ];
    const body = mask(renderIssueBody(report, record, history));
    const title = mask(issueTitle(report));
    const failed = report.status === 'failed';
    let issue;
    if (mine) {
        // Keep whatever labels people added; only ours follow the result.
        const others = mine.issue.labels.filter((l) => l !== Labels.Drill && l !== Labels.DrillFailed);
        const labels = [Labels.Drill, ...(failed ? [Labels.DrillFailed] : []), ...others];
        issue = await updateIssue(gh, mine.issue.number, { title, body, labels });
    }
    else {
        issue = await createIssue(gh, {
            title,
            body,
            labels: [Labels.Drill, ...(failed ? [Labels.DrillFailed] : [])],
        });
    }
    const closed = [];
    if (!failed) {
        for (const p of previous) {
            if (p === mine || p.issue.state !== 'open')
                continue;
            const text = p.record.status === 'failed'
                ? `The restore drill passed again in #${issue.number} (${issue.url}). Closing this failure.`
                : `Superseded by the restore drill in #${issue.number} (${issue.url}).`;
            await addComment(gh, p.issue.number, mask(text));
            await updateIssue(gh, p.issue.number, { state: 'closed', stateReason: 'completed' });
            closed.push(p.issue.number);
        }
    }
    return { url: issue.url, number: issue.number, created: !mine, closed };
}
function issueTitle(report) {
    return `Restore drill ${report.startedAt.slice(0, 10)} · ${report.name} · ${report.status}`;
}
function drillRecord(report) {
    return {
        runId: report.run.id,
        name: report.name,
        backupId: report.backupId,
        startedAt: report.startedAt,
        status: report.status,
        rtoSeconds: report.rtoSeconds,
        rpoSeconds: report.rpoSeconds,
        rtoTargetSeconds: report.rtoTargetSeconds,
    };
}
/** The summary with every failed check (as many as fit), the history, and the hidden block. */
function renderIssueBody(report, record, history) {
    const tail = [
        '',
        `#### History of \`${report.name}\` drills`,
        '',
        renderHistory(history),
        '',
        report.run.url ? `_Workflow run: ${report.run.url}_` : '',
        '',
        embedData(Markers.DrillData, record),
        '',
    ].join('\n');
    for (const listLimit of [10_000, 500, 100, 20]) {
        const body = `${renderDrillSummary(report, { listLimit })}\n${tail}`;
        if (body.length <= MAX_BODY)
            return body;
    }
    return `${renderDrillSummary(report, { listLimit: 5 }).slice(0, MAX_BODY - tail.length - 2)}…\n${tail}`;
}

// EXTERNAL MODULE: external "node:os"
var external_node_os_ = __nccwpck_require__(8161);
var external_node_os_default = /*#__PURE__*/__nccwpck_require__.n(external_node_os_);
;// CONCATENATED MODULE: ./src/drill/report.ts







/** Objectives missed become failed checks that say by how much. */
function objectiveChecks(r) {
    const checks = [];
    if (r.rtoTargetSeconds !== null && r.rtoSeconds !== null && r.rtoSeconds > r.rtoTargetSeconds) {
        checks.push({
            kind: 'rto',
            object: 'RTO',
            expected: r.rtoTargetSeconds,
            actual: round(r.rtoSeconds),
            severity: 'error',
            message: `The drill took ${formatDuration(r.rtoSeconds)} from start to verified restore, ${formatDuration(r.rtoSeconds - r.rtoTargetSeconds)} over the RTO target of ${formatDuration(r.rtoTargetSeconds)}.`,
            hint: 'Restore time grows with the database: a bigger drill runner (more cores, faster disk) or a smaller database brings it down; or revise the target.',
        });
    }
    if (r.rpoTargetSeconds !== null && r.rpoSeconds !== null && r.rpoSeconds > r.rpoTargetSeconds) {
        checks.push({
            kind: 'rpo',
            object: 'RPO',
            expected: r.rpoTargetSeconds,
            actual: round(r.rpoSeconds),
            severity: 'error',
            message: `The backup was ${formatDuration(r.rpoSeconds)} old when the drill started, ${formatDuration(r.rpoSeconds - r.rpoTargetSeconds)} over the RPO target of ${formatDuration(r.rpoTargetSeconds)}.`,
            hint: 'Back up more often (the backup workflow schedule), or check that recent backups succeeded.',
        });
    }
    return checks;
}
function drillStatus(checks, failure) {
    return failure || errorsOf(checks).length > 0 ? 'failed' : 'passed';
}
function reportPath(backupId, env = process.env) {
    return external_node_path_default().join(env.RUNNER_TEMP || external_node_os_default().tmpdir(), `lifeboat-drill-${backupId}.json`);
}
/** Masked once more on the way out: a file leaves by another door than the log. */
async function writeReport(report, file, log) {
    await (0,external_node_fs_promises_.writeFile)(file, `${log.mask(JSON.stringify(report, null, 2))}\n`, { mode: 0o600 });
}
function round(seconds) {
    return Math.round(seconds * 10) / 10;
}
function buildReport(settings, facts, steps, env, log) {
    const error = steps.failure?.error;
    const failure = steps.failure
        ? {
            step: steps.failure.step,
            message: log.mask(error instanceof Error ? error.message : (0,src_errors/* describeError */.Uc)(error)),
            hint: error instanceof src_errors/* LifeboatError */.H3 ? error.hint : undefined,
        }
        : null;
    const m = facts.manifest;
    const prep = facts.prep;
    const targets = {
        rtoTargetSeconds: settings.rtoTargetSeconds ?? null,
        rpoTargetSeconds: settings.rpoTargetSeconds ?? null,
    };
    const times = {
        rtoSeconds: facts.rtoSeconds === null ? null : round(facts.rtoSeconds),
        rpoSeconds: facts.rpoSeconds === null ? null : round(facts.rpoSeconds),
    };
    const checks = [
        ...(failure ? [stepFailure(failure)] : []),
        ...facts.result.checks,
        ...(prep?.skipped ?? []).map((s) => ({
            kind: 'skipped',
            object: s.entry,
            expected: 'restored',
            actual: 'skipped',
            severity: 'warning',
            message: `Skipped ${s.entry}: ${s.reason}.`,
        })),
        ...objectiveChecks({ ...times, ...targets }),
    ];
    const runId = env.GITHUB_RUN_ID || null;
    const server = env.GITHUB_SERVER_URL || 'https://github.com';
    return {
        format: 'lifeboat-drill-report',
        formatVersion: 1,
        status: drillStatus(checks, failure),
        name: settings.name,
        backupId: m?.backupId ?? settings.backupId,
        startedAt: facts.startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        ...times,
        ...targets,
        backup: m
            ? {
                createdAt: m.createdAt,
                completedAt: m.completedAt,
                sizeBytes: m.archive.sizeBytes,
                dumpBytes: m.archive.dumpBytes,
                sha256: m.archive.sha256,
                serverVersion: m.source.serverVersion,
                pgDumpVersion: m.source.pgDumpVersion,
                levelBefore: m.verification.level,
            }
            : null,
        target: {
            server: describeTarget(settings.target).replace(/\/[^/]*$/, ''),
            database: facts.database ?? null,
            serverVersion: facts.serverVersion ?? null,
            kept: settings.keepDatabase,
        },
        profile: {
            requested: settings.profile,
            used: prep?.profile ?? null,
            reason: facts.profileReason ?? null,
        },
        restore: {
            pgRestore: facts.pgRestore ?? null,
            jobs: facts.jobs,
            skipped: prep?.skipped ?? [],
            prepared: prep
                ? [
                    ...prep.roles.map((r) => `role ${r}`),
                    ...prep.schemas.map((x) => `schema ${x}`),
                    ...prep.functions.map((f) => `function ${f}`),
                ]
                : [],
        },
        steps: steps.records,
        compared: { ...facts.result.compared, restore: 1 },
        checks,
        failure,
        run: {
            id: runId,
            url: runId && env.GITHUB_REPOSITORY ? `${server}/${env.GITHUB_REPOSITORY}/actions/runs/${runId}` : null,
        },
        issueUrl: null,
    };
}
function stepFailure(failure) {
    return {
        kind: 'restore',
        object: failure.step,
        expected: 'ok',
        actual: 'failed',
        severity: 'error',
        message: failure.message,
        hint: failure.hint,
    };
}
/** The error a failed drill ends with, after it was reported: the first cause, and where to read the rest. */
function drillFailed(report, file) {
    const failed = errorsOf(report.checks);
    const first = report.failure?.message ?? failed[0]?.message ?? 'see the report';
    const where = report.failure ? ` at "${report.failure.step}"` : '';
    const more = failed.length > 1 ? ` (and ${failed.length - 1} more failed checks)` : '';
    const places = `The job summary${report.issueUrl ? `, the drill issue ${report.issueUrl}` : ''} and the JSON report (${file}) list every check.`;
    return new src_errors/* LifeboatError */.H3('drill', `The restore drill of ${report.name} failed${where}: ${first}${more}`, {
        hint: report.failure?.hint ? `${report.failure.hint} ${places}` : places,
    });
}

;// CONCATENATED MODULE: ./src/drill/publish.ts










/**
 * Tells the team: job summary, drill issue, JSON report, outputs; and on a pass, raises the
 * backup's verification level to `restored`. Reporting trouble is a warning, never the
 * verdict: the drill passes or fails on the drill alone.
 */
async function publishDrill(report, ctx) {
    const { log, reporter } = ctx;
    await reporter.summary(log.mask(renderDrillSummary(report)));
    report.issueUrl = await fileIssue(report, ctx);
    const file = reportPath(report.backupId, ctx.env);
    // A full disk must not turn the drill's verdict into a bare ENOSPC: the summary and issue carry it.
    const written = await writeReport(report, file, log).then(() => true, async (error) => {
        await (0,external_node_fs_promises_.rm)(file, { force: true }).catch(() => undefined);
        log.warning(`The drill report could not be written to ${file}: ${(0,src_errors/* describeError */.Uc)(error)}`);
        return false;
    });
    if (written)
        log.info(`Drill report written to ${file}.`);
    reporter.output(Outputs.Status, report.status);
    reporter.output(Outputs.BackupId, report.backupId);
    reporter.output(Outputs.RtoSeconds, report.rtoSeconds === null ? '' : String(Math.round(report.rtoSeconds)));
    reporter.output(Outputs.RpoSeconds, report.rpoSeconds === null ? '' : String(Math.round(report.rpoSeconds)));
    reporter.output(Outputs.ReportPath, written ? file : '');
    reporter.output(Outputs.IssueUrl, report.issueUrl ?? '');
    if (report.status === 'passed' && ctx.manifest)
        await raiseLevel(ctx.manifest, ctx);
    return file;
}
async function fileIssue(report, ctx) {
    const { log } = ctx;
    try {
        const gh = githubContextFromEnv(ctx.githubToken, ctx.env);
        if (!gh) {
            log.info('No GitHub token or repository (a local run): the drill result is not filed as an issue.');
            return null;
        }
        const issue = await publishDrillIssue(gh, report, (text) => log.mask(text));
        log.info(`${issue.created ? 'Opened' : 'Updated'} drill issue ${issue.url}.`);
        if (issue.closed.length)
            log.info(`Closed earlier drill issues: ${issue.closed.map((n) => `#${n}`).join(', ')}.`);
        return issue.url;
    }
    catch (error) {
        if (error instanceof GitHubPermissionError) {
            log.warning(`The drill issue was not filed: the token lacks \`${error.permission}\`. Add \`permissions: issues: write\` to the drill job. The drill ${report.status} all the same.`);
        }
        else {
            log.warning(`The drill issue was not filed: ${(0,src_errors/* describeError */.Uc)(error)}`);
        }
        return null;
    }
}
/** The gate can require `restored` once a drill has proven the backup. */
async function raiseLevel(manifest, ctx) {
    const next = withLevel(manifest, 'restored', 'drill');
    try {
        const body = external_node_stream_.Readable.from([serializeManifest(next)]);
        await ctx.store.put((0,stores_store/* manifestKey */.Rn)(manifest.name, manifest.backupId), body, { overwrite: true });
        ctx.log.info(`Backup ${manifest.backupId} is now verified at level "restored".`);
    }
    catch (error) {
        ctx.log.warning(`Could not record level "restored" in the manifest: ${(0,src_errors/* describeError */.Uc)(error)}`);
    }
}

;// CONCATENATED MODULE: ./src/drill/steps.ts


/**
 * Runs the drill's steps, timing and logging each. The first failure is
 * kept; `skipRest` records the steps it kept from running, so the report lists the whole drill.
 */
class DrillSteps {
    log;
    clock;
    records = [];
    failure;
    constructor(log, clock = () => performance.now()) {
        this.log = log;
        this.clock = clock;
    }
    /**
     * Runs one step. A step given `stopped` that fails after that signal fired was stopped
     * because a step running beside it failed: it is recorded as skipped, not as the failure.
     */
    async run(name, fn, stopped) {
        const record = { name, status: 'ok', seconds: 0 };
        this.records.push(record);
        this.log.info(`▶ ${name}`);
        const started = this.clock();
        try {
            const result = await fn({ note: (detail) => (record.detail = detail) });
            record.seconds = (this.clock() - started) / 1000;
            this.log.info(`✔ ${name} (${steps_seconds(record.seconds)})${record.detail ? `: ${record.detail}` : ''}`);
            return result;
        }
        catch (error) {
            record.seconds = (this.clock() - started) / 1000;
            if (stopped?.aborted) {
                record.status = 'skipped';
                record.detail = 'stopped: a step running beside it failed';
                this.log.info(`– ${name} stopped after ${steps_seconds(record.seconds)}`);
                throw error;
            }
            record.status = 'failed';
            record.detail = this.log.mask((0,src_errors/* describeError */.Uc)(error).split('\n')[0] ?? '');
            this.failure ??= { step: name, error };
            this.log.info(`✘ ${name} failed after ${steps_seconds(record.seconds)}`);
            throw error;
        }
    }
    /**
     * Records the steps a failure kept from running, and puts the records in the order of
     * `names`: steps that ran side by side finish in whatever order they finish.
     */
    skipRest(names) {
        const done = new Set(this.records.map((r) => r.name));
        for (const name of names) {
            if (!done.has(name))
                this.records.push({ name, status: 'skipped', seconds: 0 });
        }
        const rank = (name) => (names.includes(name) ? names.indexOf(name) : names.length);
        this.records.sort((a, b) => rank(a.name) - rank(b.name));
    }
}
function steps_seconds(value) {
    return value < 60 ? `${value.toFixed(1)}s` : formatDuration(value);
}

;// CONCATENATED MODULE: ./src/drill/toc.ts
// Longest first, so `TABLE DATA` wins over `TABLE`.
const toc_KINDS = [
    'ACCESS METHOD|ACL|AGGREGATE|BLOB|BLOB METADATA|BLOBS|CAST|CHECK CONSTRAINT|COLLATION|COMMENT',
    'CONSTRAINT|CONVERSION|DATABASE|DATABASE PROPERTIES|DEFAULT|DEFAULT ACL|DOMAIN|ENCODING|EVENT TRIGGER',
    'EXTENSION|FK CONSTRAINT|FOREIGN DATA WRAPPER|FOREIGN SERVER|FOREIGN TABLE|FUNCTION|INDEX|INDEX ATTACH',
    'LARGE OBJECT|MATERIALIZED VIEW|MATERIALIZED VIEW DATA|OPERATOR|OPERATOR CLASS|OPERATOR FAMILY|POLICY',
    'PROCEDURAL LANGUAGE|PROCEDURE|PUBLICATION|PUBLICATION TABLE|PUBLICATION TABLES IN SCHEMA|ROW SECURITY',
    'RULE|SCHEMA|SEARCHPATH|SECURITY LABEL|SEQUENCE|SEQUENCE OWNED BY|SEQUENCE SET|SERVER|SHELL TYPE',
    'STATISTICS|STATISTICS DATA|STDSTRINGS|SUBSCRIPTION|SUBSCRIPTION TABLE|TABLE|TABLE ATTACH|TABLE DATA',
    'TEXT SEARCH CONFIGURATION|TEXT SEARCH DICTIONARY|TEXT SEARCH PARSER|TEXT SEARCH TEMPLATE|TRANSFORM',
    'TRIGGER|TYPE|USER MAPPING|VIEW',
]
    .join('|')
    .split('|')
    .sort((a, b) => b.length - a.length);
const ENTRY = /^(\d+);\s+\d+\s+\d+\s+(.*)$/;
function parseToc(listing) {
    const entries = [];
    for (const line of listing.split('\n')) {
        const match = ENTRY.exec(line);
        if (!match)
            continue;
        const entry = parseEntry(Number(match[1]), match[2], line);
        if (entry)
            entries.push(entry);
    }
    return entries;
}
/**
 * The entry pg_restore names in an error (`from TOC entry 3608; 3256 16726 POLICY clips members
 * read clips postgres`), which it prints without the schema.
 */
function parseErrorEntry(text) {
    const match = ENTRY.exec(text.trim());
    return match ? parseEntry(Number(match[1]), match[2], text, false) : undefined;
}
function parseEntry(id, rest, line, hasNamespace = true) {
    const desc = toc_KINDS.find((k) => rest.startsWith(`${k} `));
    if (!desc)
        return undefined;
    const afterDesc = rest.slice(desc.length + 1);
    const space = hasNamespace ? afterDesc.indexOf(' ') : -1;
    if (hasNamespace && space < 0)
        return undefined;
    const namespace = hasNamespace ? afterDesc.slice(0, space) : '-';
    const tagAndOwner = afterDesc.slice(space + 1);
    // The owner is the last word, empty for objects without one (extensions): the line then ends in a space.
    const last = tagAndOwner.lastIndexOf(' ');
    const tag = last < 0 ? tagAndOwner : tagAndOwner.slice(0, last);
    const owner = last < 0 ? '' : tagAndOwner.slice(last + 1);
    return { id, desc, namespace: namespace === '-' ? null : namespace, tag, owner, line };
}
/** `POLICY public.clips members read clips`, `EXTENSION pg_graphql`, `ACL SCHEMA auth`. */
function describeEntry(entry) {
    if (!entry.namespace)
        return `${entry.desc} ${entry.tag}`;
    // Tags of table-level objects start with the table name: `POLICY public clips members read clips`.
    const tableLevel = ['POLICY', 'CONSTRAINT', 'FK CONSTRAINT', 'TRIGGER', 'RULE', 'ROW SECURITY'];
    if (tableLevel.includes(entry.desc)) {
        const space = entry.tag.indexOf(' ');
        if (space > 0) {
            return `${entry.desc} ${entry.tag.slice(space + 1)} on ${entry.namespace}.${entry.tag.slice(0, space)}`;
        }
    }
    return `${entry.desc} ${entry.namespace}.${entry.tag}`;
}
/** The listing with the given entries commented out, for `pg_restore --use-list`. */
function commentOut(listing, skip) {
    return listing
        .split('\n')
        .map((line) => {
        const match = ENTRY.exec(line);
        return match && skip.has(Number(match[1])) ? `;${line}` : line;
    })
        .join('\n');
}

;// CONCATENATED MODULE: ./src/postgres/live-checks.ts


const live_checks_USER_SCHEMA = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'`;
const FOREIGN_KEYS = `SELECT con.conname AS name, n.nspname AS schema, c.relname AS table,
    fn.nspname AS ref_schema, f.relname AS ref_table, con.convalidated AS validated,
    ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
      JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i)::text[] AS cols,
    ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
      JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i)::text[] AS ref_cols
  FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_class f ON f.oid = con.confrelid JOIN pg_namespace fn ON fn.oid = f.relnamespace
  WHERE con.contype = 'f' AND con.conparentid = 0 AND ${live_checks_USER_SCHEMA}
  ORDER BY 2, 3, 1`;
/**
 * pg_restore adds every foreign key with ALTER TABLE … ADD CONSTRAINT, which checks every
 * row, and --exit-on-error makes one orphan fail the restore: a validated key is proven by
 * the time we get here, and scanning it again would double the verification time of a large
 * database. A NOT VALID key is restored unchecked, so those are scanned for orphans.
 */
async function checkForeignKeys(db) {
    const out = emptyComparison();
    const keys = (await db.query(FOREIGN_KEYS)).rows;
    count(out, 'fk-orphans', keys.length);
    await Promise.all(keys
        .filter((k) => !k.validated)
        .map(async (k) => {
        const cols = k.cols;
        const refCols = k.ref_cols;
        const child = tableRef(String(k.schema), String(k.table));
        const parent = tableRef(String(k.ref_schema), String(k.ref_table));
        const q = (c) => `"${c.replace(/"/g, '""')}"`;
        const sql = `SELECT count(*)::bigint AS n FROM ${child} c
          WHERE ${cols.map((c) => `c.${q(c)} IS NOT NULL`).join(' AND ')}
          AND NOT EXISTS (SELECT 1 FROM ${parent} p WHERE ${cols.map((c, i) => `p.${q(refCols[i])} = c.${q(c)}`).join(' AND ')})`;
        const orphans = Number((await db.query(sql)).rows[0]?.n ?? 0);
        if (orphans === 0)
            return;
        const object = `constraint ${String(k.name)} on ${String(k.schema)}.${String(k.table)}`;
        out.checks.push({
            kind: 'fk-orphans',
            object,
            expected: 0,
            actual: orphans,
            severity: 'error',
            message: `${orphans} rows of ${String(k.schema)}.${String(k.table)} reference missing rows of ${String(k.ref_schema)}.${String(k.ref_table)} (${object}, NOT VALID).`,
            hint: 'The source holds these orphans too; clean them up and run ALTER TABLE … VALIDATE CONSTRAINT there.',
        });
    }));
    return out;
}
const OWNED_SEQUENCES = `SELECT n.nspname AS seq_schema, s.relname AS seq_name, tn.nspname AS schema,
    t.relname AS table, a.attname AS column, q.seqincrement::text AS increment
  FROM pg_class s JOIN pg_namespace n ON n.oid = s.relnamespace JOIN pg_sequence q ON q.seqrelid = s.oid
  JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid
    AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
  JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace
  JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
  WHERE s.relkind = 'S' AND ${live_checks_USER_SCHEMA}
    AND a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'numeric'::regtype)
  ORDER BY 1, 2`;
/** A sequence behind its column's largest value makes the next insert fail with a duplicate key. */
async function checkSequences(db) {
    const out = emptyComparison();
    const owned = (await db.query(OWNED_SEQUENCES)).rows;
    count(out, 'sequence-max', owned.length);
    if (owned.length === 0)
        return out;
    // One round trip for all of them; max() of an indexed key column reads one index page.
    const union = owned
        .map((s, i) => {
        const col = `"${String(s.column).replace(/"/g, '""')}"`;
        const agg = BigInt(String(s.increment)) < 0n ? 'min' : 'max';
        return `SELECT ${i} AS i, (SELECT ${agg}(${col})::text FROM ${tableRef(String(s.schema), String(s.table))}) AS edge,
        last_value::text AS last, is_called FROM ${tableRef(String(s.seq_schema), String(s.seq_name))}`;
    })
        .join('\nUNION ALL ');
    for (const r of (await db.query(union)).rows) {
        const s = owned[Number(r.i)];
        if (r.edge == null || !/^-?\d+$/.test(String(r.edge)))
            continue;
        const step = BigInt(String(s.increment));
        const next = r.is_called ? BigInt(String(r.last)) + step : BigInt(String(r.last));
        const edge = BigInt(String(r.edge));
        if (step > 0n ? next > edge : next < edge)
            continue;
        const seq = `${String(s.seq_schema)}.${String(s.seq_name)}`;
        const column = `${String(s.schema)}.${String(s.table)}.${String(s.column)}`;
        out.checks.push({
            kind: 'sequence-max',
            object: `sequence ${seq}`,
            expected: `${step > 0n ? '>' : '<'} ${edge}`,
            actual: String(next),
            severity: 'error',
            message: `Sequence ${seq} would hand out ${next} next, but ${column} already holds ${edge}: the next insert would fail with a duplicate key.`,
            hint: `The backup recorded the sequence behind its data. After a real restore run SELECT setval('${seq}', (SELECT max(${String(s.column)}) FROM ${String(s.schema)}.${String(s.table)}));`,
        });
    }
    return out;
}
/**
 * Runs the team's checks one by one, each in a transaction rolled back afterwards, so a
 * check may call a function that writes without changing what the next check sees.
 */
async function runSqlChecks(client, checks) {
    const out = emptyComparison();
    count(out, 'verify-sql', checks.length);
    for (const check of checks) {
        const problem = await runOne(client, check);
        if (!problem)
            continue;
        out.checks.push({
            kind: 'verify-sql',
            object: check.label,
            expected: true,
            actual: problem.actual,
            severity: 'error',
            message: `verify-sql check "${check.label}" (line ${check.line}) ${problem.message}`,
        });
    }
    return out;
}
async function runOne(client, check) {
    await client.query('BEGIN');
    try {
        await client.query(`SET LOCAL statement_timeout = '5min'`);
        const result = (await client.query(check.sql));
        if (Array.isArray(result))
            return { actual: 'error', message: 'holds more than one statement.' };
        if (result.fields.length !== 1 || result.fields[0].dataTypeID !== 16) {
            return { actual: 'error', message: 'must return exactly one boolean column.' };
        }
        const values = result.rows.map((row) => Object.values(row)[0]);
        if (values.length === 0)
            return { actual: null, message: 'returned no rows.' };
        const bad = values.filter((v) => v !== true);
        if (bad.length === 0)
            return undefined;
        const what = bad.includes(false) ? false : null;
        const rows = values.length > 1 ? ` in ${bad.length} of ${values.length} rows` : '';
        return { actual: what, message: `returned ${what === false ? 'false' : 'null'}${rows}.` };
    }
    catch (error) {
        return { actual: 'error', message: `failed: ${error.message}.` };
    }
    finally {
        await client.query('ROLLBACK').catch(() => undefined);
    }
}
/**
 * Splits a file of checks at top-level semicolons, minding quotes, dollar quotes and
 * comments. A `-- name: …` comment before a statement labels it; otherwise its text does.
 */
function splitSqlChecks(text) {
    const checks = [];
    let code = -1;
    let label;
    const flush = (end) => {
        if (code >= 0) {
            const sql = text.slice(code, end).trim();
            const line = text.slice(0, code).split('\n').length;
            const short = sql.replace(/\s+/g, ' ');
            checks.push({ label: label ?? (short.length > 80 ? `${short.slice(0, 79)}…` : short), sql, line });
        }
        code = -1;
        label = undefined;
    };
    for (let i = 0; i < text.length; i++) {
        const ch = text[i];
        const rest = text.slice(i, i + 2);
        if (rest === '--') {
            const end = text.indexOf('\n', i);
            const comment = text.slice(i, end < 0 ? text.length : end);
            const name = /^--\s*name:\s*(.+?)\s*$/i.exec(comment)?.[1];
            if (name && code < 0)
                label = name;
            i = end < 0 ? text.length : end;
            continue;
        }
        if (rest === '/*') {
            i = skipBlockComment(text, i);
            continue;
        }
        if (/\s/.test(ch))
            continue;
        if (ch === ';') {
            flush(i);
            continue;
        }
        if (code < 0)
            code = i;
        if (ch === "'" || ch === '"') {
            const escapes = ch === "'" && /[eE]/.test(text[i - 1] ?? '') && !/\w/.test(text[i - 2] ?? '');
            i = skipQuoted(text, i, ch, escapes);
        }
        else if (ch === '$' && !/[\w$]/.test(text[i - 1] ?? '')) {
            const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i))?.[0];
            if (tag) {
                const close = text.indexOf(tag, i + tag.length);
                i = close < 0 ? text.length : close + tag.length - 1;
            }
        }
    }
    flush(text.length);
    return checks;
}
function skipQuoted(text, at, quote, backslashEscapes) {
    for (let i = at + 1; i < text.length; i++) {
        if (backslashEscapes && text[i] === '\\')
            i++;
        else if (text[i] === quote) {
            if (text[i + 1] === quote)
                i++;
            else
                return i;
        }
    }
    return text.length;
}
function skipBlockComment(text, at) {
    let depth = 0;
    for (let i = at; i < text.length - 1; i++) {
        const pair = text.slice(i, i + 2);
        if (pair === '/*') {
            depth++;
            i++;
        }
        else if (pair === '*/') {
            depth--;
            i++;
            if (depth === 0)
                return i;
        }
    }
    return text.length;
}

;// CONCATENATED MODULE: ./src/postgres/verify.ts

function compareSnapshots(expected, actual, options = {}) {
    const out = { checks: [], compared: {} };
    for (const rule of rules(expected.serverMajor === actual.serverMajor, options)) {
        compareSet(out, rule, rule.items(expected), rule.items(actual));
    }
    if (expected.migration) {
        const table = expected.migration.table;
        const [e, a] = [expected.migration.latestVersion, actual.migration?.latestVersion ?? null];
        count(out, 'migration');
        if (e !== a) {
            add(out, 'migration', table, e, a, 'error', `Latest migration in ${table} is ${a ?? 'missing'}, expected ${e ?? 'none'}.`);
        }
    }
    count(out, 'large-objects');
    const [e, a] = [expected.largeObjects, actual.largeObjects];
    if (e !== a)
        add(out, 'large-objects', 'large objects', e, a, 'error', `${a} large objects restored, ${e} expected.`);
    return out;
}
const rule = (r) => r;
const f = (what, expected, actual, severity) => ({
    what,
    expected,
    actual,
    severity,
});
function rules(sameMajor, options) {
    // Another server major prints view, policy, index and trigger definitions its own way.
    const def = sameMajor ? 'error' : 'warning';
    const preparedFunctions = new Set((options.prepared?.functions ?? []).map((f) => `function ${f}`));
    const preparedSchemas = new Set((options.prepared?.schemas ?? []).map((s) => `schema ${s}`));
    const skipped = new Set(options.skippedExtensions ?? []);
    return [
        rule({
            kind: 'table',
            items: (s) => s.tables,
            name: (t) => `table ${t.schema}.${t.name}`,
            fields: (e, a) => {
                const table = `${e.schema}.${e.name}`;
                const fields = [
                    { ...f('row-level security enabled', e.rlsEnabled, a.rlsEnabled, 'error'), kind: 'rls' },
                    { ...f('row-level security forced', e.rlsForced, a.rlsForced, 'error'), kind: 'rls' },
                    f('owner', e.owner, a.owner, 'error'),
                ];
                if (e.rows !== null && a.rows !== null) {
                    const diff = a.rows - e.rows;
                    const message = `${table}: ${a.rows} rows restored, ${e.rows} expected (${Math.abs(diff)} ${diff < 0 ? 'missing' : 'extra'}).`;
                    fields.unshift({ ...f('rows', e.rows, a.rows, 'error'), kind: 'rows', object: table, message });
                }
                // Same rows, other values: only a content fingerprint taken on both sides can tell.
                if (e.fingerprint !== undefined && a.fingerprint !== undefined && e.rows === a.rows) {
                    const message = `${table}: the restored rows differ from the backup's in content, though all ${e.rows ?? 0} are there (content fingerprint mismatch).`;
                    fields.push({ ...f('content', e.fingerprint, a.fingerprint, 'error'), kind: 'content', message });
                }
                return fields.map((field) => ({ ...field, object: field.object ?? table }));
            },
        }),
        rule({
            kind: 'policy',
            items: (s) => s.policies,
            name: (p) => `policy "${p.name}" on ${p.schema}.${p.table}`,
            fields: (e, a) => [
                f('command', e.command, a.command, 'error'),
                f('permissive', e.permissive, a.permissive, 'error'),
                f('roles', [...e.roles].sort().join(', '), [...a.roles].sort().join(', '), 'error'),
                f('USING expression', norm(e.using), norm(a.using), def),
                f('WITH CHECK expression', norm(e.check), norm(a.check), def),
            ],
        }),
        rule({
            kind: 'function',
            items: (s) => s.functions,
            name: (fn) => `function ${fn.schema}.${fn.name}(${fn.args})`,
            fields: (e, a, name) => [
                // A stub the profile created stands in for the real function on purpose.
                f('body', e.bodyHash, a.bodyHash, preparedFunctions.has(name) ? 'warning' : 'error'),
                f('language', e.language, a.language, 'error'),
                f('kind', e.kind, a.kind, 'error'),
                f('SECURITY DEFINER', e.securityDefiner, a.securityDefiner, 'error'),
            ],
            ignore: preparedFunctions,
        }),
        rule({
            kind: 'trigger',
            items: (s) => s.triggers,
            name: (t) => `trigger ${t.name} on ${t.schema}.${t.table}`,
            fields: (e, a) => [
                f('enabled state', e.enabled, a.enabled, 'error'),
                f('definition', norm(e.definition), norm(a.definition), def),
            ],
        }),
        rule({
            kind: 'view',
            items: (s) => s.views,
            name: (v) => `${v.kind === 'm' ? 'materialized view' : 'view'} ${v.schema}.${v.name}`,
            fields: (e, a) => [
                f('definition', norm(e.definition), norm(a.definition), def),
                f('populated', e.populated, a.populated, 'error'),
            ],
        }),
        rule({
            kind: 'index',
            items: (s) => s.indexes,
            name: (i) => `index ${i.schema}.${i.name} on ${i.table}`,
            fields: (e, a) => [f('definition', norm(e.definition), norm(a.definition), def)],
        }),
        rule({
            kind: 'constraint',
            items: (s) => s.constraints,
            name: (k) => `constraint ${k.name} on ${k.schema}.${k.table}`,
            fields: (e, a) => [
                f('type', e.type, a.type, 'error'),
                f('definition', norm(e.definition), norm(a.definition), def),
                f('validated', e.validated, a.validated, 'error'),
            ],
        }),
        rule({
            kind: 'sequence',
            items: (s) => s.sequences,
            name: (q) => `sequence ${q.schema}.${q.name}`,
            // Sequences are not transactional, so the snapshot may have read a later value than the
            // dump did: worth a look, not a failure. The live check against the column's max decides.
            fields: (e, a) => [f('last value', sequenceValue(e), sequenceValue(a), 'warning')],
        }),
        rule({
            kind: 'extension',
            // plpgsql ships in every database; its presence says nothing about the backup.
            items: (s) => s.extensions.filter((x) => x.name !== 'plpgsql'),
            name: (x) => `extension ${x.name}`,
            fields: (e, a) => [f('version', e.version, a.version, 'warning')],
            missing: (x) => (skipped.has(x.name) ? 'warning' : 'error'),
            extra: 'warning',
        }),
        rule({
            kind: 'setting',
            items: (s) => s.databaseSettings,
            name: (d) => settingName(d.role, d.setting),
            fields: (e, a) => [f('value', settingValue(e.setting), settingValue(a.setting), 'error')],
            extra: 'warning',
        }),
        rule({
            kind: 'schema',
            items: (s) => s.schemas.map((name) => ({ name })),
            name: (s) => `schema ${s.name}`,
            fields: () => [],
            extra: 'warning',
            ignore: preparedSchemas,
        }),
    ];
}
/** Matches two lists by name: what is missing, what is extra, then each pair field by field. */
function compareSet(out, rule, expected, actual) {
    const restored = new Map(actual.map((item) => [rule.name(item), item]));
    count(out, rule.kind, expected.length);
    for (const e of expected) {
        const name = rule.name(e);
        const a = restored.get(name);
        restored.delete(name);
        if (!a) {
            const severity = rule.missing?.(e) ?? 'error';
            add(out, rule.kind, name, 'present', 'missing', severity, `${capital(name)} is missing from the restored database.`);
            continue;
        }
        const fields = rule.fields(e, a, name);
        for (const kind of new Set(fields.map((field) => field.kind ?? rule.kind))) {
            if (kind !== rule.kind)
                count(out, kind);
        }
        for (const field of fields) {
            const kind = field.kind ?? rule.kind;
            if (field.expected === field.actual)
                continue;
            const object = field.object ?? name;
            const message = field.message ??
                `${capital(object)}: ${field.what} is ${show(field.actual)}, expected ${show(field.expected)}.`;
            add(out, kind, object, field.expected, field.actual, field.severity, message);
        }
    }
    for (const name of restored.keys()) {
        if (rule.ignore?.has(name))
            continue;
        add(out, rule.kind, name, 'absent', 'present', rule.extra ?? 'error', `${capital(name)} is in the restored database but not in the backup's catalog.`);
    }
}
function add(out, kind, object, expected, actual, severity, message) {
    out.checks.push({ kind, object, expected, actual, severity, message });
}
/** Whitespace-insensitive text for definitions that servers pretty-print differently. */
function norm(text) {
    return text == null
        ? null
        : text
            .replace(/\s+/g, ' ')
            .replace(/\s*;\s*$/, '')
            .trim();
}
function sequenceValue(s) {
    return `${s.lastValue ?? 'none'}${s.isCalled ? '' : ' (not yet called)'}`;
}
function settingName(role, setting) {
    const name = setting.split('=')[0] ?? setting;
    return role ? `setting ${name} for role ${role}` : `setting ${name}`;
}
function settingValue(setting) {
    const at = setting.indexOf('=');
    return at < 0 ? '' : setting.slice(at + 1);
}
function capital(text) {
    return text.charAt(0).toUpperCase() + text.slice(1);
}
function show(value) {
    if (value === null)
        return 'none';
    if (typeof value !== 'string')
        return String(value);
    return `"${value.length > 200 ? `${value.slice(0, 200)}…` : value}"`;
}

;// CONCATENATED MODULE: ./src/drill/verify.ts







/**
 * Snapshot of the restored database compared with the backup's, plus the live checks.
 * Independent queries run side by side on a small pool: the catalog on one connection,
 * the table reads (the expensive part) spread over the others, largest table first so no
 * single long read is left for the end. Each table is read once: a content fingerprint
 * carries its row count, so a table the backup fingerprinted is not counted again.
 */
async function verifyRestore(options) {
    const pool = new esm.Pool({ ...pgClientConfig(options.target), max: options.jobs + 1 });
    pool.on('error', () => undefined);
    try {
        const [actual, read, foreignKeys, sequences, custom] = await Promise.all([
            withClient(pool, (c) => inspectDatabase(c, { rowCounts: false, migrationsTable: options.migrationsTable })),
            readTables(pool, options.expected, options.log),
            checkForeignKeys(pool),
            checkSequences(pool),
            options.sqlChecks.length
                ? withClient(pool, (c) => runSqlChecks(c, options.sqlChecks))
                : Promise.resolve(emptyComparison()),
        ]);
        const fingerprinted = fingerprintedTables(options.expected);
        for (const table of actual.tables) {
            if (table.kind !== 'r')
                continue;
            const key = `${table.schema}.${table.name}`;
            const got = read.get(key) ?? (await readTable(pool, table.schema, table.name, fingerprinted.has(key)));
            table.rows = got.rows;
            if (got.fingerprint !== undefined)
                table.fingerprint = got.fingerprint;
        }
        const result = compareSnapshots(options.expected, actual, options);
        checks_merge(result, foreignKeys);
        checks_merge(result, sequences);
        checks_merge(result, custom);
        return { actual, result };
    }
    finally {
        await pool.end().catch(() => undefined);
    }
}
async function withClient(pool, fn) {
    const client = await pool.connect();
    try {
        return await fn(client);
    }
    finally {
        client.release();
    }
}
function fingerprintedTables(expected) {
    return new Set(expected.tables.filter((t) => t.fingerprint !== undefined).map((t) => `${t.schema}.${t.name}`));
}
/** Every ordinary table and partition read once, keyed `schema.table`. */
async function readTables(pool, expected, log) {
    const { rows } = await pool.query(`SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
      ORDER BY pg_relation_size(c.oid) DESC, 1, 2`);
    const fingerprinted = fingerprintedTables(expected);
    const read = new Map();
    await Promise.all(rows.map(async ({ schema, name }) => {
        const key = `${schema}.${name}`;
        read.set(key, await readTable(pool, schema, name, fingerprinted.has(key)));
        log?.progress(`Reading tables: ${read.size} of ${rows.length}`);
    }));
    return read;
}
async function readTable(pool, schema, name, fingerprint) {
    if (fingerprint) {
        const value = await withClient(pool, (c) => tableFingerprint(c, schema, name));
        // `<count>:<sum of row hashes>`
        return { rows: Number(value.split(':')[0]), fingerprint: value };
    }
    return { rows: await countOne(pool, schema, name) };
}
async function countOne(pool, schema, name) {
    const { rows } = await pool.query(`SELECT count(*)::bigint AS n FROM ${tableRef(schema, name)}`);
    return Number(rows[0]?.n ?? 0);
}

;// CONCATENATED MODULE: ./src/postgres/profile.ts


const API_ROLES = ['anon', 'authenticated', 'service_role'];
const SUPABASE_ROLES = [...API_ROLES, 'authenticator', 'supabase_admin', 'supabase_auth_admin'];
const SUPABASE_SCHEMAS = ['auth', 'storage', 'graphql_public', 'realtime', 'supabase_functions'];
/** Extensions Supabase's image ships and a vanilla server lacks, with the schemas they create. */
const PLATFORM_EXTENSIONS = {
    pg_graphql: ['graphql'],
    pgsodium: ['pgsodium', 'pgsodium_masks'],
    supabase_vault: ['vault'],
    pg_net: ['net'],
    pg_cron: ['cron'],
    pg_tle: ['pgtle'],
    pgjwt: [],
    wrappers: [],
    supautils: [],
    pg_jsonschema: [],
    pg_hashids: [],
    index_advisor: [],
    pg_stat_monitor: [],
};
function detectProfile(snapshot, requested) {
    if (requested !== 'auto')
        return { profile: requested, reason: `input \`profile\` is \`${requested}\`` };
    const referenced = new Set([...snapshot.roles, ...snapshot.policies.flatMap((p) => p.roles)]);
    const roles = SUPABASE_ROLES.filter((r) => referenced.has(r));
    const schemas = SUPABASE_SCHEMAS.filter((s) => snapshot.schemas.includes(s));
    if (roles.length === 0 && schemas.length === 0) {
        return { profile: 'postgres', reason: 'the backup references no Supabase roles or schemas' };
    }
    const found = [
        roles.length && `roles ${roles.join(', ')}`,
        schemas.length && `schemas ${schemas.join(', ')}`,
    ];
    return {
        profile: 'supabase',
        reason: `the backup references Supabase ${found.filter(Boolean).join(' and ')}`,
    };
}
const AUTH_STUBS = {
    'auth.uid()': `CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $$
  SELECT nullif(coalesce(current_setting('request.jwt.claim.sub', true),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')), '')::uuid $$`,
    'auth.role()': `CREATE FUNCTION auth.role() RETURNS text LANGUAGE sql STABLE AS $$
  SELECT nullif(coalesce(current_setting('request.jwt.claim.role', true),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')), '')::text $$`,
    'auth.jwt()': `CREATE FUNCTION auth.jwt() RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), ''))::jsonb $$`,
};
function planPreparation(profile, snapshot, toc, target) {
    const needed = new Set([...snapshot.roles, ...snapshot.policies.flatMap((p) => p.roles)]);
    for (const e of toc)
        if (e.owner)
            needed.add(e.owner);
    if (profile === 'supabase')
        API_ROLES.forEach((r) => needed.add(r));
    needed.delete('public');
    const missing = [...needed].filter((r) => !target.roles.has(r)).sort();
    const plan = {
        profile,
        steps: [],
        roles: [],
        schemas: [],
        functions: [],
        skipped: [],
        skippedExtensions: [],
        missingRoles: profile === 'supabase' ? [] : missing,
    };
    if (profile !== 'supabase')
        return plan;
    for (const role of missing) {
        plan.roles.push(role);
        plan.steps.push({ sql: createRole(role, target.superuser), creates: `role ${role}` });
    }
    const archiveSchemas = new Set(toc.filter((e) => e.desc === 'SCHEMA').map((e) => e.tag));
    // Only what neither the archive nor the server brings: creating it twice would fail the restore.
    for (const schema of new Set(['auth', ...snapshot.schemas])) {
        if (schema === 'public' || archiveSchemas.has(schema) || target.schemas.has(schema))
            continue;
        plan.schemas.push(schema);
        plan.steps.push({
            sql: `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`,
            creates: `schema ${schema}`,
        });
    }
    if (plan.schemas.includes('auth')) {
        const roles = API_ROLES.map(quoteIdent).join(', ');
        plan.steps.push({ sql: `GRANT USAGE ON SCHEMA auth TO ${roles}`, creates: 'usage on schema auth' });
        for (const [name, sql] of Object.entries(AUTH_STUBS)) {
            if (target.functions.has(name))
                continue;
            plan.functions.push(name);
            plan.steps.push({ sql, creates: `function ${name}` });
        }
    }
    planSkips(plan, snapshot, toc, target, archiveSchemas);
    return plan;
}
function createRole(role, superuser) {
    const attributes = ['NOLOGIN'];
    if (API_ROLES.includes(role))
        attributes.push('NOINHERIT');
    // Supabase's service_role bypasses row-level security; only a superuser may grant that.
    if (role === 'service_role' && superuser)
        attributes.push('BYPASSRLS');
    // A concurrent drill on the same server may create it first; roles are server-wide.
    return `DO $lifeboat$ BEGIN CREATE ROLE ${quoteIdent(role)} ${attributes.join(' ')};
EXCEPTION WHEN duplicate_object THEN NULL; END $lifeboat$`;
}
/** Entries that cannot exist on this server: left out of the restore and reported one by one. */
function planSkips(plan, snapshot, toc, target, archiveSchemas) {
    const goneSchemas = new Map();
    for (const e of toc) {
        if (e.desc !== 'EXTENSION' || target.availableExtensions.has(e.tag))
            continue;
        plan.skippedExtensions.push(e.tag);
        const platform = e.tag in PLATFORM_EXTENSIONS;
        const own = snapshot.extensions.find((x) => x.name === e.tag)?.schema;
        for (const s of [...(PLATFORM_EXTENSIONS[e.tag] ?? []), ...(own ? [own] : [])]) {
            if (!archiveSchemas.has(s) && !target.schemas.has(s) && !plan.schemas.includes(s))
                goneSchemas.set(s, e.tag);
        }
        skip(plan, e, `${platform ? 'a Supabase platform extension' : 'an extension'} this server does not have`);
    }
    const skippedExt = new Set(plan.skippedExtensions);
    for (const e of toc) {
        if (e.desc === 'EXTENSION')
            continue;
        const about = /^(?:EXTENSION|SCHEMA) (.+)$/.exec(e.namespace ? '' : e.tag)?.[1];
        if (e.desc === 'COMMENT' && about && e.tag.startsWith('EXTENSION ') && skippedExt.has(about)) {
            skip(plan, e, `comments on the skipped extension ${about}`);
        }
        else if (e.namespace && goneSchemas.has(e.namespace)) {
            skip(plan, e, `lives in schema ${e.namespace}, which only extension ${goneSchemas.get(e.namespace)} creates`);
        }
        else if (about && e.tag.startsWith('SCHEMA ') && goneSchemas.has(about)) {
            skip(plan, e, `applies to schema ${about}, which only extension ${goneSchemas.get(about)} creates`);
        }
        else if (e.desc === 'SECURITY LABEL' && skippedExt.has('pgsodium')) {
            skip(plan, e, 'a pgsodium security label, and pgsodium is skipped');
        }
        else if (e.desc === 'EVENT TRIGGER' && !target.superuser) {
            skip(plan, e, 'event triggers need a superuser, and the target-url user is not one');
        }
    }
}
function skip(plan, entry, reason) {
    plan.skipped.push({ id: entry.id, entry: describeEntry(entry), reason });
}

;// CONCATENATED MODULE: ./src/postgres/restore.ts





/**
 * pg_restore behind a small interface: the right binary for the archive, a parallel
 * restore that stops at the first error, and that error turned into the object that
 * failed and what to do about it.
 */
/** `15.18` → 15; the major a pg_restore must reach to read the archive. */
function dumpMajor(pgDumpVersion) {
    return Number(/^(\d+)/.exec(pgDumpVersion)?.[1] ?? 0);
}
async function findPgRestore(finder, pgDumpVersion) {
    try {
        return await finder.forServer('pg_restore', dumpMajor(pgDumpVersion), pgDumpVersion);
    }
    catch (error) {
        if (!(0,src_errors/* isLifeboatError */.rx)(error, 'tools'))
            throw error;
        throw new src_errors/* LifeboatError */.H3('tools', `This backup was written by pg_dump ${pgDumpVersion}; reading it needs pg_restore ${dumpMajor(pgDumpVersion)} or newer. ${error.message}`, { hint: error.hint, cause: error });
    }
}
/** One job per core: pg_restore's workers each load a table or build an index. */
function restoreJobs() {
    return Math.max(1, external_node_os_default().availableParallelism());
}
/** The table of contents of an archive file, as `pg_restore --list` prints it. */
async function listArchive(tool, file) {
    const child = startChild(tool.path, ['--list', file], {
        label: `pg_restore ${tool.version} --list`,
        code: 'integrity',
        stdio: ['ignore', 'pipe', 'pipe'],
        hint: 'The archive decrypted and decompressed but pg_restore cannot read its table of contents.',
    });
    let listing = '';
    child.process.stdout.setEncoding('utf8');
    child.process.stdout.on('data', (text) => (listing += text));
    await child.done;
    return listing;
}
function pgRestoreArgs(options) {
    const args = [
        `--dbname=${options.target.database}`,
        // "errors ignored on restore" means lost objects; a drill must stop at the first.
        '--exit-on-error',
        `--jobs=${options.jobs}`,
        '--no-password',
    ];
    if (options.listFile)
        args.push(`--use-list=${options.listFile}`);
    args.push(options.file);
    return args;
}
async function runPgRestore(options) {
    const { tool, mask } = options;
    const child = startChild(tool.path, pgRestoreArgs(options), {
        label: `pg_restore ${tool.version}`,
        code: 'restore',
        env: libpqEnv(options.target),
        stdio: ['ignore', 'ignore', 'pipe'],
        mask,
    });
    try {
        await child.done;
    }
    catch (error) {
        const stderr = child.stderr();
        throw stderr ? explainRestoreFailure(stderr, options.profile) : error;
    }
}
/**
 * Reads pg_restore's stderr for the statement that failed and why. pg_restore names the TOC
 * entry only in verbose mode, so the object usually comes from the failed command. The
 * message names the object; the hint says what to change.
 */
function explainRestoreFailure(stderr, profile) {
    const lines = stderr.split('\n');
    const entryLine = lines.find((l) => /from TOC entry \d+;/.test(l));
    const entry = entryLine ? parseErrorEntry(entryLine.replace(/^.*from TOC entry /, '')) : undefined;
    const errorAt = lines.findIndex((l) => /error:/.test(l) && !/worker process died/.test(l));
    const errorLine = errorAt >= 0 ? lines[errorAt] : (lines.find((l) => l.trim()) ?? stderr);
    const reason = (/ERROR:\s+(.*)$/.exec(errorLine)?.[1] ?? errorLine.replace(/^pg_restore:\s*(error:\s*)?/, ''))
        .trim()
        .replace(/\.$/, '');
    const commandAt = lines.findIndex((l) => l.startsWith('Command was: '));
    const commandEnd = lines.findIndex((l, i) => i > commandAt && (!l.trim() || l.startsWith('pg_restore:')));
    const command = commandAt >= 0
        ? lines
            .slice(commandAt, commandEnd < 0 ? undefined : commandEnd)
            .join(' ')
            .replace(/^Command was: /, '')
            .replace(/\s+/g, ' ')
            .trim()
        : '';
    const object = entry ? describeEntry(entry) : objectOfCommand(command);
    const where = object ? ` at ${object}` : '';
    const shown = command
        ? `\nCommand was: ${command.length > 300 ? `${command.slice(0, 300)}…` : command}`
        : '';
    const fail = (hint) => new src_errors/* LifeboatError */.H3('restore', `pg_restore stopped${where}: ${reason}.${shown}`, { hint });
    const role = /role "([^"]+)" does not exist/.exec(reason)?.[1];
    if (role) {
        return fail(profile === 'postgres'
            ? `The backup needs role "${role}", which this server lacks (a dump never carries roles). Use profile \`supabase\` or \`auto\` (the default), which creates the roles a Supabase database expects, or create the role on the target server first.`
            : `The backup needs role "${role}", which this server lacks. Create it on the target server first.`);
    }
    const extension = /extension "([^"]+)" is not available/.exec(reason)?.[1] ??
        /extension control file "[^"]*\/([^/"]+)\.control"/.exec(reason)?.[1];
    if (extension) {
        return fail(`Extension ${extension} is not installed on the target server. Restore into a server that has it (for Supabase, the supabase/postgres image of the same major version), or use profile \`supabase\`, which skips platform-only extensions with a warning.`);
    }
    if (/violates foreign key constraint/.test(reason)) {
        return fail('The backup holds rows whose referenced row is missing (FK orphans), so the constraint cannot be added. Find them in the source with a NOT EXISTS query and fix the data; this backup cannot be restored as it is.');
    }
    if (/(schema|function|type|relation) .* does not exist/.test(reason)) {
        return fail('The backup refers to an object it does not contain: usually one a platform schema or an extension provides. Restore into a server that has it (supabase/postgres for Supabase), or use profile `supabase`.');
    }
    if (/already exists/.test(reason)) {
        return fail('The database restored into was not empty; restore into a fresh database.');
    }
    if (/permission denied|must be (superuser|owner)|must be member of role/.test(reason)) {
        return fail('The target-url user lacks a privilege the restore needs. Use a superuser of the target server (a `services: postgres` container gives you one).');
    }
    if (/No space left on device|could not extend file/.test(reason)) {
        return fail('The target server ran out of disk space; give it more room.');
    }
    return fail('Nothing of the backup can be trusted to restore until this is fixed; the message above names the cause.');
}
/** `CREATE POLICY "p" ON public.t …` → `policy "p" on public.t`; the first words otherwise. */
function objectOfCommand(command) {
    if (!command)
        return '';
    const policy = /^CREATE POLICY (".+?"|\S+) ON (\S+)/i.exec(command);
    if (policy)
        return `policy ${policy[1]} on ${policy[2]}`;
    const grant = /^(GRANT|REVOKE) .*? ON (.+?) (TO|FROM) /i.exec(command);
    if (grant)
        return `${grant[1].toUpperCase()} on ${grant[2]}`;
    const owner = /^ALTER (.+?) OWNER TO /i.exec(command);
    if (owner)
        return `owner of ${owner[1]}`;
    const made = /^(?:CREATE|ALTER|COMMENT ON) (?:OR REPLACE |UNIQUE |IF NOT EXISTS )*((?:MATERIALIZED )?\w+) (?:IF NOT EXISTS )?(?:ONLY )?([^\s(]+)/i.exec(command);
    if (made)
        return `${made[1].toLowerCase()} ${made[2]}`;
    return command.split(' ').slice(0, 6).join(' ');
}

;// CONCATENATED MODULE: ./src/modes/drill.ts

























const STEPS = {
    manifest: 'Read the manifest and its catalog snapshot',
    connect: 'Connect to the target server, find pg_restore',
    fetch: 'Fetch, check SHA-256, decrypt, decompress',
    index: 'Index the archive for parallel restore',
    create: 'Create the drill database',
    prepare: 'Prepare for the profile',
    settings: 'Replay database settings',
    restore: 'pg_restore',
    verify: 'Verify against the catalog snapshot',
};
/**
 * A whole restore drill, unattended: fetch and prove the backup, restore it into a fresh
 * database on a throwaway server, compare it with what the backup recorded, then tell the
 * team. Throws when the drill failed, after reporting.
 */
async function runDrill(settings, ctx) {
    const { log } = ctx;
    const env = ctx.env ?? process.env;
    const steps = new DrillSteps(log);
    const state = {
        startedAt: new Date(),
        clock: performance.now(),
        rpoSeconds: null,
        rtoSeconds: null,
        jobs: restoreJobs(),
        result: emptyComparison(),
    };
    const temp = await (0,tempfiles/* createPrivateTempDir */.fb)('lifeboat-drill-', env);
    // A cancelled job must not leave a drill database behind on a server that outlives it.
    const release = (0,interrupt/* onInterrupt */.n)(() => cleanUp(settings, state, log));
    try {
        await drill(settings, ctx, steps, state, temp.file('backup.dump'), temp.file('restore.list'));
    }
    catch (error) {
        // A step that failed has recorded it; anything else failed between steps.
        steps.failure ??= { step: 'drill', error };
    }
    finally {
        steps.skipRest(Object.values(STEPS));
        await cleanUp(settings, state, log);
        release();
        await temp.remove();
    }
    const report = buildReport(settings, state, steps, env, log);
    const file = await publishDrill(report, {
        ...ctx,
        env,
        githubToken: settings.githubToken,
        manifest: state.manifest,
    });
    if (report.status === 'failed')
        throw drillFailed(report, file);
    log.info(`Restore drill passed: restored and verified in ${report.rtoSeconds}s.`);
    return report;
}
async function drill(settings, ctx, steps, s, dumpFile, listFile) {
    const { log, store } = ctx;
    const keys = decryptKeys(settings.keys);
    let sqlChecks = [];
    const manifest = await steps.run(STEPS.manifest, async (step) => {
        const manifest = await resolveManifest(store, settings.name, settings.backupId);
        s.manifest = manifest;
        s.rpoSeconds = Math.max(0, (s.startedAt.getTime() - Date.parse(manifest.completedAt)) / 1000);
        s.expected = await readExpectedCatalog(manifest, keys);
        if (settings.verifySql)
            sqlChecks = splitSqlChecks(await readVerifySql(settings.verifySql));
        step.note(`backup ${manifest.backupId} (level ${manifest.verification.level}), ${s.expected.tables.length} tables recorded`);
        return manifest;
    });
    const expected = s.expected;
    const database = drillDatabaseName(manifest.backupId);
    const drillTarget = withDatabase(settings.target, database);
    // Fetching the archive needs no server and creating the drill database needs no archive:
    // they run side by side. A failed create stops the fetch; a failed fetch lets the short
    // create finish, and the cleanup drops what it made.
    const stop = new AbortController();
    const fetching = (async () => {
        await steps.run(STEPS.fetch, async (step) => {
            const got = await fetchDump({ store, manifest, keys, file: dumpFile, log, signal: stop.signal });
            step.note(`${formatBytes(got.sizeBytes)} fetched, SHA-256 matches; ${formatBytes(got.dumpBytes)} of dump`);
        }, stop.signal);
        await steps.run(STEPS.index, async (step) => {
            const { patched, reason } = addDataOffsets(dumpFile);
            step.note(patched ? `data positions recorded for ${patched} entries` : (reason ?? 'nothing to do'));
        });
    })();
    const creating = (async () => {
        await steps.run(STEPS.connect, async (step) => {
            const { client, server } = await openClient(settings.target, 'target-url');
            s.admin = client;
            s.server = server;
            s.serverVersion = server.version;
            s.tool = await findPgRestore(createToolFinder({ binDir: settings.pgBinDir }), manifest.source.pgDumpVersion);
            s.pgRestore = s.tool.version;
            if (server.major < manifest.source.serverMajor) {
                log.warning(`The backup comes from PostgreSQL ${manifest.source.serverVersion} and the target runs ${server.version}; restoring into an older major may fail. Drill into PostgreSQL ${manifest.source.serverMajor} or newer.`);
            }
            step.note(`PostgreSQL ${server.version} at ${describeTarget(settings.target)}; pg_restore ${s.tool.version}`);
        });
        await steps.run(STEPS.create, async (step) => {
            // A signal during CREATE DATABASE waits for it, so the cleanup knows whether to drop.
            s.creating = createDrillDatabase(s.admin, database, settings.target);
            await s.creating;
            s.database = database;
            const { client } = await openClient(drillTarget, 'target-url');
            try {
                await assertEmpty(client, database);
            }
            finally {
                await client.end().catch(() => undefined);
            }
            step.note(database);
        });
    })();
    creating.catch(() => stop.abort());
    const [fetched, created] = await Promise.allSettled([fetching, creating]);
    if (created.status === 'rejected')
        throw created.reason;
    if (fetched.status === 'rejected')
        throw fetched.reason;
    let db;
    try {
        const listing = await steps.run(STEPS.prepare, async (step) => {
            // Connected only now: a connection left idle through a long fetch may be cut by an idle timeout.
            const client = (await openClient(drillTarget, 'target-url')).client;
            db = client;
            const listing = await listArchive(s.tool, dumpFile);
            const toc = parseToc(listing);
            const { profile, reason } = detectProfile(expected, settings.profile);
            s.profileReason = reason;
            log.info(`Profile ${profile}: ${reason}.`);
            const state = await readTargetState(client);
            s.prep = planPreparation(profile, expected, toc, state);
            await applyPreparation(client, s.prep, state, log);
            step.note(`profile ${profile}; ${toc.length} archive entries, ${s.prep.steps.length} preparations, ${s.prep.skipped.length} skipped`);
            return listing;
        });
        await steps.run(STEPS.settings, async (step) => {
            const n = await replaySettings(db, database, expected.databaseSettings, 'before', log);
            step.note(`${n} of ${expected.databaseSettings.length} settings`);
        });
        await steps.run(STEPS.restore, async (step) => {
            const skip = new Set(s.prep.skipped.map((e) => e.id));
            if (skip.size)
                await (0,tempfiles/* writePrivateFile */.Pl)(listFile, commentOut(listing, skip));
            const watch = watchRestore(s.admin, database, log);
            let bytes = 0;
            try {
                await runPgRestore({
                    tool: s.tool,
                    target: drillTarget,
                    file: dumpFile,
                    jobs: s.jobs,
                    listFile: skip.size ? listFile : undefined,
                    profile: s.prep.profile,
                    mask: (t) => log.mask(t),
                });
            }
            finally {
                bytes = await watch.stop();
            }
            // The plaintext dump is no longer needed: it leaves the disk before verification starts.
            await (0,external_node_fs_promises_.rm)(dumpFile, { force: true });
            await replaySettings(db, database, expected.databaseSettings, 'after', log);
            step.note(`${s.jobs} parallel jobs; the database holds ${formatBytes(bytes)}`);
        });
    }
    finally {
        await db?.end().catch(() => undefined);
    }
    const verified = await steps.run(STEPS.verify, async (step) => {
        const { result } = await verifyRestore({
            target: drillTarget,
            expected,
            migrationsTable: manifest.migration?.table ?? DEFAULT_MIGRATIONS_TABLE,
            sqlChecks,
            jobs: s.jobs,
            log,
            skippedExtensions: s.prep.skippedExtensions,
            prepared: { schemas: s.prep.schemas, functions: s.prep.functions },
        });
        const failed = errorsOf(result.checks).length;
        step.note(`${failed} failed, ${result.checks.length - failed} warnings`);
        return result;
    });
    s.result = verified;
    s.rtoSeconds = (performance.now() - s.clock) / 1000;
}
function cleanUp(settings, s, log) {
    s.cleaning ??= dropAndDisconnect(settings, s, log);
    return s.cleaning;
}
async function dropAndDisconnect(settings, s, log) {
    await s.creating?.catch(() => undefined);
    if (s.admin && s.database) {
        if (settings.keepDatabase) {
            log.info(`Kept the drill database (keep-database): ${describeTarget(withDatabase(settings.target, s.database))}.`);
        }
        else {
            await dropDrillDatabase(s.admin, s.database, s.server?.major ?? 13).then(() => log.info(`Dropped the drill database ${s.database}.`), (error) => log.warning(`Could not drop the drill database ${s.database}: ${(0,src_errors/* describeError */.Uc)(error)}`));
        }
    }
    await s.admin?.end().catch(() => undefined);
}
async function readVerifySql(file) {
    return (0,external_node_fs_promises_.readFile)(file, 'utf8').catch((error) => {
        throw new src_errors/* LifeboatError */.H3('input', `Input \`verify-sql\` names ${file}, which cannot be read (${error.code ?? error.message}).`, {
            hint: 'Give a path relative to the repository root, for example `supabase/drill-checks.sql`, and check out the repository first.',
        });
    });
}

;// CONCATENATED MODULE: ./src/gate/comment.ts



/**
 * Keeps the gate's one sticky comment on the pull request up to date. The comment is a
 * courtesy next to the job summary, so nothing here fails the gate: a fork's read-only
 * token, a missing permission or a GitHub outage each leave a log line and the summary.
 */
async function updateGateComment(options) {
    const { pullRequest: pr, log } = options;
    if (!pr)
        return { posted: false, why: 'not-a-pull-request' };
    // Under pull_request a fork's token is read-only: asking would only earn a 403.
    if (pr.fromFork && pr.event === 'pull_request') {
        log.info(`Pull request #${pr.number} comes from a fork, whose workflow token cannot comment; the verdict is in the job summary.`);
        return { posted: false, why: 'fork' };
    }
    const github = githubContextFromEnv(options.token, options.env);
    if (!github) {
        log.info('No `github-token` (or no GITHUB_REPOSITORY): the verdict is in the job summary only.');
        return { posted: false, why: 'no-token' };
    }
    try {
        const body = `${Markers.GateComment}\n${options.markdown}`;
        const { url, created } = await upsertStickyComment(github, pr.number, Markers.GateComment, body);
        log.info(`${created ? 'Commented' : 'Updated the comment'} on pull request #${pr.number}: ${url}`);
        return { posted: true, url, created };
    }
    catch (error) {
        if (error instanceof GitHubPermissionError) {
            log.info(`Not commenting on pull request #${pr.number}: ${(0,src_errors/* describeError */.Uc)(error)}`);
            return { posted: false, why: 'permission' };
        }
        log.warning(`Could not comment on pull request #${pr.number}: ${(0,src_errors/* describeError */.Uc)(error)}`);
        return { posted: false, why: 'error' };
    }
}

;// CONCATENATED MODULE: ./src/gate/migrations.ts
/**
 * Migration files in the repository and which of them production has not applied yet.
 * Supabase names them `<version>_<name>.sql` with a 14-digit timestamp as the version;
 * other tools use shorter counters, so any run of leading digits is a version.
 */
const FILE_PATTERN = /^(\d+)(?:_(.*))?\.sql$/i;
/** The version and name of a migration file, or undefined when the name carries no version. */
function parseMigrationFile(file) {
    const match = FILE_PATTERN.exec(file);
    if (!match)
        return undefined;
    return { version: match[1], name: match[2] ?? '', file };
}
/**
 * Orders versions as numbers, not text, so `9` comes before `10`; BigInt because a
 * version may be longer than the 15 digits a float holds exactly.
 */
function compareVersions(a, b) {
    const digits = /^\d+$/;
    if (digits.test(a) && digits.test(b)) {
        const x = BigInt(a);
        const y = BigInt(b);
        return x < y ? -1 : x > y ? 1 : 0;
    }
    // A migrations table may hold non-numeric versions (a custom table); text order is all we have.
    return a < b ? -1 : a > b ? 1 : 0;
}
/**
 * Which repository migrations are newer than `baseline` (the latest applied version).
 * A null baseline means nothing is applied yet: every file is pending.
 */
function pendingMigrations(fileNames, baseline, source) {
    const files = [];
    const unversioned = [];
    for (const name of fileNames) {
        if (!/\.sql$/i.test(name))
            continue;
        const parsed = parseMigrationFile(name);
        if (!parsed)
            unversioned.push(name);
        else if (baseline === null || compareVersions(parsed.version, baseline) > 0)
            files.push(parsed);
    }
    files.sort((a, b) => compareVersions(a.version, b.version) || a.file.localeCompare(b.file));
    return { files, baseline, source, unversioned: unversioned.sort() };
}

;// CONCATENATED MODULE: ./src/gate/evaluate.ts



/**
 * The gate's decision, apart from every read it depends on: is there a backup we could
 * restore right now, taken after the last migration production applied? Each check is
 * judged and kept for the report; the first failing one becomes the one-sentence reason.
 */
/** Clocks on different machines drift a little; beyond this a backup "from the future" is a wrong clock. */
const CLOCK_SKEW_TOLERANCE_SECONDS = 300;
const RUN_BACKUP = 'Run the backup workflow (mode: backup) now, then re-run this job.';
function evaluateGate(input) {
    const { manifest } = input;
    if (input.unreadable) {
        const { message, hint, backupId } = input.unreadable;
        return { ...evaluate_verdict(input, [{ name: 'backup', ok: false, detail: message, hint }]), backupId };
    }
    if (!manifest) {
        const detail = `The store ${input.store} holds no backup of "${input.name}".`;
        const hint = `${RUN_BACKUP} Check that \`store\` and \`name\` match the backup workflow's.`;
        return evaluate_verdict(input, [{ name: 'backup', ok: false, detail, hint }]);
    }
    const id = manifest.backupId;
    const created = Date.parse(manifest.createdAt);
    if (Number.isNaN(created)) {
        const detail = `The manifest of backup ${id} has no valid creation time ("${manifest.createdAt}"), so its age is unknown.`;
        return evaluate_verdict(input, [{ name: 'backup', ok: false, detail, hint: RUN_BACKUP }]);
    }
    const ahead = (created - input.now.getTime()) / 1000;
    const ageSeconds = Math.max(0, Math.floor(-ahead));
    const checks = [
        { name: 'backup', ok: true, detail: `Newest backup of "${input.name}" is ${id}.` },
        clockCheck(id, manifest.createdAt, input.now, ahead),
        archiveCheck(manifest, input.archivePresent),
        ageCheck(id, ageSeconds, input.maxAgeSeconds, ahead),
        levelCheck(id, manifest.verification.level, input.require),
        migrationCheck(manifest, input.productionMigration, input.productionUnreadable),
    ];
    const skewed = ahead > CLOCK_SKEW_TOLERANCE_SECONDS;
    return { ...evaluate_verdict(input, checks), backupId: id, ageSeconds: skewed ? undefined : ageSeconds };
}
function evaluate_verdict(input, checks) {
    const failed = checks.find((c) => c.ok === false);
    if (failed)
        return { fresh: false, reason: failed.detail, hint: failed.hint, checks };
    return { fresh: true, reason: freshReason(input, checks), checks };
}
function freshReason(input, checks) {
    const m = input.manifest;
    const age = formatDuration(Math.max(0, Math.floor((input.now.getTime() - Date.parse(m.createdAt)) / 1000)));
    const p = input.productionMigration;
    const tail = !p
        ? "production's migrations were not checked (no `database-url`)"
        : !p.exists
            ? `neither production nor the backup has a migrations table ${p.table}`
            : `it holds production's latest migration ${p.latestVersion ?? '(none applied)'}`;
    const archive = checks.find((c) => c.name === 'archive')?.ok === undefined ? ' (archive not checked)' : '';
    return `Backup ${m.backupId} is ${age} old (max ${formatDuration(input.maxAgeSeconds)}), verified "${m.verification.level}" (requires "${input.require}")${archive}, and ${tail}.`;
}
function clockCheck(id, createdAt, now, ahead) {
    if (ahead <= CLOCK_SKEW_TOLERANCE_SECONDS)
        return { name: 'clock', ok: true, detail: 'Creation time is not in the future.' };
    return {
        name: 'clock',
        ok: false,
        detail: `Backup ${id} was created at ${createdAt}, ${formatDuration(ahead)} after this runner's clock (${now.toISOString()}): one of the two clocks is wrong, so the backup's age cannot be trusted.`,
        hint: 'Check the clocks of the machine that took the backup and of this runner (both should sync with NTP); a backup taken with a correct clock passes.',
    };
}
function archiveCheck(manifest, present) {
    const key = manifest.archive.key;
    if (present === undefined) {
        return {
            name: 'archive',
            ok: undefined,
            detail: `Not checked: the store could not say whether ${key} exists.`,
        };
    }
    if (present)
        return { name: 'archive', ok: true, detail: `Archive ${key} is in the store.` };
    return {
        name: 'archive',
        ok: false,
        detail: `Backup ${manifest.backupId} has a manifest but its archive ${key} is missing from the store, so it cannot be restored.`,
        hint: `${RUN_BACKUP} Then find out what removed the archive (retention, cache eviction, a manual delete).`,
    };
}
function ageCheck(id, ageSeconds, maxAgeSeconds, ahead) {
    const max = formatDuration(maxAgeSeconds);
    // A future time was judged by the clock check; saying "0s old" on top would mislead.
    if (ahead > CLOCK_SKEW_TOLERANCE_SECONDS)
        return { name: 'age', ok: undefined, detail: 'Unknown: see the clock.' };
    if (ageSeconds <= maxAgeSeconds)
        return { name: 'age', ok: true, detail: `${formatDuration(ageSeconds)} old (max ${max}).` };
    return {
        name: 'age',
        ok: false,
        detail: `The newest backup ${id} is ${formatDuration(ageSeconds)} old, older than \`max-age\` ${max}.`,
        hint: RUN_BACKUP,
    };
}
function levelCheck(id, level, required) {
    if (levelAtLeast(level, required)) {
        return { name: 'level', ok: true, detail: `Verified "${level}" (requires "${required}").` };
    }
    const hint = required === 'restored'
        ? 'Only a restore drill proves "restored": run the drill workflow (mode: drill) on the newest backup, then re-run this job.'
        : 'Run the backup workflow (mode: backup) with `encryption-identity` (or the passphrase) so it reads the backup back to level "readable", then re-run this job.';
    return {
        name: 'level',
        ok: false,
        detail: `The newest backup ${id} is verified only as "${level}", below the required "${required}".`,
        hint,
    };
}
function migrationCheck(manifest, production, unreadable) {
    const name = 'migration';
    if (unreadable) {
        const detail = `Cannot read production's migrations: ${unreadable.message.replace(/\.$/, '')}.`;
        return { name, ok: false, detail, hint: unreadable.hint };
    }
    if (!production)
        return { name, ok: undefined, detail: 'Not checked: no `database-url` given.' };
    const backup = manifest.migration;
    const fail = (detail, hint = RUN_BACKUP) => ({ name, ok: false, detail, hint });
    const table = production.table;
    if (!production.exists && !backup) {
        return { name, ok: true, detail: `Neither production nor the backup has ${table}; nothing to compare.` };
    }
    if (!production.exists) {
        return fail(`The backup recorded migrations in ${backup.table}, but production has no table ${table}.`, 'Check `migrations-table`, and that `database-url` points at the database the backup workflow backs up.');
    }
    const prodLatest = production.latestVersion;
    const shown = (v) => v ?? '(none applied)';
    if (!backup) {
        return fail(`Production records migrations in ${table} (latest ${shown(prodLatest)}), but backup ${manifest.backupId} recorded none: it predates that table or was taken with another \`migrations-table\`.`);
    }
    if (backup.table !== table) {
        return fail(`Backup ${manifest.backupId} recorded migrations from ${backup.table}, but the gate read ${table}; the versions cannot be compared.`, 'Set `migrations-table` to the same table in the backup and gate workflows.');
    }
    const backupLatest = backup.latestVersion;
    if (backupLatest === prodLatest) {
        return { name, ok: true, detail: `Backup and production are both at migration ${shown(prodLatest)}.` };
    }
    const prodNewer = backupLatest === null || (prodLatest !== null && compareVersions(prodLatest, backupLatest) > 0);
    if (prodNewer) {
        return fail(`Backup ${manifest.backupId} holds migrations up to ${shown(backupLatest)}, but production has applied ${shown(prodLatest)} since: it was taken before the last migration, so it does not protect the next one.`);
    }
    return fail(`Backup ${manifest.backupId} holds migration ${shown(backupLatest)}, newer than production's latest ${shown(prodLatest)}: it comes from another database, or production was rolled back.`, 'Check that `database-url` and `name` point at the same database as the backup workflow, then take a new backup.');
}

;// CONCATENATED MODULE: ./src/gate/pull-request.ts

const PR_EVENTS = new Set(['pull_request', 'pull_request_target']);
/** The pull request in an event payload, or undefined for other events and odd payloads. */
function pullRequestFromEvent(eventName, payload) {
    if (!eventName || !PR_EVENTS.has(eventName))
        return undefined;
    const body = (payload ?? {});
    const pr = body.pull_request;
    const number = Number(pr?.number ?? body.number);
    if (!pr || !Number.isInteger(number) || number <= 0)
        return undefined;
    const head = fullName(pr.head?.repo);
    const base = fullName(pr.base?.repo);
    return {
        event: eventName,
        number,
        // A deleted fork leaves head.repo null: it was someone else's repository, so treat it as a fork.
        fromFork: head === undefined || base === undefined || head !== base,
    };
}
function fullName(repo) {
    return typeof repo?.full_name === 'string' ? repo.full_name.toLowerCase() : undefined;
}
/** Reads the runner's event file; undefined outside pull requests or when there is no file. */
async function readPullRequestContext(env) {
    const name = env.GITHUB_EVENT_NAME;
    const file = env.GITHUB_EVENT_PATH;
    if (!name || !PR_EVENTS.has(name) || !file)
        return undefined;
    const text = await (0,external_node_fs_promises_.readFile)(file, 'utf8');
    return pullRequestFromEvent(name, JSON.parse(text));
}

;// CONCATENATED MODULE: ./src/gate/read.ts







async function readNewestBackup(store, name) {
    let id;
    try {
        id = await (0,stores_store/* latestBackupId */.b5)(store, name);
    }
    catch (error) {
        return { unreadable: unreachable(store, error) };
    }
    if (!id)
        return {};
    try {
        return { manifest: await readManifest(store, name, id) };
    }
    catch (error) {
        if ((0,src_errors/* isLifeboatError */.rx)(error, 'format') || (0,src_errors/* isLifeboatError */.rx)(error, 'integrity')) {
            return { unreadable: { message: error.message, hint: error.hint, backupId: id } };
        }
        if ((0,src_errors/* isLifeboatError */.rx)(error, 'not-found')) {
            return {
                unreadable: {
                    message: `The manifest of the newest backup ${id} disappeared while the gate read it.`,
                    hint: 'A retention run may have removed it; re-run this job.',
                    backupId: id,
                },
            };
        }
        return { unreadable: unreachable(store, error) };
    }
}
function unreachable(store, error) {
    const why = error instanceof Error ? error.message : String(error);
    const hint = (0,src_errors/* isLifeboatError */.rx)(error) && error.hint ? error.hint : 'Check the `store` input and its credentials.';
    return { message: `Cannot read the store ${store.location}: ${why.replace(/\.$/, '')}.`, hint };
}
/** Whether the archive is stored; undefined (with a warning) when the store cannot say. */
async function archiveExists(store, key, log) {
    try {
        return await (0,stores_store/* keyExists */.gD)(store, key);
    }
    catch (error) {
        log.warning(`Could not check that ${key} is in the store: ${error.message}`);
        return undefined;
    }
}
/** The latest migration production has applied; connection failures explain themselves. */
async function readProductionMigration(target, table) {
    const { client } = await openClient(target, 'database-url');
    try {
        const info = await readMigration(client, table);
        return { table, exists: info !== null, latestVersion: info?.latestVersion ?? null };
    }
    finally {
        await client.end().catch(() => undefined);
    }
}
function describeFailure(error) {
    if ((0,src_errors/* isLifeboatError */.rx)(error))
        return { message: error.message, hint: error.hint };
    return { message: error instanceof Error ? error.message : String(error) };
}
/**
 * File names in `migrations-dir` (relative to the workspace), or undefined when there is
 * no such directory: a repository without migrations simply gets no list.
 */
async function readMigrationFiles(dir, env, log) {
    const where = external_node_path_default().resolve(env.GITHUB_WORKSPACE || process.cwd(), dir);
    try {
        const entries = await (0,external_node_fs_promises_.readdir)(where, { withFileTypes: true });
        return entries.filter((e) => e.isFile()).map((e) => e.name);
    }
    catch (error) {
        const code = error.code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR') {
            log.warning(`Could not list migrations in ${dir}: ${error.message}`);
        }
        return undefined;
    }
}

;// CONCATENATED MODULE: ./src/report/gate-summary.ts

/** More would drown the verdict; the repository has the full list. */
const MAX_LISTED = 30;
/**
 * The gate's report for the job summary and the pull-request comment: which migrations
 * this change will apply, which backup protects them, how old it is, how well it was
 * proven, and the verdict. Every value that may come from a pull request (file names)
 * is quoted so it cannot turn into markdown.
 */
function renderGateSummary(report) {
    const { verdict } = report;
    const icon = verdict.fresh ? '✅' : report.failOnStale ? '❌' : '⚠️';
    const title = verdict.fresh ? 'a fresh backup protects this change' : 'no fresh backup';
    const lines = [
        `### ${icon} Lifeboat gate: ${title}`,
        '',
        `> ${verdict.reason.replace(/\s*\n\s*/g, ' ')}`,
        '',
        '| Check | | Result |',
        '| --- | :---: | --- |',
        ...rows(report).map(([label, check, text]) => `| ${label} | ${mark(check)} | ${gate_summary_cell(text)} |`),
        ...pendingRow(report.pending),
        `| **Verdict** | ${verdict.fresh ? '✅' : '❌'} | ${verdict.fresh ? '**fresh**' : '**not fresh**'} |`,
        '',
        ...pendingSection(report),
    ];
    if (!verdict.fresh) {
        const hint = verdict.hint ? `**Fix:** ${verdict.hint}` : '';
        const mode = report.failOnStale ? '' : '_`fail-on-stale` is false: this is a warning, the job goes on._';
        lines.push(...[hint, mode].filter(Boolean).flatMap((l) => [l, '']));
    }
    return lines.join('\n');
}
function rows(report) {
    const { verdict, manifest: m } = report;
    const check = (name) => verdict.checks.find((c) => c.name === name);
    // A failed check explains itself; a passed one shows the facts.
    const text = (c, facts) => (c?.ok === false ? c.detail : facts);
    const backup = check('backup');
    if (!m || backup?.ok === false) {
        return [
            ['Backup', backup, backup?.ok === false ? backup.detail : `Set \`${report.name}\` in ${report.store}`],
        ];
    }
    const out = [['Backup', backup, `\`${m.backupId}\` of set \`${report.name}\` in ${report.store}`]];
    const clock = check('clock');
    if (clock?.ok === false)
        out.push(['Clock', clock, clock.detail]);
    const age = check('age');
    const ageText = verdict.ageSeconds === undefined
        ? 'unknown'
        : `${formatDuration(verdict.ageSeconds)} old (max ${formatDuration(report.maxAgeSeconds)})`;
    out.push(['Age', age, text(age, `${ageText}, taken ${m.createdAt}`)]);
    const level = check('level');
    out.push(['Verified', level, text(level, `${m.verification.level} (requires ${report.require})`)]);
    const migration = check('migration');
    out.push(['Migration', migration, text(migration, migrationFacts(m, report.productionMigration))]);
    const archive = check('archive');
    out.push([
        'Archive',
        archive,
        archive?.ok === true ? `\`${m.archive.key}\` is in the store` : (archive?.detail ?? ''),
    ]);
    return out;
}
function pendingRow(pending) {
    if (!pending)
        return [];
    const n = pending.files.length;
    const text = n === 0 ? 'none' : `${n === 1 ? '1 migration' : `${n} migrations`} (listed below)`;
    return [`| Pending migrations | | ${text} |`];
}
function migrationFacts(m, production) {
    const version = (v) => (v ? `\`${v}\`` : 'none');
    const inBackup = m.migration ? version(m.migration.latestVersion) : `no table`;
    const inProduction = !production
        ? 'not checked (no `database-url`)'
        : production.exists
            ? version(production.latestVersion)
            : `no table ${production.table}`;
    return `backup ${inBackup} · production ${inProduction}`;
}
function pendingSection(report) {
    const p = report.pending;
    if (!p)
        return [];
    const dir = `\`${code(report.migrationsDir)}\``;
    const since = p.source === 'none'
        ? ' (which of them production has applied is unknown: no `database-url` and no version in the backup)'
        : p.baseline === null
            ? ` (${p.source === 'production' ? 'production' : 'the backup'} records none applied)`
            : ` newer than ${p.source === 'production' ? "production's" : "the backup's"} \`${p.baseline}\``;
    const out = ['#### Migrations this change will apply', ''];
    if (p.files.length === 0) {
        out.push(`None: every migration in ${dir} is already applied.`, '');
    }
    else {
        const count = p.files.length === 1 ? '1 migration' : `${p.files.length} migrations`;
        out.push(`${count} in ${dir}${since}:`, '');
        for (const f of p.files.slice(0, MAX_LISTED))
            out.push(`- \`${code(f.file)}\``);
        if (p.files.length > MAX_LISTED)
            out.push(`- … and ${p.files.length - MAX_LISTED} more`);
        out.push('');
    }
    if (p.unversioned.length > 0) {
        const names = p.unversioned.slice(0, MAX_LISTED).map((n) => `\`${code(n)}\``);
        out.push(`Ignored (no leading version in the name): ${names.join(', ')}`, '');
    }
    return out;
}
function mark(check) {
    if (check?.ok === true)
        return '✅';
    if (check?.ok === false)
        return '❌';
    return '➖';
}
/** Inside a table cell a pipe ends the cell and a newline ends the table. */
function gate_summary_cell(text) {
    return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}
/** Inside a code span only a backtick can end it early. */
function code(text) {
    return text.replace(/`/g, "'").replace(/\r?\n/g, ' ');
}

;// CONCATENATED MODULE: ./src/modes/gate.ts








/**
 * Is there a backup we could restore right now, taken after the last migration production
 * applied? Reads manifests only (no archive, no key), so it runs in pull-request jobs
 * without secrets. Outputs, summary and comment are written before a stale verdict fails.
 */
async function runGate(settings, ctx) {
    const { log, store } = ctx;
    const env = ctx.env ?? process.env;
    const now = ctx.now ?? new Date();
    log.info(`Looking for a fresh backup of "${settings.name}" in ${store.location}.`);
    const newest = await readNewestBackup(store, settings.name);
    const archivePresent = newest.manifest
        ? await archiveExists(store, newest.manifest.archive.key, log)
        : undefined;
    let productionMigration;
    let productionUnreadable;
    if (settings.database) {
        try {
            productionMigration = await readProductionMigration(settings.database, settings.migrationsTable);
        }
        catch (error) {
            productionUnreadable = describeFailure(error);
        }
    }
    const verdict = evaluateGate({
        name: settings.name,
        store: store.location,
        manifest: newest.manifest,
        unreadable: newest.unreadable,
        now,
        maxAgeSeconds: settings.maxAgeSeconds,
        require: settings.require,
        productionMigration,
        productionUnreadable,
        archivePresent,
    });
    const files = await readMigrationFiles(settings.migrationsDir, env, log);
    const [baseline, source] = appliedBaseline(productionMigration, newest.manifest?.migration);
    const markdown = renderGateSummary({
        verdict,
        manifest: newest.manifest,
        name: settings.name,
        store: store.location,
        require: settings.require,
        maxAgeSeconds: settings.maxAgeSeconds,
        productionMigration,
        pending: files && pendingMigrations(files, baseline, source),
        migrationsDir: settings.migrationsDir,
        failOnStale: settings.failOnStale,
    });
    ctx.reporter.output(Outputs.Fresh, String(verdict.fresh));
    ctx.reporter.output(Outputs.BackupId, verdict.backupId ?? '');
    ctx.reporter.output(Outputs.AgeSeconds, verdict.ageSeconds === undefined ? '' : String(verdict.ageSeconds));
    ctx.reporter.output(Outputs.Reason, verdict.reason);
    await ctx.reporter.summary(markdown);
    const pullRequest = await pullRequestOf(env, log);
    await updateGateComment({ pullRequest, token: settings.githubToken, env, markdown, log });
    if (verdict.fresh) {
        log.info(verdict.reason);
    }
    else if (settings.failOnStale) {
        throw new src_errors/* LifeboatError */.H3('gate', verdict.reason, {
            hint: verdict.hint ?? 'Run the backup workflow (mode: backup) now, then re-run this job.',
        });
    }
    else {
        log.warning(`${verdict.reason} (fail-on-stale is false: reporting only.)`);
    }
    return verdict;
}
/**
 * What production has already applied, for the list of pending migrations: production's
 * own record when the gate could read it, else what the newest backup recorded.
 */
function appliedBaseline(production, backup) {
    if (production)
        return [production.exists ? production.latestVersion : null, 'production'];
    if (backup)
        return [backup.latestVersion, 'backup'];
    return [null, 'none'];
}
async function pullRequestOf(env, log) {
    try {
        return await readPullRequestContext(env);
    }
    catch (error) {
        log.warning(`Could not read the pull request from the workflow event: ${error.message}`);
        return undefined;
    }
}

;// CONCATENATED MODULE: ./src/restore/copy-back.ts

const liveRef = (t) => tableRef(t.schema, t.name);
const sideRef = (t) => tableRef(t.sideSchema, t.sideName);
/** Columns both tables have and the live one accepts writes to, in the backup's order. */
function copyColumns(t) {
    if (!t.live)
        return t.side.columns.filter((c) => !c.generated).map((c) => c.name);
    const live = new Map(t.live.columns.map((c) => [c.name, c]));
    return t.side.columns
        .filter((c) => !c.generated && live.has(c.name) && !live.get(c.name).generated)
        .map((c) => c.name);
}
/** The live primary key, when the restored copy has every column of it. */
function matchKey(t) {
    const pk = t.live?.primaryKey ?? [];
    const copied = new Set(copyColumns(t));
    return pk.length && pk.every((c) => copied.has(c)) ? pk : null;
}
const col = (alias, name) => `${alias}.${quoteIdent(name)}`;
const asText = (alias, names) => `ROW(${names.map((n) => `${col(alias, n)}::text`).join(', ')})`;
const keyJoin = (keyCols, a, b) => keyCols.map((k) => `${col(a, k)} = ${col(b, k)}`).join(' AND ');
/** SELECTs that show the differences, for review; each returns the rows themselves. */
function reviewQueries(t) {
    if (!t.live)
        return [];
    const cols = copyColumns(t);
    const keyCols = matchKey(t);
    if (!keyCols) {
        const rows = (alias, ref) => `SELECT ${asText(alias, cols)}::text AS row FROM ${ref} AS ${alias}`;
        return [
            {
                label: 'rows only in the backup',
                sql: `${rows('b', sideRef(t))}\nEXCEPT ALL\n${rows('l', liveRef(t))}`,
            },
            {
                label: 'rows only in the target',
                sql: `${rows('l', liveRef(t))}\nEXCEPT ALL\n${rows('b', sideRef(t))}`,
            },
        ];
    }
    const values = cols.filter((c) => !keyCols.includes(c));
    const pairs = values.map((c) => `${col('b', c)} AS ${quoteIdent(`backup ${c}`)}, ${col('l', c)} AS ${quoteIdent(`live ${c}`)}`);
    return [
        {
            label: 'rows only in the backup',
            sql: `SELECT b.* FROM ${sideRef(t)} AS b\nWHERE NOT EXISTS (SELECT 1 FROM ${liveRef(t)} AS l WHERE ${keyJoin(keyCols, 'l', 'b')})`,
        },
        {
            label: 'rows only in the target',
            sql: `SELECT l.* FROM ${liveRef(t)} AS l\nWHERE NOT EXISTS (SELECT 1 FROM ${sideRef(t)} AS b WHERE ${keyJoin(keyCols, 'b', 'l')})`,
        },
        {
            label: 'rows changed since the backup',
            sql: `SELECT ${[...keyCols.map((k) => col('b', k)), ...pairs].join(', ')}\nFROM ${sideRef(t)} AS b JOIN ${liveRef(t)} AS l ON ${keyJoin(keyCols, 'l', 'b')}\nWHERE ${values.length ? `${asText('b', values)} IS DISTINCT FROM ${asText('l', values)}` : 'false'}`,
        },
    ];
}
/** One query returning backup_rows, live_rows, only_in_backup, only_in_live and changed. */
function diffCountSql(t) {
    const backup = `(SELECT count(*) FROM ${sideRef(t)})`;
    if (!t.live)
        return `SELECT ${backup} AS backup_rows, NULL AS live_rows, NULL AS only_in_backup, NULL AS only_in_live, NULL AS changed`;
    const counts = reviewQueries(t).map((q) => `(SELECT count(*) FROM (${q.sql}) AS d)`);
    return `SELECT ${backup} AS backup_rows, (SELECT count(*) FROM ${liveRef(t)}) AS live_rows,
  ${counts[0]} AS only_in_backup,
  ${counts[1]} AS only_in_live,
  ${counts[2] ?? 'NULL'} AS changed`;
}
/** The upsert script, parents before the tables that reference them, in one transaction. */
function copyBackSql(tables, diffs, backupId) {
    const sideSchema = tables[0]?.sideSchema ?? `lifeboat_restore_${backupId}`;
    const out = [
        `-- Copy rows back from Lifeboat's selective restore of backup ${backupId}.`,
        `-- The backup's rows are in schema ${quoteIdent(sideSchema)}; no live table has been changed.`,
        '-- Review every statement (and the review queries), then run this file, for example with psql -f.',
        'BEGIN;',
    ];
    for (const t of orderByReferences(tables))
        out.push('', ...tableBlock(t, diffs.get(t)));
    out.push('', 'COMMIT;', '', `-- When you are done with the restored rows: DROP SCHEMA ${quoteIdent(sideSchema)} CASCADE;`);
    return out.join('\n');
}
function tableBlock(t, diff) {
    const name = `${t.schema}.${t.name}`;
    const cols = copyColumns(t);
    const list = cols.map(quoteIdent).join(', ');
    if (!t.live) {
        return [
            `-- ${name} does not exist in the target. Recreate it first (the migration that creates it), then:`,
            `-- INSERT INTO ${liveRef(t)} (${list})`,
            `--   SELECT ${list} FROM ${sideRef(t)};`,
            `-- Or move the restored copy in as it is (without its indexes, constraints, policies or grants):`,
            `-- ALTER TABLE ${sideRef(t)} SET SCHEMA ${quoteIdent(t.schema)};`,
        ];
    }
    const lines = [`-- ${name}: ${diffText(diff)}`];
    const liveCols = new Set(t.live.columns.map((c) => c.name));
    const sideOnly = t.side.columns.filter((c) => !c.generated && !liveCols.has(c.name)).map((c) => c.name);
    const sideCols = new Set(t.side.columns.map((c) => c.name));
    const liveOnly = t.live.columns.filter((c) => !c.generated && !sideCols.has(c.name)).map((c) => c.name);
    if (sideOnly.length)
        lines.push(`-- Columns only in the backup, not copied: ${sideOnly.join(', ')}.`);
    if (liveOnly.length)
        lines.push(`-- Columns only in the target, left as they are: ${liveOnly.join(', ')}.`);
    const overriding = t.live.columns.some((c) => c.identityAlways && cols.includes(c.name))
        ? '\nOVERRIDING SYSTEM VALUE'
        : '';
    const keyCols = matchKey(t);
    const triggers = t.live.triggers;
    if (triggers.length) {
        lines.push(`-- Its triggers fire on these writes (${triggers.join(', ')}). To write the backup's values exactly, uncomment both ALTER TABLE lines.`, `-- ALTER TABLE ${liveRef(t)} DISABLE TRIGGER USER;`);
    }
    const enable = triggers.length ? [`-- ALTER TABLE ${liveRef(t)} ENABLE TRIGGER USER;`] : [];
    if (!keyCols) {
        lines.push(`-- ${name} has no primary key to match rows on: this inserts the backup's rows that have no identical row in the target.`, `INSERT INTO ${liveRef(t)} (${list})${overriding}`, `SELECT ${cols.map((c) => col('b', c)).join(', ')} FROM ${sideRef(t)} AS b`, `WHERE NOT EXISTS (SELECT 1 FROM ${liveRef(t)} AS l WHERE ${asText('l', cols)}::text = ${asText('b', cols)}::text);`, ...enable);
        return lines;
    }
    const values = cols.filter((c) => !keyCols.includes(c));
    const conflict = values.length
        ? `ON CONFLICT (${keyCols.map(quoteIdent).join(', ')}) DO UPDATE SET\n  ${values.map((c) => `${quoteIdent(c)} = EXCLUDED.${quoteIdent(c)}`).join(',\n  ')}\nWHERE ${asText('l', values)} IS DISTINCT FROM ${asText('EXCLUDED', values)};`
        : `ON CONFLICT (${keyCols.map(quoteIdent).join(', ')}) DO NOTHING;`;
    lines.push(`INSERT INTO ${liveRef(t)} AS l (${list})${overriding}`, `SELECT ${cols.map((c) => col('b', c)).join(', ')} FROM ${sideRef(t)} AS b`, conflict, ...enable, '-- Rows only in the target are kept. To delete them too, uncomment:', `-- DELETE FROM ${liveRef(t)} AS l WHERE NOT EXISTS (SELECT 1 FROM ${sideRef(t)} AS b WHERE ${keyJoin(keyCols, 'b', 'l')});`);
    return lines;
}
function diffText(diff) {
    if (!diff)
        return 'not compared';
    const parts = [`${diff.backupRows} rows in the backup`];
    if (diff.liveRows != null)
        parts.push(`${diff.liveRows} in the target`);
    const d = [
        diff.onlyInBackup != null && `${diff.onlyInBackup} only in the backup`,
        diff.onlyInLive != null && `${diff.onlyInLive} only in the target`,
        diff.changed != null && `${diff.changed} changed`,
    ].filter(Boolean);
    return `${parts.join(', ')}${d.length ? `; ${d.join(', ')}` : ''}.`;
}
/** Referenced tables first, so foreign keys between the chosen tables hold as rows arrive. */
function orderByReferences(tables) {
    const byName = new Map(tables.map((t) => [`${t.schema}.${t.name}`, t]));
    const done = new Set();
    const visiting = new Set();
    const out = [];
    const visit = (t) => {
        if (done.has(t) || visiting.has(t))
            return; // a cycle keeps the given order
        visiting.add(t);
        for (const ref of t.live?.references ?? []) {
            const parent = byName.get(ref);
            if (parent && parent !== t)
                visit(parent);
        }
        visiting.delete(t);
        done.add(t);
        out.push(t);
    };
    tables.forEach(visit);
    return out;
}

;// CONCATENATED MODULE: ./src/restore/plan-text.ts

/**
 * The plan as plain lines for a log: what a person at a terminal reads before anything
 * happens. The job summary renders the same plan as markdown (report/restore-summary.ts).
 */
function renderPlanText(plan) {
    const b = plan.backup;
    const lines = [
        plan.dryRun ? 'Restore plan (dry run: nothing will be changed)' : 'Restore plan',
        `  Backup:  ${b.id} of "${b.name}", taken ${b.completedAt} (${formatDuration(b.ageSeconds)} ago), verified: ${b.level}`,
        `           of database ${b.database} on PostgreSQL ${b.serverVersion}, ${formatBytes(b.sizeBytes)} stored`,
        `  Target:  ${plan.target.where} (PostgreSQL ${plan.target.serverVersion})`,
        `  Kind:    ${kindText(plan)}`,
        `  Confirm: ${confirmText(plan)}`,
        '  Steps:',
        ...plan.steps.map((s, i) => `    ${i + 1}. ${s}`),
        plan.kind === 'full'
            ? '  Tables (rows in the backup; rows in the target now, which are replaced):'
            : '  Tables:',
        ...plan.tables.map((t) => `    ${tableText(plan, t)}`),
    ];
    if (plan.objects.length) {
        lines.push(`  Also restored: ${plan.objects.map((o) => `${o.count} ${o.label}`).join(', ')}.`);
    }
    if (plan.differences.length) {
        lines.push(`  What the restore changes besides rows (${plan.differences.length}):`);
        lines.push(...plan.differences.slice(0, 50).map((d) => `    - ${d}`));
        if (plan.differences.length > 50)
            lines.push(`    … and ${plan.differences.length - 50} more`);
    }
    else if (plan.kind === 'full') {
        lines.push('  Besides rows, the target has the same objects as the backup.');
    }
    if (plan.drops.length) {
        lines.push(`  In the target but not in the backup, dropped (the safety backup keeps them) (${plan.drops.length}):`);
        lines.push(...plan.drops.map((d) => `    - ${d.label}`));
    }
    if (plan.leftInPlace.length) {
        lines.push(`  In the target but not in the backup, kept: ${plan.leftInPlace.join('; ')}.`);
    }
    return lines;
}
function kindText(plan) {
    if (plan.kind === 'selective') {
        return `selective: ${plan.tables.length === 1 ? 'one table' : `${plan.tables.length} tables`} into the new schema "${plan.sideSchema}"; live tables are not touched`;
    }
    if (plan.emptyTarget)
        return `full, into ${plan.target.database}, which is empty: every object in the backup is created`;
    return `full: every object in the backup is dropped and recreated in ${plan.target.database}, after a safety backup named "${plan.safetyBackupName}"`;
}
function confirmText(plan) {
    const needed = `confirm: ${plan.confirm.needed}`;
    if (plan.dryRun) {
        if (!plan.confirm.given)
            return `the real run needs \`${needed}\``;
        return plan.confirm.matches
            ? `\`${needed}\` given; the real run will go ahead`
            : `"${plan.confirm.given}" given, which the real run would refuse: it needs \`${needed}\``;
    }
    return plan.confirm.given
        ? `\`${needed}\` given`
        : `type \`${plan.confirm.needed}\` at the prompt to go ahead`;
}
function tableText(plan, t) {
    const name = `${t.schema}.${t.name}`;
    const backup = t.backupRows == null ? 'rows not counted' : `${t.backupRows} rows`;
    const live = !t.liveExists
        ? 'not in the target'
        : t.liveRows == null
            ? 'in the target'
            : `${t.liveRows} in the target`;
    if (plan.kind === 'selective') {
        return `${name}: ${backup} → ${plan.sideSchema}.${t.sideName} (live table: ${live})`;
    }
    return `${name}: ${backup} (${live}${delta(t)})`;
}
function delta(t) {
    if (t.backupRows == null || t.liveRows == null)
        return '';
    const d = t.backupRows - t.liveRows;
    if (d === 0)
        return ', same count';
    return d > 0 ? `, ${d} more after the restore` : `, ${-d} fewer after the restore`;
}

;// CONCATENATED MODULE: ./src/report/restore-summary.ts




const TITLES = { passed: 'passed', failed: 'failed', 'dry-run': 'dry run, nothing changed' };
const MAX_ROWS = 100;
function renderRestoreSummary(report) {
    const { plan } = report;
    const b = plan.backup;
    const rows = [
        [
            'Backup',
            `\`${b.id}\` of \`${b.name}\`, taken ${b.completedAt} (${formatDuration(b.ageSeconds)} ago), verified: ${b.level}; database ${b.database}, PostgreSQL ${b.serverVersion}, ${formatBytes(b.sizeBytes)}`,
        ],
        ['Target', `${plan.target.where} (PostgreSQL ${plan.target.serverVersion})`],
        ['Kind', kindText(plan)],
        ['Confirm', confirmText(plan)],
        ['Store', report.store],
    ];
    if (report.safetyBackupId) {
        rows.push(['Safety backup', `\`${report.safetyBackupId}\` in set \`${plan.safetyBackupName}\``]);
    }
    const out = [
        `### Lifeboat restore: ${TITLES[report.status]}`,
        '',
        '| | |',
        '| --- | --- |',
        ...rows.map(([k, v]) => `| ${k} | ${restore_summary_cell(v)} |`),
        '',
    ];
    if (report.error)
        out.push('**What went wrong**', '', fence('text', report.error), '');
    if (report.unchanged && plan.kind === 'full')
        out.push('The restore stopped before it changed anything.', '');
    if (report.rollback)
        out.push('**Rolling back**', '', fence('text', report.rollback), '');
    out.push('#### Plan', '', ...plan.steps.map((s, i) => `${i + 1}. ${s}`), '');
    out.push(...tableSection(plan));
    if (plan.objects.length) {
        out.push(`Also restored: ${plan.objects.map((o) => `${o.count} ${o.label}`).join(', ')}.`, '');
    }
    out.push(...listSection('What the restore changes besides rows', plan.differences));
    out.push(...listSection('In the target but not in the backup, dropped (the safety backup keeps them)', plan.drops.map((d) => d.label)));
    out.push(...listSection('In the target but not in the backup, kept', plan.leftInPlace));
    if (report.status !== 'dry-run' && plan.kind === 'full')
        out.push(...verificationSection(report.checks));
    if (report.selective)
        out.push(...selectiveSection(report.selective));
    return out.join('\n');
}
function tableSection(plan) {
    const shown = plan.tables.slice(0, MAX_ROWS);
    const more = plan.tables.length - shown.length;
    return [
        plan.kind === 'full' ? '#### Tables replaced' : '#### Tables restored',
        '',
        ...shown.map((t) => `- ${restore_summary_cell(tableText(plan, t))}`),
        ...(more > 0 ? [`- … and ${more} more`] : []),
        '',
    ];
}
function listSection(title, items) {
    if (!items.length)
        return [];
    const shown = items.slice(0, MAX_ROWS).map((i) => `- ${restore_summary_cell(i)}`);
    if (items.length > MAX_ROWS)
        shown.push(`- … and ${items.length - MAX_ROWS} more`);
    return [`<details><summary>${title} (${items.length})</summary>`, '', ...shown, '', '</details>', ''];
}
function verificationSection(checks) {
    const errors = errorsOf(checks);
    const warnings = warningsOf(checks);
    const head = errors.length === 0
        ? `#### Verified: the target matches the backup's catalog${warnings.length ? ` (${warnings.length} warnings)` : ''}`
        : `#### Verification: ${errors.length} differences from the backup's catalog`;
    return [
        head,
        '',
        ...errors.slice(0, MAX_ROWS).map((c) => `- ❌ ${restore_summary_cell(c.message)}`),
        ...warnings.slice(0, MAX_ROWS).map((c) => `- ⚠️ ${restore_summary_cell(c.message)}`),
        '',
    ];
}
function selectiveSection(s) {
    return [
        `#### Compared with the live tables`,
        '',
        '| Table | Restored copy | Rows and differences |',
        '| --- | --- | --- |',
        ...s.tables.map((t) => `| ${restore_summary_cell(t.table)} | ${restore_summary_cell(t.side)} | ${restore_summary_cell(diffText(t.diff))} |`),
        '',
        '#### SQL to copy rows back (review it first; nothing has run)',
        '',
        fence('sql', s.copyBack),
        '',
        '<details><summary>Queries that list the differing rows</summary>',
        '',
        fence('sql', s.review.flatMap((r) => r.queries.map((q) => `-- ${r.table}: ${q.label}\n${q.sql};`)).join('\n\n')),
        '',
        '</details>',
        '',
    ];
}
/** A table cell: no pipes or line breaks to break the row. */
function restore_summary_cell(text) {
    return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
function fence(lang, text) {
    const ticks = text.includes('```') ? '````' : '```';
    return `${ticks}${lang}\n${text}\n${ticks}`;
}

;// CONCATENATED MODULE: ./src/restore/confirm.ts



/**
 * The guard in front of every restore that writes: the person must type the name of the
 * database they are about to change. A `confirm` input is checked before anything connects
 * to the target. At a terminal with no `confirm`, the person is asked once the plan has
 * been printed, so they type the name knowing what it will replace; either way nothing has
 * changed until it matches. A dry run changes nothing and needs no confirmation.
 *
 * Returns the accepted confirmation, or undefined when it is to be asked after the plan.
 */
function confirmFromInput(settings, canAsk) {
    if (settings.dryRun)
        return settings.confirm;
    if (!settings.confirm && canAsk)
        return undefined;
    checkConfirmation(settings, settings.confirm);
    return settings.confirm;
}
async function askConfirmation(settings, prompt) {
    const action = settings.tables.length ? 'restore tables into it' : 'restore over it';
    const given = (await prompt(`Type the database name (${settings.target.database}) to ${action}: `)).trim();
    checkConfirmation(settings, given);
    return given;
}
/** Pure: throws unless `given` is exactly the target database's name. */
function checkConfirmation(settings, given) {
    const needed = settings.target.database;
    if (given === needed)
        return;
    const where = describeTarget(settings.target);
    const what = settings.tables.length
        ? `restores ${settings.tables.length === 1 ? 'a table' : `${settings.tables.length} tables`} into a side schema of ${where}`
        : `replaces every object of the backup in ${where}`;
    const got = given
        ? `is "${given}", but the target database is "${needed}"`
        : `is empty; it must be the target database's name, "${needed}"`;
    throw new src_errors/* LifeboatError */.H3('confirm', `Refusing to restore: input \`${Inputs.Confirm}\` ${got}. This restore ${what}. Nothing was changed.`, {
        hint: `Type the name of the database you restore into: \`${Inputs.Confirm}: ${needed}\` in the workflow, or \`--${Inputs.Confirm} ${needed}\` on the command line. Run with \`${Inputs.DryRun}: true\` first to see what would change.`,
    });
}

;// CONCATENATED MODULE: ./src/restore/extras.ts

const SIDE_SCHEMA = /^lifeboat_restore_\d{8}_\d{6}_\d{3}_[0-9a-f]{8}$/;
function planDrops(expected, live) {
    const has = (list) => {
        const names = new Set(list.map((o) => `${o.schema}\u0000${o.name}`));
        return (o) => names.has(`${o.schema}\u0000${o.name}`);
    };
    const extensionSchemas = new Set(live.extensions.map((x) => x.schema));
    const backupSchemas = new Set(expected.schemas);
    const side = (schema) => SIDE_SCHEMA.test(schema);
    const drops = [];
    const kept = [];
    // Schemas first: one CASCADE takes what they hold, and the drops after them say IF EXISTS.
    for (const schema of live.schemas.filter((s) => !backupSchemas.has(s))) {
        if (side(schema))
            kept.push(`schema ${schema} (rows of an earlier selective restore)`);
        else if (extensionSchemas.has(schema))
            kept.push(`schema ${schema} (holds an extension)`);
        else
            drops.push({
                label: `schema ${schema} and everything in it`,
                sql: `DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`,
            });
    }
    const inBackupTables = has(expected.tables);
    for (const t of live.tables.filter((t) => !inBackupTables(t) && !side(t.schema))) {
        const rows = t.rows == null ? '' : ` (${t.rows} rows)`;
        drops.push({
            label: `table ${t.schema}.${t.name}${rows}`,
            sql: `DROP TABLE IF EXISTS ${tableRef(t.schema, t.name)} CASCADE`,
        });
    }
    const inBackupViews = has(expected.views);
    for (const v of live.views.filter((v) => !inBackupViews(v) && !side(v.schema))) {
        const kind = v.kind === 'm' ? 'MATERIALIZED VIEW' : 'VIEW';
        drops.push({
            label: `${kind.toLowerCase()} ${v.schema}.${v.name}`,
            sql: `DROP ${kind} IF EXISTS ${tableRef(v.schema, v.name)} CASCADE`,
        });
    }
    // A sequence owned by a column goes with its table; dropping it alone is refused.
    const inBackupSequences = has(expected.sequences);
    for (const s of live.sequences.filter((s) => !s.ownedBy && !inBackupSequences(s) && !side(s.schema))) {
        drops.push({
            label: `sequence ${s.schema}.${s.name}`,
            sql: `DROP SEQUENCE IF EXISTS ${tableRef(s.schema, s.name)} CASCADE`,
        });
    }
    const signature = (f) => `${f.schema}\u0000${f.name}(${f.args})`;
    const inBackupFunctions = new Set(expected.functions.map(signature));
    for (const f of live.functions.filter((f) => !inBackupFunctions.has(signature(f)) && !side(f.schema))) {
        const kind = f.kind === 'a' ? 'AGGREGATE' : 'ROUTINE';
        drops.push({
            label: `${f.kind === 'p' ? 'procedure' : f.kind === 'a' ? 'aggregate' : 'function'} ${f.schema}.${f.name}(${f.args})`,
            sql: `DROP ${kind} IF EXISTS ${tableRef(f.schema, f.name)}(${f.args}) CASCADE`,
        });
    }
    const backupExtensions = new Set(expected.extensions.map((x) => x.name));
    for (const x of live.extensions.filter((x) => !backupExtensions.has(x.name) && x.name !== 'plpgsql')) {
        kept.push(`extension ${x.name}`);
    }
    const backupSettings = new Set(expected.databaseSettings.map((d) => `${d.role}\u0000${d.setting.split('=')[0]}`));
    for (const d of live.databaseSettings) {
        if (!backupSettings.has(`${d.role}\u0000${d.setting.split('=')[0]}`)) {
            kept.push(`setting ${d.setting}${d.role ? ` for role ${d.role}` : ''}`);
        }
    }
    return { drops, kept };
}
/** The statements that open the restore's transaction, remove what the backup lacks, and prepare. */
function dropPrelude(drops, preparation = []) {
    return ['BEGIN;', ...drops.map((d) => `${d.sql};`), ...preparation.map((sql) => `${sql};`), ''].join('\n');
}
/**
 * After the restore, what was kept on purpose still differs from the backup: reported as a
 * warning that says so, never as a failed restore.
 */
function keptAsWarnings(checks) {
    return checks.map((c) => c.expected === 'absent' &&
        c.actual === 'present' &&
        /\blifeboat_restore_\d{8}_\d{6}_\d{3}_[0-9a-f]{8}\b/.test(c.object)
        ? {
            ...c,
            severity: 'warning',
            message: `${c.message} It holds rows of an earlier selective restore and was kept.`,
        }
        : c);
}

;// CONCATENATED MODULE: ./src/restore/lock-watch.ts
const SAMPLE = `SELECT a.pid,
    (SELECT string_agg(format('pid %s (%s, %s)', b.pid, coalesce(nullif(b.application_name, ''), 'no application name'),
        coalesce(b.state, 'unknown state')), '; ')
       FROM pg_stat_activity b WHERE b.pid = ANY (pg_blocking_pids(a.pid))) AS blockers
  FROM pg_stat_activity a WHERE a.application_name = $1`;
function watchLocks(admin, applicationName, options) {
    let waitingSince;
    let blockedBy;
    let busy = false;
    const sample = async () => {
        if (busy || blockedBy)
            return;
        busy = true;
        try {
            const { rows } = await admin.query(SAMPLE, [applicationName]);
            const row = rows.find((r) => r.blockers);
            if (!row) {
                waitingSince = undefined;
                return;
            }
            waitingSince ??= Date.now();
            const waited = (Date.now() - waitingSince) / 1000;
            options.log.progress(`The restore is waiting for a lock held by ${row.blockers} (${Math.round(waited)}s)`);
            if (waited < options.limitSeconds)
                return;
            blockedBy = row.blockers;
            await admin.query('SELECT pg_cancel_backend($1)', [row.pid]);
        }
        catch {
            // A missed sample must not disturb the restore; the next one tries again.
        }
        finally {
            busy = false;
        }
    };
    const timer = setInterval(() => void sample(), options.intervalMs ?? 2000);
    timer.unref();
    return {
        get blockedBy() {
            return blockedBy;
        },
        stop: () => clearInterval(timer),
    };
}

;// CONCATENATED MODULE: ./src/restore/one-transaction.ts

/**
 * Hands the transaction of `pg_restore --single-transaction --file=-` to whoever runs the
 * script. Without --single-transaction, pg_restore wraps large objects in a BEGIN/COMMIT
 * of their own, which would commit a restore halfway; with it, the script is one BEGIN at
 * the top and one COMMIT at the end. This drops that BEGIN (the runner opened the
 * transaction, with statements of its own in it) and holds back that COMMIT, so the runner
 * commits only once pg_restore has exited cleanly.
 *
 * The COMMIT is recognised by position: a `COMMIT;` line followed by nothing but comments
 * and `\unrestrict` to the end. One followed by anything else (a line of a procedure's
 * body, a row of data) is passed on as it came.
 */
class OneTransactionScript extends external_node_stream_.Transform {
    /** True once the script ended with pg_restore's COMMIT: every entry was printed. */
    complete = false;
    pending = '';
    started = false;
    held = [];
    // Bytes are read as latin1, one character per byte, and written back the same way: a
    // multi-byte character split between two chunks (or a dump in another encoding) passes
    // through exactly, where decoding each chunk as UTF-8 would corrupt it.
    _transform(chunk, _encoding, done) {
        const text = typeof chunk === 'string' ? Buffer.from(chunk).toString('latin1') : chunk.toString('latin1');
        const lines = (this.pending + text).split('\n');
        this.pending = lines.pop() ?? '';
        const out = lines.flatMap((line) => this.line(line));
        done(null, out.length ? Buffer.from(`${out.join('\n')}\n`, 'latin1') : undefined);
    }
    _flush(done) {
        const out = this.pending ? this.line(this.pending) : [];
        if (this.held.length) {
            this.complete = true;
            out.push(...this.held.slice(1)); // everything after the COMMIT, without it
        }
        done(null, out.length ? Buffer.from(`${out.join('\n')}\n`, 'latin1') : undefined);
    }
    line(line) {
        if (!this.started) {
            if (line === 'BEGIN;') {
                this.started = true;
                return [];
            }
            if (!quiet(line))
                this.started = true;
            return [line];
        }
        if (this.held.length) {
            if (quiet(line)) {
                this.held.push(line);
                return [];
            }
            const released = this.held;
            this.held = [];
            return [...released, ...this.line(line)];
        }
        if (line === 'COMMIT;') {
            this.held = [line];
            return [];
        }
        return [line];
    }
}
/** Lines that carry no statement: blank, comments, and psql's restrict guards. */
function quiet(line) {
    return line === '' || line.startsWith('--') || /^\\(un)?restrict [A-Za-z0-9]+$/.test(line);
}

;// CONCATENATED MODULE: ./src/restore/psql-run.ts






/**
 * Runs a script through psql inside a transaction this function opens and commits. COMMIT
 * is sent only after the script's source exited cleanly and every check passed; any other
 * way psql reaches the end of its input (a failed source, a refused line, a kill) ends the
 * session without COMMIT, and the server rolls back everything. psql stops at the first
 * error (ON_ERROR_STOP), echoing the statement that failed.
 */
async function runScriptInTransaction(o) {
    const psql = startChild(o.psql, ['--no-psqlrc', '--quiet', '--no-password', '--echo-errors', '--set=ON_ERROR_STOP=1', '--file=-'], {
        label: 'psql',
        code: 'restore',
        env: { ...libpqEnv(o.target), PGAPPNAME: o.applicationName },
        stdio: ['pipe', 'ignore', 'pipe'],
        mask: o.mask,
    });
    const stdin = psql.process.stdin;
    stdin.on('error', () => undefined); // a psql that stopped early says why in its own error
    stdin.write(o.prelude);
    const streams = o.through
        ? (0,promises_.pipeline)(o.source.process.stdout, o.through, stdin, { end: false })
        : (0,promises_.pipeline)(o.source.process.stdout, stdin, { end: false });
    try {
        await Promise.all([streams, o.source.done]);
        o.beforeCommit?.();
    }
    catch (error) {
        // When psql stopped on an error of its own, that is the cause and the broken pipe a symptom.
        const own = await Promise.race([
            psql.done.then(() => undefined, (e) => e),
            (0,external_node_timers_promises_.setTimeout)(1000, undefined),
        ]);
        psql.kill();
        o.source.kill();
        throw own ? (o.explain?.(psql.stderr()) ?? own) : error;
    }
    stdin.end('COMMIT;\n');
    try {
        await psql.done;
    }
    catch (error) {
        throw o.explain?.(psql.stderr()) ?? error;
    }
}
/** psql from pg_restore's own directory: the script it prints may use meta-commands only its own psql knows. */
async function findPsql(pgRestore, finder) {
    const sibling = external_node_path_default().join(external_node_path_default().dirname(pgRestore.path), 'psql');
    try {
        await (0,external_node_fs_promises_.access)(sibling, external_node_fs_promises_.constants.X_OK);
        return sibling;
    }
    catch {
        return (await finder.forServer('psql', pgRestore.major, pgRestore.version)).path;
    }
}
/**
 * psql's `--echo-errors` output in the shape pg_restore prints, for the shared explanation:
 * from the error on (warnings before it, such as a GRANT that granted nothing, are not the
 * cause), with the failed statement as `Command was:`.
 */
function asPgRestoreError(psqlStderr) {
    const lines = psqlStderr.split('\n');
    const at = lines.findIndex((l) => /\b(ERROR|FATAL|PANIC):/.test(l));
    return (at > 0 ? lines.slice(at) : lines)
        .join('\n')
        .replace(/^psql:[^\n]*?:\d+: STATEMENT:\s+/m, 'Command was: ');
}

;// CONCATENATED MODULE: ./src/restore/clean-restore.ts








/** The SQL of a restore over a database: drop each object of the backup (if it exists), then create it. */
function cleanRestoreArgs(options) {
    return [
        '--clean',
        '--if-exists',
        // One BEGIN and one COMMIT around everything, and none around large objects: see OneTransactionScript.
        '--single-transaction',
        '--file=-',
        ...(options.listFile ? [`--use-list=${options.listFile}`] : []),
        options.file,
    ];
}
/**
 * The drops and `pg_restore --clean --if-exists` in one transaction, through psql, which
 * stops at the first error: the target ends up either as the backup or untouched, never
 * half of each. (pg_restore connecting by itself could not put the drops in its transaction.)
 */
async function runCleanRestore(options) {
    const { tool, log } = options;
    // A name of its own, so the lock watch finds this restore's session and no other.
    const applicationName = `lifeboat restore ${(0,external_node_crypto_.randomBytes)(4).toString('hex')}`;
    const limitSeconds = options.lockWaitSeconds ?? 60;
    const watch = watchLocks(options.admin, applicationName, { limitSeconds, log });
    const mask = (text) => log.mask(text);
    const script = new OneTransactionScript();
    try {
        await runScriptInTransaction({
            source: startChild(tool.path, cleanRestoreArgs(options), {
                label: `pg_restore ${tool.version}`,
                code: 'restore',
                stdio: ['ignore', 'pipe', 'pipe'],
                mask,
            }),
            through: script,
            psql: options.psql,
            target: options.target,
            applicationName,
            prelude: dropPrelude(options.drops, options.preparation),
            beforeCommit: () => {
                if (script.complete)
                    return;
                throw new src_errors/* LifeboatError */.H3('restore', `pg_restore ${tool.version} exited without printing the end of its script. ${ROLLED_BACK}`, { hint: 'Run `pg_restore --list` on the decrypted dump to check it, and report this.' });
            },
            explain: (stderr) => explainCleanRestoreFailure(stderr, options.profile, watch.blockedBy, limitSeconds),
            mask,
        });
    }
    finally {
        watch.stop();
    }
}
const ROLLED_BACK = 'The restore ran in one transaction, which was rolled back: the target is as it was before.';
function explainCleanRestoreFailure(psqlStderr, profile, blockedBy, limitSeconds = 60) {
    if (blockedBy) {
        return new src_errors/* LifeboatError */.H3('lock', `The restore waited more than ${limitSeconds}s for a lock held by ${blockedBy}, so Lifeboat cancelled it before the application's queries could pile up behind it. ${ROLLED_BACK}`, {
            hint: "Stop the application's connections (or put it in maintenance mode) so nothing holds locks on the tables being restored, then run the restore again. `SELECT pid, application_name, state, query FROM pg_stat_activity WHERE datname = current_database()` shows who is connected.",
        });
    }
    if (!psqlStderr.trim())
        return undefined;
    const base = explainRestoreFailure(asPgRestoreError(psqlStderr), profile);
    const details = psqlStderr
        .split('\n')
        .map((l) => /^DETAIL:\s+(.*)$/.exec(l.trim())?.[1])
        .filter(Boolean)
        .join(' ');
    const message = `${base.message}${details ? `\nDetail: ${details}` : ''}\n${ROLLED_BACK}`;
    return new src_errors/* LifeboatError */.H3('restore', message, { hint: hintFor(base.message, base.hint), cause: base });
}
function hintFor(reason, fallback) {
    if (/depends? on/.test(reason)) {
        return 'Something the backup does not have depends on an object the restore replaces (see the detail above). Drop it or move it aside, then run the restore again; or restore only the tables you need with `tables`, which touches no live object.';
    }
    if (/already exists/.test(reason)) {
        return 'The target has an object of that name which the restore did not drop first (another kind of object, or one the backup does not know). Rename or drop it, then run the restore again.';
    }
    if (/must be owner|permission denied|must be superuser|must be member of role/.test(reason)) {
        return 'The target-url user must own every object the restore replaces. On Supabase use the postgres user; objects in platform schemas (auth, storage) belong to platform roles, so restore application tables with `tables` instead.';
    }
    if (/out of shared memory|max_locks_per_transaction/.test(reason)) {
        return 'A restore in one transaction takes a lock per object. Raise max_locks_per_transaction on the server (it needs a restart), or restore the tables you need with `tables`.';
    }
    if (/canceling statement due to user request/.test(reason)) {
        return 'Someone cancelled the restore while it ran; run it again when the database is quiet.';
    }
    const role = /role "([^"]+)" does not exist/.exec(reason)?.[1];
    if (role) {
        return `Create role "${role}" on the target server (roles are not part of a dump), or use profile \`auto\` or \`supabase\`, which creates the roles a Supabase database expects.`;
    }
    return fallback;
}

;// CONCATENATED MODULE: ./src/restore/rollback.ts



function rollbackInstructions(facts) {
    const store = storeText(facts.store);
    const cli = [
        'npx lifeboat restore',
        `--store ${shellQuote(store)}`,
        `--name ${shellQuote(facts.safetyName)}`,
        `--backup-id ${facts.safetyBackupId}`,
        `--confirm ${shellQuote(facts.database)}`,
        '--target-url "$LIFEBOAT_TARGET_URL"',
        '--identity-file key.txt',
    ].join(' ');
    const inputs = [
        `${Inputs.Mode}: restore`,
        `${Inputs.Store}: ${store}`,
        `${Inputs.Name}: ${facts.safetyName}`,
        `${Inputs.BackupId}: ${facts.safetyBackupId}`,
        `${Inputs.Confirm}: ${facts.database}`,
    ].join(', ');
    return [
        `To put the target back as it was just before this restore, restore the safety backup ${facts.safetyBackupId}:`,
        `  ${cli}`,
        `  or in the action: ${inputs}, with the same ${Inputs.TargetUrl} and ${Inputs.EncryptionIdentity}.`,
    ].join('\n');
}
/** A target that held nothing needs no safety backup: going back means emptying it again. */
function emptyRollback(database) {
    return `The target held no data before this restore, so no safety backup was taken. To return to that, recreate the database: DROP DATABASE ${quoteIdent(database)}; CREATE DATABASE ${quoteIdent(database)};`;
}
/**
 * The same error with the rollback instruction in front of its hint: whatever failed after
 * the safety backup, the person reading it learns how to get back.
 */
function withRollback(error, instructions, note) {
    const base = error instanceof src_errors/* LifeboatError */.H3
        ? error
        : new src_errors/* LifeboatError */.H3('internal', (0,src_errors/* describeError */.Uc)(error), { cause: error });
    const message = note ? `${base.message}\n${note}` : base.message;
    const hint = base.hint ? `${instructions}\n${base.hint}` : instructions;
    return new src_errors/* LifeboatError */.H3(base.code, message, { hint, cause: error });
}
function storeText(store) {
    switch (store.kind) {
        case 'actions-cache':
            return 'actions-cache';
        case 's3':
            return store.url;
        case 'local':
            return store.path;
    }
}
/** Leaves plain words bare; anything else goes in single quotes a POSIX shell reads literally. */
function shellQuote(text) {
    if (/^[A-Za-z0-9_./:@%+=,-]+$/.test(text))
        return text;
    return `'${text.replace(/'/g, `'\\''`)}'`;
}

;// CONCATENATED MODULE: ./src/restore/plan.ts




/** Backup ids are digits, underscores and hex, so this needs no quoting (it is quoted anyway). */
function sideSchemaName(backupId) {
    return `lifeboat_restore_${backupId}`;
}
function safetyBackupName(name) {
    return `${name}-pre-restore`;
}
function buildRestorePlan(input) {
    const { manifest, expected, live, settings } = input;
    const kind = settings.tables.length ? 'selective' : 'full';
    const liveTables = new Map(live.tables.map((t) => [key(t), t]));
    const chosen = kind === 'full' ? expected.tables : chooseTables(expected, settings.tables);
    const sideNames = sideTableNames(chosen);
    const tables = chosen.map((t) => {
        const now = liveTables.get(key(t));
        return {
            schema: t.schema,
            name: t.name,
            owner: t.owner,
            backupRows: t.rows,
            liveRows: now?.rows ?? null,
            liveExists: Boolean(now),
            sideName: kind === 'selective' ? sideNames.get(key(t)) : undefined,
        };
    });
    const where = describeTarget(input.target);
    const sideSchema = kind === 'selective' ? sideSchemaName(manifest.backupId) : undefined;
    const empty = isEmpty(live);
    const safety = kind === 'full' && !empty ? safetyBackupName(settings.name) : undefined;
    // Against an empty target every object differs; the table list says it all.
    const checks = kind === 'full' && !empty ? compareSnapshots(expected, live).checks : [];
    const extras = kind === 'full' ? planDrops(expected, live) : { drops: [], kept: [] };
    return {
        kind,
        dryRun: settings.dryRun,
        backup: {
            id: manifest.backupId,
            name: manifest.name,
            completedAt: manifest.completedAt,
            ageSeconds: Math.max(0, (input.now.getTime() - Date.parse(manifest.completedAt)) / 1000),
            level: manifest.verification.level,
            database: expected.database,
            serverVersion: manifest.source.serverVersion,
            sizeBytes: manifest.archive.sizeBytes,
        },
        target: { where, database: input.target.database, serverVersion: live.serverVersion },
        confirm: {
            needed: input.target.database,
            given: settings.confirm,
            matches: settings.confirm === input.target.database,
        },
        tables,
        objects: kind === 'full' ? objectCounts(expected) : [],
        differences: checks.filter((c) => c.kind !== 'rows' && !isExtra(c)).map(undoneText),
        drops: extras.drops,
        leftInPlace: extras.kept,
        sideSchema,
        safetyBackupName: safety,
        emptyTarget: empty,
        steps: kind === 'full'
            ? [
                `Fetch backup ${manifest.backupId}, check its SHA-256 against the manifest, decrypt and decompress it into a private temporary file.`,
                safety
                    ? `Take a safety backup of ${where} into ${input.storeLocation} as "${safety}" and verify it; if that fails, stop with nothing changed.`
                    : `Take no safety backup: ${where} holds no table, view, function, sequence or large object, so there is nothing to lose.`,
                `In one transaction: drop what the target has and the backup lacks (${extras.drops.length ? `${extras.drops.length} ${extras.drops.length === 1 ? 'object' : 'objects'}, listed below` : 'nothing'}), then run the SQL of pg_restore --clean --if-exists, stopping at the first error. An error rolls everything back.`,
                "Replay the database settings the backup recorded, then verify the result against the backup's catalog snapshot.",
            ]
            : [
                `Fetch backup ${manifest.backupId}, check its SHA-256 against the manifest, decrypt and decompress it into a private temporary file.`,
                `Create schema "${sideSchema}" in ${where} and restore ${tables.length === 1 ? 'the table' : `${tables.length} tables`} into it in one transaction; live tables are not touched.`,
                'Count rows and differences against the live tables, and print the SQL that copies rows back, for review.',
            ],
    };
}
/** Nothing in it that a restore could lose: no data, no code. */
function isEmpty(s) {
    return !s.tables.length && !s.views.length && !s.functions.length && !s.sequences.length && !s.largeObjects;
}
/** A difference found before the restore, said as what the restore will do about it. */
function undoneText(check) {
    if (check.actual === 'missing') {
        return `${check.object.charAt(0).toUpperCase()}${check.object.slice(1)} is not in the target: the restore creates it.`;
    }
    return check.message.replace(/, expected (.*)\.$/s, ' in the target: the restore sets it back to $1.');
}
/** A restore check for something the target has and the backup does not. */
function isExtra(check) {
    return check.expected === 'absent' && check.actual === 'present';
}
/** The tables a selective restore names, each proven to be in the backup. */
function chooseTables(expected, requested) {
    const byKey = new Map(expected.tables.map((t) => [key(t), t]));
    const chosen = [];
    for (const r of requested) {
        const table = byKey.get(key(r));
        if (!table) {
            const near = expected.tables.filter((t) => t.name === r.name).map((t) => `${t.schema}.${t.name}`);
            const listed = expected.tables.slice(0, 30).map((t) => `${t.schema}.${t.name}`);
            throw new src_errors/* LifeboatError */.H3('input', `Table ${r.schema}.${r.name} is not in the backup. Nothing was changed.`, {
                hint: near.length
                    ? `Did you mean ${near.join(' or ')}? Name tables as schema.table.`
                    : `The backup holds: ${listed.join(', ')}${expected.tables.length > listed.length ? ', …' : ''}.`,
            });
        }
        if (table.kind === 'p') {
            throw new src_errors/* LifeboatError */.H3('input', `Table ${r.schema}.${r.name} is partitioned: its rows live in its partitions. Nothing was changed.`, { hint: 'Name the partitions that hold the rows you need in `tables` instead.' });
        }
        if (!chosen.includes(table))
            chosen.push(table);
    }
    return chosen;
}
/** Side tables keep their names; two chosen tables of the same name get their schema as a prefix. */
function sideTableNames(tables) {
    const seen = new Map();
    for (const t of tables)
        seen.set(t.name, (seen.get(t.name) ?? 0) + 1);
    return new Map(tables.map((t) => [key(t), (seen.get(t.name) ?? 0) > 1 ? `${t.schema}__${t.name}` : t.name]));
}
function key(t) {
    return `${t.schema}\u0000${t.name}`;
}
function objectCounts(s) {
    const counts = [
        ['schemas', s.schemas.length],
        ['tables', s.tables.length],
        ['views', s.views.length],
        ['sequences', s.sequences.length],
        ['functions', s.functions.length],
        ['constraints', s.constraints.length],
        ['indexes', s.indexes.length],
        ['triggers', s.triggers.length],
        ['row-level security policies', s.policies.length],
        ['extensions', s.extensions.filter((x) => x.name !== 'plpgsql').length],
        ['large objects', s.largeObjects],
    ];
    return counts.filter(([, n]) => n > 0).map(([label, count]) => ({ label, count }));
}

;// CONCATENATED MODULE: ./src/restore/safety.ts






/**
 * The backup of the target taken just before a full restore replaces it: an ordinary
 * backup set named `<name>-pre-restore` in the same store, encrypted to the same keys, and
 * read back whole before the restore may start. It is the way back from a wrong restore.
 */
async function takeSafetyBackup(settings, ctx) {
    const backup = {
        mode: 'backup',
        store: settings.store,
        name: safetyBackupName(settings.name),
        // The identity's recipient was derived when the settings were parsed, so the safety
        // backup is readable by the same identity that reads the backup being restored.
        keys: settings.keys,
        pgBinDir: settings.pgBinDir,
        githubToken: settings.githubToken,
        database: settings.target,
        migrationsTable: ctx.migrationsTable ?? DEFAULT_MIGRATIONS_TABLE,
        // A safety backup must be quick: it stands between the operator and the restore.
        fingerprints: false,
    };
    // Its outputs and summary would overwrite the restore's own; the restore reports it.
    const quiet = { output: () => undefined, summary: async () => undefined };
    const where = describeTarget(settings.target);
    let result;
    try {
        result = await runBackup(backup, { log: ctx.log, reporter: quiet, store: ctx.store });
    }
    catch (error) {
        const keyProblem = (0,src_errors/* isLifeboatError */.rx)(error, 'crypto') || (0,src_errors/* isLifeboatError */.rx)(error, 'key');
        throw new src_errors/* LifeboatError */.H3((0,src_errors/* isLifeboatError */.rx)(error) ? error.code : 'internal', `Could not take the safety backup of ${where}, so the restore did not start; nothing was changed. ${(0,src_errors/* describeError */.Uc)(error)}`, {
            hint: keyProblem
                ? 'The safety backup is encrypted to encryption-recipient and read back with encryption-identity: the recipient must be the public key of that identity (or leave encryption-recipient out, and it is derived from the identity).'
                : 'The safety backup is an ordinary backup of the target: the target-url user must be able to read every row, and the store must be writable.',
            cause: error,
        });
    }
    const level = result.manifest.verification.level;
    if (!levelAtLeast(level, 'readable')) {
        throw new src_errors/* LifeboatError */.H3('verify', `The safety backup ${result.manifest.backupId} was verified only to level "${level}", so the restore did not start; nothing was changed.`, {
            hint: 'Pass encryption-identity (or encryption-passphrase) so the safety backup can be read back in full.',
        });
    }
    return result;
}

;// CONCATENATED MODULE: ./src/restore/toc-select.ts

const LINE = /^(\d+); (\d+) (\d+) (TABLE DATA|TABLE) (.*)$/;
function selectTableEntries(listing, tables) {
    const parsed = listing
        .split('\n')
        .map((line) => ({ line, m: LINE.exec(line) }))
        .filter((x) => x.m !== null);
    return tables.map((t) => {
        const wanted = `${t.schema} ${t.name} ${t.owner}`.trimEnd();
        const defs = parsed.filter((x) => x.m[4] === 'TABLE' && x.m[5].trimEnd() === wanted);
        if (defs.length !== 1) {
            throw new src_errors/* LifeboatError */.H3('restore', defs.length
                ? `The archive's table of contents has ${defs.length} tables that read as ${t.schema}.${t.name}; refusing to guess which. Nothing was changed.`
                : `The archive holds no definition of table ${t.schema}.${t.name}, though the backup's catalog lists it. Nothing was changed.`, { hint: 'Restore this backup in full into a scratch database and copy the table from there.' });
        }
        const oid = defs[0].m[3];
        const data = parsed.filter((x) => x.m[4] === 'TABLE DATA' && x.m[3] === oid);
        return { schema: t.schema, name: t.name, lines: [defs[0].line, ...data.map((x) => x.line)] };
    });
}
/** A `--use-list` file naming only the given entries: everything else is left out. */
function useList(entries) {
    return `${entries.flatMap((e) => e.lines).join('\n')}\n`;
}
/**
 * A full restore over a live database keeps the schemas and extensions the target already
 * has: `DROP SCHEMA` fails while the target holds objects the backup does not know, and
 * dropping an extension would take every column of its types with it.
 */
function keepExisting(toc, existing) {
    const ids = new Set();
    const kept = [];
    for (const e of toc) {
        const schema = e.desc === 'SCHEMA' && e.namespace === null && existing.schemas.has(e.tag);
        const extension = e.desc === 'EXTENSION' && existing.extensions.has(e.tag);
        if (!schema && !extension)
            continue;
        ids.add(e.id);
        kept.push(`${e.desc.toLowerCase()} ${e.tag}`);
    }
    return { ids, kept };
}

;// CONCATENATED MODULE: ./src/restore/full.ts



















/**
 * A full restore over the target. Everything that can refuse without changing anything
 * comes first (tools, the archive's hash and decryption, roles); then the safety backup;
 * then the restore in one transaction; then the comparison with what the backup recorded.
 * From the safety backup on, every error carries the instruction to roll back.
 */
async function restoreFull(input, progress) {
    const { settings, manifest, expected, client, log } = input;
    const temp = await (0,tempfiles/* createPrivateTempDir */.fb)('lifeboat-restore-', input.env);
    try {
        const finder = createToolFinder({ binDir: settings.pgBinDir, env: input.env });
        const tool = await findPgRestore(finder, manifest.source.pgDumpVersion);
        const psql = await findPsql(tool, finder);
        const dump = temp.file('backup.dump');
        await fetchDump({ store: input.store, manifest, keys: input.keys, file: dump, log });
        const listing = await listArchive(tool, dump);
        const toc = parseToc(listing);
        const { profile, reason } = detectProfile(expected, settings.profile);
        log.info(`Profile ${profile}: ${reason}.`);
        const state = await readTargetState(client);
        const prep = planPreparation(profile, expected, toc, state);
        if (prep.missingRoles.length) {
            throw new src_errors/* LifeboatError */.H3('restore', `The backup needs roles the target server lacks: ${prep.missingRoles.join(', ')}. Nothing was changed.`, {
                hint: 'Create them on the target server (a dump never carries roles), or use profile `auto` or `supabase`.',
            });
        }
        const keep = keepExisting(toc, {
            schemas: state.schemas,
            extensions: new Set(input.live.extensions.map((x) => x.name)),
        });
        if (keep.kept.length)
            log.info(`Keeping what the target already has: ${keep.kept.join(', ')}.`);
        const migrationsTable = manifest.migration?.table ?? DEFAULT_MIGRATIONS_TABLE;
        if (input.plan.safetyBackupName) {
            log.info(`Taking a safety backup of the target as "${input.plan.safetyBackupName}".`);
            const safety = await takeSafetyBackup(settings, { log, store: input.store, migrationsTable });
            progress.safetyBackupId = safety.manifest.backupId;
            progress.rollback = rollbackInstructions({
                store: settings.store,
                safetyName: safety.manifest.name,
                safetyBackupId: safety.manifest.backupId,
                database: settings.target.database,
            });
            log.info(`Safety backup ${safety.manifest.backupId} stored and verified (level ${safety.manifest.verification.level}).`);
        }
        else {
            progress.rollback = emptyRollback(settings.target.database);
        }
        try {
            const listFile = temp.file('restore.list');
            await (0,tempfiles/* writePrivateFile */.Pl)(listFile, commentOut(listing, new Set([...keep.ids, ...prep.skipped.map((s) => s.id)])));
            reportPreparation(prep, log);
            log.info(`Restoring ${manifest.backupId} over ${settings.target.database} (pg_restore ${tool.version}, one transaction).`);
            await runCleanRestore({
                tool,
                psql,
                drops: input.plan.drops,
                preparation: prep.steps.map((step) => step.sql),
                target: settings.target,
                file: dump,
                listFile,
                profile: prep.profile,
                admin: client,
                log,
            });
            // The plaintext dump leaves the disk before the (slower) verification.
            await (0,external_node_fs_promises_.rm)(dump, { force: true });
            for (const phase of ['before', 'after']) {
                await replaySettings(client, settings.target.database, expected.databaseSettings, phase, log);
            }
            log.info("Restored; comparing the result with the backup's catalog snapshot.");
            progress.checks = await verifyFull(input, prep, migrationsTable);
        }
        catch (error) {
            throw withRollback(error, progress.rollback);
        }
    }
    finally {
        await temp.remove();
    }
}
/** The restored target against the backup's catalog, as a drill compares them; throws on any error. */
async function verifyFull(input, prep, migrationsTable) {
    const { result } = await verifyRestore({
        target: input.settings.target,
        expected: input.expected,
        migrationsTable,
        sqlChecks: [],
        // A live server still serves the application: two connections, not one per core.
        jobs: 2,
        skippedExtensions: prep.skippedExtensions,
        prepared: { schemas: prep.schemas, functions: prep.functions },
    });
    const checks = keptAsWarnings(result.checks);
    const errors = errorsOf(checks);
    if (!errors.length)
        return checks;
    const first = errors.slice(0, 5).map((c) => c.message);
    throw new src_errors/* LifeboatError */.H3('verify', `The restore finished, but the target differs from the backup in ${errors.length} ${errors.length === 1 ? 'way' : 'ways'}: ${first.join(' ')}${errors.length > 5 ? ' …' : ''}`, {
        hint: 'If the application wrote to the database during the restore, row counts move; stop it and compare again. Otherwise the backup did not restore as recorded.',
    });
}
/** What the profile adds and leaves out, said before the restore that carries it out. */
function reportPreparation(prep, log) {
    for (const step of prep.steps)
        log.info(`Creating ${step.creates} in the same transaction (profile ${prep.profile}).`);
    for (const s of prep.skipped)
        log.warning(`Skipped ${s.entry}: ${s.reason}.`);
}

;// CONCATENATED MODULE: external "node:string_decoder"
const external_node_string_decoder_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:string_decoder");
;// CONCATENATED MODULE: ./src/restore/side-script.ts





/**
 * Rewrites the SQL `pg_restore -f -` prints for a few tables (their TABLE and TABLE DATA
 * entries) so that every table it creates, alters or fills lives in the side schema.
 *
 * It is an allow-list, not a search-and-replace: a statement is let through only when it is
 * a session SET, or a CREATE TABLE, ALTER TABLE or COPY of a table it was told to move, and
 * then only after its name was rewritten. Anything else stops the stream, so nothing the
 * archive holds can reach a live table. COPY data passes through untouched.
 */
class SideScriptRewriter extends external_node_stream_.Transform {
    sideSchema;
    targets;
    /** `key(schema, name)` of each table, with what was rewritten for it. */
    seen = new Map();
    pending = '';
    decoder = new external_node_string_decoder_namespaceObject.StringDecoder('utf8');
    mode = 'between';
    /** `targets` maps `key(schema, name)` to the table's name inside `sideSchema`. */
    constructor(sideSchema, targets) {
        super();
        this.sideSchema = sideSchema;
        this.targets = targets;
    }
    _transform(chunk, _encoding, done) {
        // A decoder, not chunk.toString(): a UTF-8 character split between two chunks stays whole.
        const text = this.pending + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
        const lines = text.split('\n');
        this.pending = lines.pop() ?? '';
        try {
            const out = lines.map((line) => this.line(line));
            done(null, out.length ? `${out.join('\n')}\n` : undefined);
        }
        catch (error) {
            done(error);
        }
    }
    _flush(done) {
        this.pending += this.decoder.end();
        try {
            const last = this.pending ? this.line(this.pending) : undefined;
            if (this.mode !== 'between')
                throw refuse('the script ended inside a statement', this.pending);
            done(null, last === undefined ? undefined : `${last}\n`);
        }
        catch (error) {
            done(error);
        }
    }
    line(line) {
        switch (this.mode) {
            case 'data':
                if (line === '\\.')
                    this.mode = 'between';
                return line;
            case 'copy-header':
                if (/ FROM stdin;$/.test(line))
                    this.mode = 'data';
                return line;
            case 'statement':
                // INHERITS or PARTITION OF would attach the copy to a live parent table.
                if (/^\)?\s*INHERITS\s*\(/.test(line))
                    throw refuse('a table inherits from another', line);
                if (line.endsWith(';'))
                    this.mode = 'between';
                return line;
            case 'between':
                return this.statementStart(line);
        }
    }
    statementStart(line) {
        if (line === '' || line.startsWith('--'))
            return line;
        if (/^\\(un)?restrict [A-Za-z0-9]+$/.test(line))
            return line;
        if (/^SET [a-z_]+ = /.test(line) || line.startsWith('SELECT pg_catalog.set_config(')) {
            return this.until(line);
        }
        const start = /^(CREATE (?:UNLOGGED )?TABLE |ALTER TABLE (?:ONLY )?|COPY )/.exec(line)?.[1];
        if (!start)
            throw refuse('a statement other than CREATE TABLE, ALTER TABLE or COPY', line);
        const name = parseQualifiedName(line, start.length);
        const side = name && this.targets.get(key(name));
        if (!name || side === undefined)
            throw refuse('a statement about a table not chosen', line);
        const rest = line.slice(name.end);
        if (/\bPARTITION OF\b/.test(rest))
            throw refuse('a table is a partition of another', line);
        const seen = this.seen.get(key(name)) ?? { created: false, copied: false };
        this.seen.set(key(name), seen);
        if (start.startsWith('CREATE'))
            seen.created = true;
        const rewritten = `${start}${quoteIdent(this.sideSchema)}.${quoteIdent(side)}${rest}`;
        if (start === 'COPY ') {
            seen.copied = true;
            this.mode = / FROM stdin;$/.test(line) ? 'data' : 'copy-header';
            return rewritten;
        }
        return this.until(rewritten);
    }
    /** Passes a statement's first line; the statement goes on until a line ends with `;`. */
    until(line) {
        this.mode = line.endsWith(';') ? 'between' : 'statement';
        return line;
    }
}
/** `"Mixed Case"."weird ""quoted"" name" (` → schema, name and where the name ends. */
function parseQualifiedName(text, at) {
    const first = parseIdent(text, at);
    if (!first || text[first.end] !== '.')
        return undefined;
    const second = parseIdent(text, first.end + 1);
    if (!second)
        return undefined;
    return { schema: first.value, name: second.value, end: second.end };
}
function parseIdent(text, at) {
    if (text[at] === '"') {
        let value = '';
        for (let i = at + 1; i < text.length; i++) {
            if (text[i] !== '"')
                value += text[i];
            else if (text[i + 1] === '"') {
                value += '"';
                i++;
            }
            else
                return { value, end: i + 1 };
        }
        return undefined;
    }
    // pg_dump leaves only lower-case plain words unquoted.
    const bare = /^[a-z_][a-z0-9_$]*/.exec(text.slice(at))?.[0];
    return bare ? { value: bare, end: at + bare.length } : undefined;
}
function refuse(why, line) {
    const shown = line.length > 200 ? `${line.slice(0, 200)}…` : line;
    return new src_errors/* LifeboatError */.H3('restore', `Stopped the selective restore before it could touch anything but the side schema: ${why}.\nLine: ${shown}`, {
        hint: 'Nothing was committed. Restore this table with a full restore into a scratch database instead, or report the line above to the Lifeboat maintainers.',
    });
}

;// CONCATENATED MODULE: ./src/restore/side-load.ts






/**
 * pg_restore prints the chosen tables as SQL, the rewriter moves every one of them into the
 * side schema, psql runs it in one transaction. Owners and grants stay out: the copies
 * belong to the restoring user and nobody else can read them.
 */
async function loadSideTables(o) {
    const rewriter = new SideScriptRewriter(o.sideSchema, o.sideNames);
    const source = startChild(o.pgRestore.path, ['--file=-', `--use-list=${o.listFile}`, '--no-owner', '--no-privileges', o.file], {
        label: `pg_restore ${o.pgRestore.version}`,
        code: 'restore',
        stdio: ['ignore', 'pipe', 'pipe'],
        mask: o.mask,
    });
    const schema = quoteIdent(o.sideSchema);
    await runScriptInTransaction({
        source,
        through: rewriter,
        psql: o.psql,
        target: o.target,
        applicationName: `lifeboat restore ${(0,external_node_crypto_.randomBytes)(4).toString('hex')}`,
        prelude: `BEGIN;\nCREATE SCHEMA IF NOT EXISTS ${schema};\nCOMMENT ON SCHEMA ${schema} IS ${quoteLiteral(o.note)};\n`,
        beforeCommit: () => {
            const missing = [...o.sideNames.keys()].filter((k) => !rewriter.seen.get(k)?.created);
            if (missing.length) {
                throw new src_errors/* LifeboatError */.H3('restore', `pg_restore printed no definition for ${missing.length} of the chosen tables; nothing was committed.`, { hint: 'The archive may come from a pg_dump that Lifeboat does not know; please report it.' });
            }
        },
        explain: (stderr) => {
            const reason = /ERROR:\s+(.*)$/m.exec(stderr)?.[1] ?? stderr.trim().split('\n')[0];
            return new src_errors/* LifeboatError */.H3('restore', `Loading the tables into ${o.sideSchema} stopped: ${reason}. Nothing was committed: the side schema and its tables were rolled back.`, {
                hint: /does not exist/.test(reason ?? '')
                    ? 'A restored table refers to a type, sequence or function the target no longer has. Recreate it, or restore the whole backup into a scratch database instead.'
                    : 'psql must be at least as new as pg_restore (set pg-bin-dir to one PostgreSQL client installation).',
            });
        },
        mask: o.mask,
    });
}

;// CONCATENATED MODULE: ./src/restore/table-shapes.ts


/**
 * What the copy-back SQL needs to know about a table as it is now: its columns (which are
 * generated, which are identities), its primary key, the tables it references and its triggers.
 */
async function readTableShape(client, schema, name) {
    const { rows } = await client.query(`SELECT to_regclass($1)::oid AS oid`, [tableRef(schema, name)]);
    const oid = rows[0]?.oid;
    if (oid == null)
        return null;
    const columns = await client.query(`SELECT a.attname AS name, a.attgenerated <> '' AS generated, a.attidentity = 'a' AS identity_always
       FROM pg_attribute a WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`, [oid]);
    const key = await client.query(`SELECT ARRAY(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY k(attnum, i)
        JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum ORDER BY k.i)::text[] AS columns
       FROM pg_index x WHERE x.indrelid = $1 AND x.indisprimary`, [oid]);
    const references = await client.query(`SELECT DISTINCT n.nspname || '.' || f.relname AS name
       FROM pg_constraint c JOIN pg_class f ON f.oid = c.confrelid JOIN pg_namespace n ON n.oid = f.relnamespace
      WHERE c.conrelid = $1 AND c.contype = 'f'`, [oid]);
    const triggers = await client.query(`SELECT tgname AS name FROM pg_trigger WHERE tgrelid = $1 AND NOT tgisinternal AND tgenabled <> 'D' ORDER BY 1`, [oid]);
    return {
        columns: columns.rows.map((c) => ({
            name: c.name,
            generated: c.generated,
            identityAlways: c.identity_always,
        })),
        primaryKey: (key.rows[0]?.columns ?? []).map(String),
        references: references.rows.map((r) => r.name),
        triggers: triggers.rows.map((r) => r.name),
    };
}
/** Row counts and differences between the restored copy and the live table, read-only. */
async function countDifferences(client, table) {
    const { rows } = await client.query(diffCountSql(table));
    const row = (rows[0] ?? {});
    const n = (value) => (value == null ? null : Number(value));
    return {
        backupRows: n(row.backup_rows) ?? 0,
        liveRows: n(row.live_rows),
        onlyInBackup: n(row.only_in_backup),
        onlyInLive: n(row.only_in_live),
        changed: n(row.changed),
    };
}

;// CONCATENATED MODULE: ./src/restore/selective.ts













/**
 * Restores the chosen tables into `lifeboat_restore_<backup-id>` in the target, next to the
 * live ones and never over them, then compares and writes the SQL that would copy rows back.
 */
async function restoreSelective(input) {
    const { settings, manifest, plan, client, log } = input;
    const sideSchema = plan.sideSchema;
    await refuseExistingSideTables(client, plan);
    const temp = await (0,tempfiles/* createPrivateTempDir */.fb)('lifeboat-restore-', input.env);
    try {
        const finder = createToolFinder({ binDir: settings.pgBinDir, env: input.env });
        const pgRestore = await findPgRestore(finder, manifest.source.pgDumpVersion);
        const psql = await findPsql(pgRestore, finder);
        const dump = temp.file('backup.dump');
        await fetchDump({ store: input.store, manifest, keys: input.keys, file: dump, log });
        const entries = selectTableEntries(await listArchive(pgRestore, dump), plan.tables);
        const listFile = temp.file('tables.list');
        await (0,tempfiles/* writePrivateFile */.Pl)(listFile, useList(entries));
        log.info(`Restoring ${plan.tables.map((t) => `${t.schema}.${t.name}`).join(', ')} into schema ${sideSchema}.`);
        await loadSideTables({
            pgRestore,
            psql,
            file: dump,
            listFile,
            target: settings.target,
            sideSchema,
            sideNames: new Map(plan.tables.map((t) => [key(t), t.sideName])),
            note: `Rows of backup ${manifest.backupId} (${manifest.name}, ${manifest.completedAt}) restored by Lifeboat for review; drop this schema when done.`,
            mask: (text) => log.mask(text),
        });
        await (0,external_node_fs_promises_.rm)(dump, { force: true });
    }
    finally {
        await temp.remove();
    }
    const tables = [];
    for (const t of plan.tables) {
        const side = await readTableShape(client, sideSchema, t.sideName);
        if (!side)
            throw new src_errors/* LifeboatError */.H3('internal', `The side table ${sideSchema}.${t.sideName} is missing after the load.`);
        const live = await readTableShape(client, t.schema, t.name);
        tables.push({ schema: t.schema, name: t.name, sideSchema, sideName: t.sideName, side, live });
    }
    const diffs = new Map();
    for (const t of tables)
        diffs.set(t, await countDifferences(client, t));
    return {
        sideSchema,
        tables,
        diffs,
        copyBack: copyBackSql(tables, diffs, manifest.backupId),
        review: tables.map((t) => ({ table: `${t.schema}.${t.name}`, queries: reviewQueries(t) })),
    };
}
/** A second selective restore of the same backup may add tables, never replace ones already restored. */
async function refuseExistingSideTables(client, plan) {
    const taken = [];
    for (const t of plan.tables) {
        const ref = tableRef(plan.sideSchema, t.sideName);
        const { rows } = await client.query('SELECT to_regclass($1) IS NOT NULL AS taken', [ref]);
        if (rows[0]?.taken)
            taken.push({ name: `${plan.sideSchema}.${t.sideName}`, ref });
    }
    if (!taken.length)
        return;
    const one = taken.length === 1;
    throw new src_errors/* LifeboatError */.H3('restore', `${taken.map((t) => t.name).join(', ')} already ${one ? 'exists' : 'exist'} from an earlier selective restore of this backup. Nothing was changed.`, {
        hint: `Review the rows already there, or drop ${one ? 'it' : 'them'} first (DROP TABLE ${taken.map((t) => t.ref).join(', ')};) and run the restore again.`,
    });
}

;// CONCATENATED MODULE: ./src/modes/restore.ts
















/**
 * Restores a backup into the target, in full or a few tables into a side schema. Refuses
 * before touching anything unless `confirm` names the target database; prints the plan
 * first; a dry run stops there. Throws when the restore failed, after reporting.
 */
async function runRestore(settings, ctx) {
    const { log, reporter, store } = ctx;
    const env = ctx.env ?? process.env;
    let plan;
    const progress = { checks: [] };
    let selective;
    try {
        let confirmed = confirmFromInput(settings, Boolean(ctx.prompt));
        const manifest = await resolveManifest(store, settings.name, settings.backupId);
        reporter.output(Outputs.BackupId, manifest.backupId);
        const keys = decryptKeys(settings.keys);
        const expected = await readExpectedCatalog(manifest, keys);
        const { client } = await openClient(settings.target, 'target-url');
        try {
            const live = await inspectTarget(client, settings, expected, manifest);
            plan = buildRestorePlan({
                manifest,
                expected,
                live,
                target: settings.target,
                settings: { ...settings, confirm: confirmed ?? '' },
                storeLocation: store.location,
                now: new Date(),
            });
            for (const line of renderPlanText(plan))
                log.info(line);
            if (settings.dryRun) {
                reporter.output(Outputs.Status, 'passed');
                await reporter.summary(renderRestoreSummary(report(plan, 'dry-run')));
                log.info(`Dry run: nothing was changed. The real run needs confirm: ${plan.confirm.needed}.`);
                return;
            }
            if (confirmed === undefined) {
                confirmed = await askConfirmation(settings, ctx.prompt);
                plan.confirm = { ...plan.confirm, given: confirmed, matches: true };
            }
            const input = { settings, manifest, plan, keys, client, store, log, env };
            if (plan.kind === 'full') {
                await restoreFull({ ...input, expected, live }, progress);
            }
            else {
                selective = await restoreSelective(input);
                logSelective(log, selective);
            }
        }
        finally {
            await client.end().catch(() => undefined);
        }
        if (progress.safetyBackupId)
            reporter.output(Outputs.SafetyBackupId, progress.safetyBackupId);
        reporter.output(Outputs.Status, 'passed');
        await reporter.summary(renderRestoreSummary(report(plan, 'passed')));
        log.info(plan.kind === 'full'
            ? `Restored ${plan.backup.id} over ${plan.target.where} and verified it. ${progress.rollback ?? ''}`
            : `Restored ${plan.tables.length} tables into schema ${plan.sideSchema}; live tables were not touched.`);
    }
    catch (error) {
        if (progress.safetyBackupId)
            reporter.output(Outputs.SafetyBackupId, progress.safetyBackupId);
        reporter.output(Outputs.Status, 'failed');
        const message = log.mask((0,src_errors/* describeError */.Uc)(error));
        await reporter.summary(plan
            ? renderRestoreSummary({
                ...report(plan, 'failed'),
                error: message,
                unchanged: !progress.rollback && !selective,
            })
            : `### Lifeboat restore: failed before it started\n\n\`\`\`text\n${message}\n\`\`\`\n\nNothing was changed.\n`);
        throw error;
    }
    function report(p, status) {
        return {
            plan: p,
            status,
            store: storeText(settings.store),
            safetyBackupId: progress.safetyBackupId,
            rollback: progress.rollback,
            checks: progress.checks,
            selective: selective && {
                sideSchema: selective.sideSchema,
                tables: selective.tables.map((t) => ({
                    table: `${t.schema}.${t.name}`,
                    side: `${t.sideSchema}.${t.sideName}`,
                    diff: selective.diffs.get(t),
                })),
                copyBack: selective.copyBack,
                review: selective.review,
            },
        };
    }
}
/**
 * The target as it is now. A full restore counts every table (it replaces them all); a
 * selective one counts only the tables it restores, which may be a few of many large ones.
 */
async function inspectTarget(client, settings, expected, manifest) {
    const migrationsTable = manifest.migration?.table ?? DEFAULT_MIGRATIONS_TABLE;
    const full = settings.tables.length === 0;
    const live = await inspectDatabase(client, { migrationsTable, rowCounts: full });
    if (full)
        return live;
    const chosen = new Set(chooseTables(expected, settings.tables).map(key));
    for (const t of live.tables) {
        if (!chosen.has(key(t)) || t.kind !== 'r')
            continue;
        const { rows } = await client.query(`SELECT count(*)::bigint AS n FROM ${tableRef(t.schema, t.name)}`);
        t.rows = Number(rows[0]?.n ?? 0);
    }
    return live;
}
function logSelective(log, result) {
    for (const t of result.tables) {
        log.info(`${t.schema}.${t.name} → ${t.sideSchema}.${t.sideName}: ${diffText(result.diffs.get(t))}`);
    }
    log.info(`SQL to copy rows back (review it first; nothing has run):\n${result.copyBack}`);
}

;// CONCATENATED MODULE: ./src/stores/open.ts

/**
 * The store a settings object names, with its credentials registered as secrets. The S3
 * and cache clients are loaded only for the store that needs them: each adds tens of
 * megabytes to the process and to its start, which a local-store run never pays.
 */
async function openStore(spec, context) {
    const env = context.env ?? process.env;
    switch (spec.kind) {
        case 'local':
            return localStoreFromSpec(spec.path);
        case 's3': {
            const { createS3Store, s3Secrets } = await Promise.all(/* import() */[__nccwpck_require__.e(358), __nccwpck_require__.e(338)]).then(__nccwpck_require__.bind(__nccwpck_require__, 5338));
            s3Secrets(env).forEach((s) => context.log.secret(s));
            return createS3Store(spec.url, env);
        }
        case 'actions-cache': {
            const { createActionsCacheStore } = await Promise.all(/* import() */[__nccwpck_require__.e(119), __nccwpck_require__.e(885), __nccwpck_require__.e(785)]).then(__nccwpck_require__.bind(__nccwpck_require__, 1785));
            return createActionsCacheStore({ env, log: context.log, token: context.githubToken });
        }
    }
}

;// CONCATENATED MODULE: ./src/run.ts





/** One entry for every front door: settings in, a finished mode out. */
async function runMode(settings, ctx) {
    const store = await openStore(settings.store, {
        env: ctx.env,
        log: ctx.log,
        githubToken: settings.githubToken,
    });
    try {
        await runModeIn(settings, { ...ctx, store });
    }
    finally {
        await store.close?.();
    }
}
/** The mode against a store the caller opened (tests pass peers; `now` pins a backup's id). */
async function runModeIn(settings, ctx) {
    switch (settings.mode) {
        case 'backup':
            await runBackup(settings, ctx);
            return;
        case 'gate':
            await runGate(settings, ctx);
            return;
        case 'drill':
            await runDrill(settings, ctx);
            return;
        case 'restore':
            await runRestore(settings, ctx);
            return;
    }
}

;// CONCATENATED MODULE: ./src/cli/args.ts




const COMMANDS = ['backup', 'list', 'prune', 'gate', 'drill', 'restore', 'keygen', 'help'];
/** Every action input is also a flag of the same name; a few short aliases and env fallbacks. */
const ALIASES = {
    recipient: Inputs.EncryptionRecipient,
    identity: Inputs.EncryptionIdentity,
    passphrase: Inputs.EncryptionPassphrase,
};
const ENV_FALLBACKS = {
    [Inputs.DatabaseUrl]: ['DATABASE_URL'],
    [Inputs.TargetUrl]: ['LIFEBOAT_TARGET_URL'],
    [Inputs.Store]: ['LIFEBOAT_STORE'],
    [Inputs.Name]: ['LIFEBOAT_NAME'],
    [Inputs.EncryptionRecipient]: ['LIFEBOAT_RECIPIENT'],
    [Inputs.EncryptionIdentity]: ['LIFEBOAT_IDENTITY'],
    [Inputs.EncryptionPassphrase]: ['LIFEBOAT_PASSPHRASE'],
    [Inputs.GithubToken]: ['GITHUB_TOKEN'],
    [Inputs.PgBinDir]: ['LIFEBOAT_PG_BIN_DIR'],
};
function parseCli(argv, env = process.env) {
    const [first, ...rest] = argv;
    const command = (first && !first.startsWith('-') ? first : 'help');
    if (!COMMANDS.includes(command)) {
        throw new src_errors/* LifeboatError */.H3('input', `Unknown command "${first}"; commands: ${COMMANDS.join(', ')}.`, {
            hint: 'Run `lifeboat help` for usage.',
        });
    }
    const options = {
        json: { type: 'boolean' },
        verbose: { type: 'boolean' },
        yes: { type: 'boolean' },
        help: { type: 'boolean' },
        'identity-file': { type: 'string' },
        'passphrase-file': { type: 'string' },
    };
    for (const name of Object.values(Inputs))
        options[name] = { type: name === Inputs.DryRun ? 'boolean' : 'string' };
    for (const alias of Object.keys(ALIASES))
        options[alias] = { type: 'string' };
    let values;
    try {
        ({ values } = (0,external_node_util_.parseArgs)({
            args: first && !first.startsWith('-') ? rest : argv,
            options,
            strict: true,
            allowPositionals: false,
        }));
    }
    catch (error) {
        throw new src_errors/* LifeboatError */.H3('input', error.message, {
            hint: `Run \`lifeboat ${command} --help\` for the flags.`,
        });
    }
    const fileInputs = {
        [Inputs.EncryptionIdentity]: readKeyFile(values['identity-file'], 'identity-file'),
        [Inputs.EncryptionPassphrase]: readKeyFile(values['passphrase-file'], 'passphrase-file')?.trim(),
    };
    const read = (name) => {
        if (name === Inputs.Mode)
            return command;
        if (name === Inputs.DryRun)
            return values[Inputs.DryRun] ? 'true' : '';
        const alias = Object.entries(ALIASES).find(([, input]) => input === name)?.[0];
        const flag = (values[name] ?? (alias ? values[alias] : undefined) ?? fileInputs[name]);
        if (flag !== undefined)
            return flag;
        for (const variable of ENV_FALLBACKS[name] ?? []) {
            const value = env[variable];
            if (value)
                return name === Inputs.EncryptionIdentity ? identityFromEnv(value) : value;
        }
        if (name === Inputs.Store)
            return './backups';
        return '';
    };
    return {
        command,
        read,
        flags: {
            json: Boolean(values.json),
            verbose: Boolean(values.verbose),
            dryRun: Boolean(values[Inputs.DryRun]),
            yes: Boolean(values.yes),
            help: Boolean(values.help) || command === 'help',
        },
    };
}
function readKeyFile(file, flag) {
    if (!file)
        return undefined;
    try {
        return (0,external_node_fs_.readFileSync)(file, 'utf8');
    }
    catch (error) {
        throw new src_errors/* LifeboatError */.H3('input', `Cannot read --${flag} ${file}: ${error.code ?? error.message}.`, {
            hint: 'Pass the path of the key file written by age-keygen.',
        });
    }
}
/** LIFEBOAT_IDENTITY may hold the key itself or the path of a key file. */
function identityFromEnv(value) {
    if (value.trim().startsWith('AGE-SECRET-KEY-') || value.includes('\n'))
        return value;
    try {
        return (0,external_node_fs_.readFileSync)(value, 'utf8');
    }
    catch {
        return value;
    }
}
const HELP = `lifeboat — keep PostgreSQL recoverable

Usage:
  lifeboat backup  --database-url URL --store DIR|s3://…|actions-cache --recipient age1… [--identity-file key.txt] [--name production] [--keep 14]
  lifeboat list    --store DIR [--name production]
  lifeboat prune   --store DIR --keep 14|30d [--dry-run]
  lifeboat gate    --store DIR [--max-age 24h] [--require readable] [--database-url URL]
  lifeboat drill   --store DIR --target-url URL --identity-file key.txt [--rto-target 30m] [--rpo-target 24h]
  lifeboat restore --store DIR --target-url URL --identity-file key.txt [--backup-id ID] [--dry-run] [--tables a.b,c.d]
  lifeboat keygen  (prints a new age identity and its recipient)

Every action input is also a flag of the same name (--encryption-recipient, --pg-bin-dir, …).
Environment fallbacks: DATABASE_URL, LIFEBOAT_TARGET_URL, LIFEBOAT_STORE, LIFEBOAT_NAME,
LIFEBOAT_RECIPIENT, LIFEBOAT_IDENTITY (a key or a key file path), LIFEBOAT_PASSPHRASE.
The store defaults to ./backups.

Outputs are printed to stdout as name=value lines (--json for one JSON object);
progress and the summary go to stderr. Exit status 0 on success, 1 on failure, 2 on bad usage.`;

;// CONCATENATED MODULE: ./src/cli/list.ts


/** A table of every backup in a set: id, age, size, verification level. */
async function listBackups(store, name, log, json) {
    const { manifests, damaged } = await readAllManifests(store, name);
    const now = Date.now();
    const rows = manifests.map((m) => ({
        backupId: m.backupId,
        createdAt: m.createdAt,
        ageSeconds: Math.round((now - Date.parse(m.completedAt)) / 1000),
        sizeBytes: m.archive.sizeBytes,
        verified: m.verification.level,
        migration: m.migration?.latestVersion ?? null,
    }));
    if (json) {
        process.stdout.write(`${JSON.stringify({ store: store.location, name, backups: rows, damaged }, null, 2)}\n`);
        return;
    }
    if (rows.length === 0 && damaged.length === 0) {
        log.info(`No backups of "${name}" in ${store.location}.`);
        return;
    }
    const lines = [
        ['BACKUP ID', 'AGE', 'SIZE', 'VERIFIED', 'MIGRATION'],
        ...rows.map((r) => [
            r.backupId,
            formatDuration(r.ageSeconds),
            formatBytes(r.sizeBytes),
            r.verified,
            r.migration ?? '-',
        ]),
    ];
    const widths = lines[0].map((_, i) => Math.max(...lines.map((l) => l[i].length)));
    for (const line of lines)
        process.stdout.write(`${line
            .map((c, i) => c.padEnd(widths[i]))
            .join('  ')
            .trimEnd()}\n`);
    for (const d of damaged)
        log.warning(`${d.backupId}: manifest unreadable: ${d.error}`);
}

// EXTERNAL MODULE: ./src/log.ts
var log = __nccwpck_require__(5625);
;// CONCATENATED MODULE: ./src/cli/log.ts

/** Log to stderr, outputs to stdout (`name=value`), so scripts can read the outputs. */
class CliLog {
    options;
    masker = new log/* SecretMask */.fZ();
    progressShown = false;
    constructor(options = {}) {
        this.options = options;
    }
    get err() {
        return this.options.stream ?? process.stderr;
    }
    line(text) {
        this.clearProgress();
        this.err.write(`${this.mask(text)}\n`);
    }
    clearProgress() {
        if (this.progressShown && this.err.isTTY)
            this.err.write('\r\x1b[K');
        this.progressShown = false;
    }
    info(message) {
        this.line(message);
    }
    warning(message) {
        this.line(`warning: ${message}`);
    }
    debug(message) {
        if (this.options.verbose)
            this.line(`debug: ${message}`);
    }
    progress(message) {
        if (this.err.isTTY) {
            this.err.write(`\r\x1b[K${this.mask(message)}`);
            this.progressShown = true;
        }
        else {
            this.line(message);
        }
    }
    secret(value) {
        this.masker.add(value);
    }
    mask(text) {
        return this.masker.mask(text);
    }
    async group(title, fn) {
        this.line(`== ${title}`);
        return fn();
    }
    done() {
        this.clearProgress();
    }
}
class CliReporter {
    log;
    options;
    outputs = {};
    constructor(log, options = {}) {
        this.log = log;
        this.options = options;
    }
    output(name, value) {
        const masked = this.log.mask(value);
        this.outputs[name] = masked;
        if (!this.options.json)
            process.stdout.write(`${name}=${masked}\n`);
    }
    async summary(markdown) {
        if (this.options.summary !== false)
            process.stderr.write(`\n${this.log.mask(markdown)}\n`);
    }
    flush() {
        if (this.options.json)
            process.stdout.write(`${JSON.stringify(this.outputs, null, 2)}\n`);
    }
}

;// CONCATENATED MODULE: ./src/cli/main.ts














/** The CLI: the same settings and modes as the action, with argv and env as inputs. */
async function cli(argv, env = process.env) {
    const log = new CliLog({ verbose: argv.includes('--verbose') });
    try {
        const { command, read, flags } = parseCli(argv, env);
        if (flags.help) {
            process.stdout.write(`${HELP}\n`);
            return 0;
        }
        if (command === 'keygen') {
            const { identity, recipient } = generateIdentity();
            process.stdout.write(`# created: ${new Date().toISOString()}\n# public key: ${recipient}\n${identity}\n`);
            return 0;
        }
        if (command === 'list' || command === 'prune') {
            const store = await openStore(parseStore(read(Inputs.Store)), {
                env,
                log,
                githubToken: read(Inputs.GithubToken) || undefined,
            });
            const name = read(Inputs.Name) || 'production';
            try {
                if (command === 'list') {
                    await listBackups(store, name, log, flags.json);
                }
                else {
                    const keep = read(Inputs.Keep);
                    if (!keep)
                        throw new src_errors/* LifeboatError */.H3('input', 'prune needs --keep (a count like 14 or an age like 30d).');
                    const newest = (await (0,stores_store/* listBackupIds */.hf)(store, name))[0];
                    if (newest)
                        await applyRetention(store, name, parseRetention(keep), newest, log, { dryRun: flags.dryRun });
                    else
                        log.info(`No backups of "${name}" in ${store.location}.`);
                }
            }
            finally {
                await store.close?.();
            }
            return 0;
        }
        const settings = parseSettings(read, (value) => log.secret(value));
        const reporter = new CliReporter(log, { json: flags.json });
        await runMode(settings, {
            log,
            reporter,
            env,
            prompt: process.stdin.isTTY && !flags.yes ? ask : undefined,
        });
        log.done();
        reporter.flush();
        return 0;
    }
    catch (error) {
        log.done();
        process.stderr.write(`error: ${log.mask((0,src_errors/* describeError */.Uc)(error))}\n`);
        return error instanceof src_errors/* LifeboatError */.H3 && error.code === 'input' ? 2 : 1;
    }
}
async function ask(question) {
    const rl = (0,promises_namespaceObject.createInterface)({ input: process.stdin, output: process.stderr });
    try {
        return await rl.question(question);
    }
    finally {
        rl.close();
    }
}


/***/ }),

/***/ 3916:
/***/ ((__unused_webpack_module, __webpack_exports__, __nccwpck_require__) => {

/* harmony export */ __nccwpck_require__.d(__webpack_exports__, {
/* harmony export */   H3: () => (/* binding */ LifeboatError),
/* harmony export */   Uc: () => (/* binding */ describeError),
/* harmony export */   rx: () => (/* binding */ isLifeboatError)
/* harmony export */ });
class LifeboatError extends Error {
    code;
    hint;
    constructor(code, message, options = {}) {
        super(message, options.cause === undefined ? undefined : { cause: options.cause });
        this.name = 'LifeboatError';
        this.code = code;
        this.hint = options.hint;
    }
}
/** One line for humans: the message, then the hint when there is one. */
function describeError(error) {
    if (error instanceof LifeboatError) {
        return error.hint ? `${error.message}\nHint: ${error.hint}` : error.message;
    }
    if (error instanceof Error)
        return error.message || error.name;
    if (typeof error === 'string')
        return error;
    try {
        return `Unexpected failure: ${JSON.stringify(error)}`;
    }
    catch {
        return 'Unexpected failure of an unknown kind';
    }
}
function isLifeboatError(error, code) {
    return error instanceof LifeboatError && (code === undefined || error.code === code);
}


/***/ }),

/***/ 8476:
/***/ ((__unused_webpack_module, __webpack_exports__, __nccwpck_require__) => {

/* harmony export */ __nccwpck_require__.d(__webpack_exports__, {
/* harmony export */   n: () => (/* binding */ onInterrupt)
/* harmony export */ });
/**
 * Cleanup that must finish before the process dies of SIGINT or SIGTERM, such as dropping
 * a drill database on a server that outlives the job. A cancelled GitHub Actions job gets
 * SIGINT, then SIGTERM 7.5 s later, then SIGKILL 2.5 s after that; cleanups get
 * CLEANUP_LIMIT_MS of that time, then the process dies by the signal it got, as it would
 * have without them. A second signal during cleanup ends the process at once.
 */
const CLEANUP_LIMIT_MS = 5_000;
const SIGNALS = ['SIGINT', 'SIGTERM'];
const cleanups = new Set();
const running = [];
let hooked = false;
let interrupted;
/** Runs `cleanup` if a signal arrives before the returned function is called. */
function onInterrupt(cleanup) {
    if (interrupted) {
        // Registered while the process is already stopping: clean up now, within the same limit.
        running.push(start(cleanup));
        return () => undefined;
    }
    if (!hooked)
        for (const signal of SIGNALS)
            process.on(signal, handle);
    hooked = true;
    cleanups.add(cleanup);
    return () => {
        cleanups.delete(cleanup);
        if (cleanups.size === 0 && !interrupted)
            unhook();
    };
}
function unhook() {
    for (const signal of SIGNALS)
        process.off(signal, handle);
    hooked = false;
}
/** A cleanup that throws at once fails like one that rejects: it never stops the others. */
function start(cleanup) {
    return Promise.resolve().then(cleanup);
}
function handle(signal) {
    if (interrupted)
        return die(signal);
    interrupted = signal;
    process.stderr.write(`Lifeboat got ${signal}: cleaning up before it stops.\n`);
    running.push(...[...cleanups].map(start));
    cleanups.clear();
    const limit = new Promise((resolve) => setTimeout(resolve, CLEANUP_LIMIT_MS).unref());
    // Cleanups registered by the ones running are awaited too.
    const all = (async () => {
        let seen = 0;
        while (seen < running.length) {
            const batch = running.slice(seen);
            seen = running.length;
            await Promise.allSettled(batch);
        }
    })();
    void Promise.race([all, limit]).then(() => die(signal));
}
function die(signal) {
    unhook();
    // Die by the signal (exit status 128 + n), unless another handler took charge of it.
    if (process.listenerCount(signal) === 0)
        process.kill(process.pid, signal);
}


/***/ }),

/***/ 5625:
/***/ ((__unused_webpack_module, __webpack_exports__, __nccwpck_require__) => {

/* harmony export */ __nccwpck_require__.d(__webpack_exports__, {
/* harmony export */   eu: () => (/* binding */ MemoryLog),
/* harmony export */   fZ: () => (/* binding */ SecretMask)
/* harmony export */ });
/* unused harmony export MemoryReporter */
/** Replaces every registered secret in a string; used by every Log implementation. */
class SecretMask {
    secrets = new Set();
    add(value) {
        if (!value || value.length < 3)
            return;
        this.secrets.add(value);
        // Tools quote secrets URL-encoded as often as raw.
        const encoded = encodeURIComponent(value);
        if (encoded !== value)
            this.secrets.add(encoded);
    }
    mask(text) {
        let out = text;
        // Longest first, so a secret containing another is masked whole.
        for (const s of [...this.secrets].sort((a, b) => b.length - a.length)) {
            out = out.split(s).join('***');
        }
        return out;
    }
    values() {
        return [...this.secrets];
    }
}
/** A Log that remembers everything; for tests and for building summaries. */
class MemoryLog {
    lines = [];
    masker = new SecretMask();
    info(message) {
        this.lines.push({ level: 'info', message: this.masker.mask(message) });
    }
    warning(message) {
        this.lines.push({ level: 'warning', message: this.masker.mask(message) });
    }
    debug(message) {
        this.lines.push({ level: 'debug', message: this.masker.mask(message) });
    }
    progress(message) {
        this.lines.push({ level: 'progress', message: this.masker.mask(message) });
    }
    secret(value) {
        this.masker.add(value);
    }
    mask(text) {
        return this.masker.mask(text);
    }
    async group(title, fn) {
        this.info(title);
        return fn();
    }
    text() {
        return this.lines.map((l) => `${l.level}: ${l.message}`).join('\n');
    }
}
class MemoryReporter {
    outputs = {};
    summaries = [];
    output(name, value) {
        this.outputs[name] = value;
    }
    async summary(markdown) {
        this.summaries.push(markdown);
    }
}


/***/ }),

/***/ 4703:
/***/ ((__unused_webpack_module, __webpack_exports__, __nccwpck_require__) => {

/* harmony export */ __nccwpck_require__.d(__webpack_exports__, {
/* harmony export */   OK: () => (/* binding */ MANIFEST_SUFFIX),
/* harmony export */   Rn: () => (/* binding */ manifestKey),
/* harmony export */   To: () => (/* binding */ ARCHIVE_SUFFIX),
/* harmony export */   b5: () => (/* binding */ latestBackupId),
/* harmony export */   gD: () => (/* binding */ keyExists),
/* harmony export */   hf: () => (/* binding */ listBackupIds),
/* harmony export */   q2: () => (/* binding */ archiveKey)
/* harmony export */ });
const ARCHIVE_SUFFIX = '.dump.zst.age';
const MANIFEST_SUFFIX = '.manifest.json';
function archiveKey(name, backupId) {
    return `${name}/${backupId}${ARCHIVE_SUFFIX}`;
}
function manifestKey(name, backupId) {
    return `${name}/${backupId}${MANIFEST_SUFFIX}`;
}
/** Backup ids of every manifest stored under `name`, newest first. */
async function listBackupIds(store, name) {
    const keys = await store.list(`${name}/`);
    return keys
        .filter((k) => k.endsWith(MANIFEST_SUFFIX))
        .map((k) => k.slice(name.length + 1, -MANIFEST_SUFFIX.length))
        .filter((id) => !id.includes('/'))
        .sort()
        .reverse();
}
async function latestBackupId(store, name) {
    const aware = store;
    if (typeof aware.latestBackupId === 'function')
        return aware.latestBackupId(name);
    return (await listBackupIds(store, name))[0];
}
/** Asks the store directly when it can, else looks for the key among its siblings. */
async function keyExists(store, key) {
    if (typeof store.exists === 'function')
        return store.exists(key);
    const dir = key.includes('/') ? key.slice(0, key.lastIndexOf('/') + 1) : '';
    return (await store.list(dir)).includes(key);
}


/***/ }),

/***/ 3646:
/***/ ((__unused_webpack_module, __webpack_exports__, __nccwpck_require__) => {

/* harmony export */ __nccwpck_require__.d(__webpack_exports__, {
/* harmony export */   Pl: () => (/* binding */ writePrivateFile),
/* harmony export */   fb: () => (/* binding */ createPrivateTempDir),
/* harmony export */   o$: () => (/* binding */ removeOnExit)
/* harmony export */ });
/* unused harmony export privateWriteStream */
/* harmony import */ var node_fs__WEBPACK_IMPORTED_MODULE_0__ = __nccwpck_require__(3024);
/* harmony import */ var node_fs__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__nccwpck_require__.n(node_fs__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var node_fs_promises__WEBPACK_IMPORTED_MODULE_1__ = __nccwpck_require__(1455);
/* harmony import */ var node_fs_promises__WEBPACK_IMPORTED_MODULE_1___default = /*#__PURE__*/__nccwpck_require__.n(node_fs_promises__WEBPACK_IMPORTED_MODULE_1__);
/* harmony import */ var node_os__WEBPACK_IMPORTED_MODULE_2__ = __nccwpck_require__(8161);
/* harmony import */ var node_os__WEBPACK_IMPORTED_MODULE_2___default = /*#__PURE__*/__nccwpck_require__.n(node_os__WEBPACK_IMPORTED_MODULE_2__);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_3__ = __nccwpck_require__(6760);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_3___default = /*#__PURE__*/__nccwpck_require__.n(node_path__WEBPACK_IMPORTED_MODULE_3__);
/* harmony import */ var _interrupt_js__WEBPACK_IMPORTED_MODULE_4__ = __nccwpck_require__(8476);





const live = new Set();
let releaseOnSignal;
async function createPrivateTempDir(prefix, env = process.env) {
    const base = env.RUNNER_TEMP || node_os__WEBPACK_IMPORTED_MODULE_2___default().tmpdir();
    const dir = await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_1__.mkdtemp)(node_path__WEBPACK_IMPORTED_MODULE_3___default().join(base, prefix));
    // mkdtemp already uses 0700; say so explicitly rather than trust the platform.
    await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_1__.chmod)(dir, 0o700);
    track(dir);
    return {
        path: dir,
        file(name) {
            if (name !== node_path__WEBPACK_IMPORTED_MODULE_3___default().basename(name) || name === '.' || name === '..') {
                throw new Error(`Not a plain file name: ${name}`);
            }
            return node_path__WEBPACK_IMPORTED_MODULE_3___default().join(dir, name);
        },
        async remove() {
            await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_1__.rm)(dir, { recursive: true, force: true, maxRetries: 3 });
            untrack(dir);
        },
    };
}
/** Creates a file only its owner can read; fails if it exists. */
function privateWriteStream(file) {
    return createWriteStream(file, { flags: 'wx', mode: 0o600 });
}
async function writePrivateFile(file, data) {
    await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_1__.writeFile)(file, data, { flag: 'wx', mode: 0o600 });
}
/**
 * Removes `path` (a file or directory) on process exit and on SIGINT/SIGTERM, unless the
 * returned function is called first, once the path was moved into place or removed.
 */
function removeOnExit(path) {
    track(path);
    return () => untrack(path);
}
function track(dir) {
    if (live.size === 0) {
        process.on('exit', removeAllNow);
        releaseOnSignal = (0,_interrupt_js__WEBPACK_IMPORTED_MODULE_4__/* .onInterrupt */ .n)(async () => removeAllNow());
    }
    live.add(dir);
}
function untrack(dir) {
    live.delete(dir);
    if (live.size === 0)
        unhook();
}
function unhook() {
    process.off('exit', removeAllNow);
    releaseOnSignal?.();
    releaseOnSignal = undefined;
}
/** Synchronous, because 'exit' and a dying process allow nothing else. */
function removeAllNow() {
    for (const dir of live)
        (0,node_fs__WEBPACK_IMPORTED_MODULE_0__.rmSync)(dir, { recursive: true, force: true, maxRetries: 3 });
    live.clear();
}


/***/ }),

/***/ 4390:
/***/ ((module) => {

module.exports = eval("require")("pg-native");


/***/ }),

/***/ 2613:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("assert");

/***/ }),

/***/ 181:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("buffer");

/***/ }),

/***/ 5317:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("child_process");

/***/ }),

/***/ 6982:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("crypto");

/***/ }),

/***/ 2250:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("dns");

/***/ }),

/***/ 4434:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("events");

/***/ }),

/***/ 9896:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("fs");

/***/ }),

/***/ 8611:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("http");

/***/ }),

/***/ 5692:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("https");

/***/ }),

/***/ 9278:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("net");

/***/ }),

/***/ 4589:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:assert");

/***/ }),

/***/ 6698:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:async_hooks");

/***/ }),

/***/ 4573:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:buffer");

/***/ }),

/***/ 1421:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:child_process");

/***/ }),

/***/ 7540:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:console");

/***/ }),

/***/ 7598:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:crypto");

/***/ }),

/***/ 3053:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:diagnostics_channel");

/***/ }),

/***/ 610:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:dns");

/***/ }),

/***/ 8474:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:events");

/***/ }),

/***/ 3024:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:fs");

/***/ }),

/***/ 1455:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:fs/promises");

/***/ }),

/***/ 7067:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:http");

/***/ }),

/***/ 2467:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:http2");

/***/ }),

/***/ 4708:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:https");

/***/ }),

/***/ 7030:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:net");

/***/ }),

/***/ 8161:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:os");

/***/ }),

/***/ 6760:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:path");

/***/ }),

/***/ 643:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:perf_hooks");

/***/ }),

/***/ 1708:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:process");

/***/ }),

/***/ 1792:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:querystring");

/***/ }),

/***/ 7075:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:stream");

/***/ }),

/***/ 6466:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:stream/promises");

/***/ }),

/***/ 8500:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:timers/promises");

/***/ }),

/***/ 1692:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:tls");

/***/ }),

/***/ 3136:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:url");

/***/ }),

/***/ 7975:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:util");

/***/ }),

/***/ 3429:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:util/types");

/***/ }),

/***/ 5919:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:worker_threads");

/***/ }),

/***/ 8522:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:zlib");

/***/ }),

/***/ 857:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("os");

/***/ }),

/***/ 6928:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("path");

/***/ }),

/***/ 2203:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("stream");

/***/ }),

/***/ 3193:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("string_decoder");

/***/ }),

/***/ 3557:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("timers");

/***/ }),

/***/ 4756:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("tls");

/***/ }),

/***/ 2018:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("tty");

/***/ }),

/***/ 7016:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("url");

/***/ }),

/***/ 9023:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("util");

/***/ }),

/***/ 8253:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("util/types");

/***/ })

/******/ });
/************************************************************************/
/******/ // The module cache
/******/ var __webpack_module_cache__ = {};
/******/ 
/******/ // The require function
/******/ function __nccwpck_require__(moduleId) {
/******/ 	// Check if module is in cache
/******/ 	var cachedModule = __webpack_module_cache__[moduleId];
/******/ 	if (cachedModule !== undefined) {
/******/ 		return cachedModule.exports;
/******/ 	}
/******/ 	// Create a new module (and put it into the cache)
/******/ 	var module = __webpack_module_cache__[moduleId] = {
/******/ 		// no module.id needed
/******/ 		// no module.loaded needed
/******/ 		exports: {}
/******/ 	};
/******/ 
/******/ 	// Execute the module function
/******/ 	var threw = true;
/******/ 	try {
/******/ 		__webpack_modules__[moduleId].call(module.exports, module, module.exports, __nccwpck_require__);
/******/ 		threw = false;
/******/ 	} finally {
/******/ 		if(threw) delete __webpack_module_cache__[moduleId];
/******/ 	}
/******/ 
/******/ 	// Return the exports of the module
/******/ 	return module.exports;
/******/ }
/******/ 
/******/ // expose the modules object (__webpack_modules__)
/******/ __nccwpck_require__.m = __webpack_modules__;
/******/ 
/************************************************************************/
/******/ /* webpack/runtime/asset-relocator-loader */
/******/ if (typeof __nccwpck_require__ !== 'undefined') __nccwpck_require__.ab = decodeURIComponent(new URL('.', import.meta.url).pathname).slice(import.meta.url.match(/^file:\/\/\/\w:/) ? 1 : 0, -1) + "/";
/******/ 
/******/ /* webpack/runtime/async module */
/******/ (() => {
/******/ 	var webpackQueues = typeof Symbol === "function" ? Symbol("webpack queues") : "__webpack_queues__";
/******/ 	var webpackExports = typeof Symbol === "function" ? Symbol("webpack exports") : "__webpack_exports__";
/******/ 	var webpackError = typeof Symbol === "function" ? Symbol("webpack error") : "__webpack_error__";
/******/ 	var resolveQueue = (queue) => {
/******/ 		if(queue && queue.d < 1) {
/******/ 			queue.d = 1;
/******/ 			queue.forEach((fn) => (fn.r--));
/******/ 			queue.forEach((fn) => (fn.r-- ? fn.r++ : fn()));
/******/ 		}
/******/ 	}
/******/ 	var wrapDeps = (deps) => (deps.map((dep) => {
/******/ 		if(dep !== null && typeof dep === "object") {
/******/ 			if(dep[webpackQueues]) return dep;
/******/ 			if(dep.then) {
/******/ 				var queue = [];
/******/ 				queue.d = 0;
/******/ 				dep.then((r) => {
/******/ 					obj[webpackExports] = r;
/******/ 					resolveQueue(queue);
/******/ 				}, (e) => {
/******/ 					obj[webpackError] = e;
/******/ 					resolveQueue(queue);
/******/ 				});
/******/ 				var obj = {};
/******/ 				obj[webpackQueues] = (fn) => (fn(queue));
/******/ 				return obj;
/******/ 			}
/******/ 		}
/******/ 		var ret = {};
/******/ 		ret[webpackQueues] = x => {};
/******/ 		ret[webpackExports] = dep;
/******/ 		return ret;
/******/ 	}));
/******/ 	__nccwpck_require__.a = (module, body, hasAwait) => {
/******/ 		var queue;
/******/ 		hasAwait && ((queue = []).d = -1);
/******/ 		var depQueues = new Set();
/******/ 		var exports = module.exports;
/******/ 		var currentDeps;
/******/ 		var outerResolve;
/******/ 		var reject;
/******/ 		var promise = new Promise((resolve, rej) => {
/******/ 			reject = rej;
/******/ 			outerResolve = resolve;
/******/ 		});
/******/ 		promise[webpackExports] = exports;
/******/ 		promise[webpackQueues] = (fn) => (queue && fn(queue), depQueues.forEach(fn), promise["catch"](x => {}));
/******/ 		module.exports = promise;
/******/ 		body((deps) => {
/******/ 			currentDeps = wrapDeps(deps);
/******/ 			var fn;
/******/ 			var getResult = () => (currentDeps.map((d) => {
/******/ 				if(d[webpackError]) throw d[webpackError];
/******/ 				return d[webpackExports];
/******/ 			}))
/******/ 			var promise = new Promise((resolve) => {
/******/ 				fn = () => (resolve(getResult));
/******/ 				fn.r = 0;
/******/ 				var fnQueue = (q) => (q !== queue && !depQueues.has(q) && (depQueues.add(q), q && !q.d && (fn.r++, q.push(fn))));
/******/ 				currentDeps.map((dep) => (dep[webpackQueues](fnQueue)));
/******/ 			});
/******/ 			return fn.r ? promise : getResult();
/******/ 		}, (err) => ((err ? reject(promise[webpackError] = err) : outerResolve(exports)), resolveQueue(queue)));
/******/ 		queue && queue.d < 0 && (queue.d = 0);
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/compat get default export */
/******/ (() => {
/******/ 	// getDefaultExport function for compatibility with non-harmony modules
/******/ 	__nccwpck_require__.n = (module) => {
/******/ 		var getter = module && module.__esModule ?
/******/ 			() => (module['default']) :
/******/ 			() => (module);
/******/ 		__nccwpck_require__.d(getter, { a: getter });
/******/ 		return getter;
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/create fake namespace object */
/******/ (() => {
/******/ 	var getProto = Object.getPrototypeOf ? (obj) => (Object.getPrototypeOf(obj)) : (obj) => (obj.__proto__);
/******/ 	var leafPrototypes;
/******/ 	// create a fake namespace object
/******/ 	// mode & 1: value is a module id, require it
/******/ 	// mode & 2: merge all properties of value into the ns
/******/ 	// mode & 4: return value when already ns object
/******/ 	// mode & 16: return value when it's Promise-like
/******/ 	// mode & 8|1: behave like require
/******/ 	__nccwpck_require__.t = function(value, mode) {
/******/ 		if(mode & 1) value = this(value);
/******/ 		if(mode & 8) return value;
/******/ 		if(typeof value === 'object' && value) {
/******/ 			if((mode & 4) && value.__esModule) return value;
/******/ 			if((mode & 16) && typeof value.then === 'function') return value;
/******/ 		}
/******/ 		var ns = Object.create(null);
/******/ 		__nccwpck_require__.r(ns);
/******/ 		var def = {};
/******/ 		leafPrototypes = leafPrototypes || [null, getProto({}), getProto([]), getProto(getProto)];
/******/ 		for(var current = mode & 2 && value; typeof current == 'object' && !~leafPrototypes.indexOf(current); current = getProto(current)) {
/******/ 			Object.getOwnPropertyNames(current).forEach((key) => (def[key] = () => (value[key])));
/******/ 		}
/******/ 		def['default'] = () => (value);
/******/ 		__nccwpck_require__.d(ns, def);
/******/ 		return ns;
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/define property getters */
/******/ (() => {
/******/ 	// define getter functions for harmony exports
/******/ 	__nccwpck_require__.d = (exports, definition) => {
/******/ 		for(var key in definition) {
/******/ 			if(__nccwpck_require__.o(definition, key) && !__nccwpck_require__.o(exports, key)) {
/******/ 				Object.defineProperty(exports, key, { enumerable: true, get: definition[key] });
/******/ 			}
/******/ 		}
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/ensure chunk */
/******/ (() => {
/******/ 	__nccwpck_require__.f = {};
/******/ 	// This file contains only the entry chunk.
/******/ 	// The chunk loading function for additional chunks
/******/ 	__nccwpck_require__.e = (chunkId) => {
/******/ 		return Promise.all(Object.keys(__nccwpck_require__.f).reduce((promises, key) => {
/******/ 			__nccwpck_require__.f[key](chunkId, promises);
/******/ 			return promises;
/******/ 		}, []));
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/get javascript chunk filename */
/******/ (() => {
/******/ 	// This function allow to reference async chunks
/******/ 	__nccwpck_require__.u = (chunkId) => {
/******/ 		// return url for filenames based on template
/******/ 		return "" + chunkId + ".index.js";
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/hasOwnProperty shorthand */
/******/ (() => {
/******/ 	__nccwpck_require__.o = (obj, prop) => (Object.prototype.hasOwnProperty.call(obj, prop))
/******/ })();
/******/ 
/******/ /* webpack/runtime/make namespace object */
/******/ (() => {
/******/ 	// define __esModule on exports
/******/ 	__nccwpck_require__.r = (exports) => {
/******/ 		if(typeof Symbol !== 'undefined' && Symbol.toStringTag) {
/******/ 			Object.defineProperty(exports, Symbol.toStringTag, { value: 'Module' });
/******/ 		}
/******/ 		Object.defineProperty(exports, '__esModule', { value: true });
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/import chunk loading */
/******/ (() => {
/******/ 	// no baseURI
/******/ 	
/******/ 	// object to store loaded and loading chunks
/******/ 	// undefined = chunk not loaded, null = chunk preloaded/prefetched
/******/ 	// [resolve, Promise] = chunk loading, 0 = chunk loaded
/******/ 	var installedChunks = {
/******/ 		792: 0
/******/ 	};
/******/ 	
/******/ 	var installChunk = (data) => {
/******/ 		var {ids, modules, runtime} = data;
/******/ 		// add "modules" to the modules object,
/******/ 		// then flag all "ids" as loaded and fire callback
/******/ 		var moduleId, chunkId, i = 0;
/******/ 		for(moduleId in modules) {
/******/ 			if(__nccwpck_require__.o(modules, moduleId)) {
/******/ 				__nccwpck_require__.m[moduleId] = modules[moduleId];
/******/ 			}
/******/ 		}
/******/ 		if(runtime) runtime(__nccwpck_require__);
/******/ 		for(;i < ids.length; i++) {
/******/ 			chunkId = ids[i];
/******/ 			if(__nccwpck_require__.o(installedChunks, chunkId) && installedChunks[chunkId]) {
/******/ 				installedChunks[chunkId][0]();
/******/ 			}
/******/ 			installedChunks[ids[i]] = 0;
/******/ 		}
/******/ 	
/******/ 	}
/******/ 	
/******/ 	__nccwpck_require__.f.j = (chunkId, promises) => {
/******/ 			// import() chunk loading for javascript
/******/ 			var installedChunkData = __nccwpck_require__.o(installedChunks, chunkId) ? installedChunks[chunkId] : undefined;
/******/ 			if(installedChunkData !== 0) { // 0 means "already installed".
/******/ 	
/******/ 				// a Promise means "currently loading".
/******/ 				if(installedChunkData) {
/******/ 					promises.push(installedChunkData[1]);
/******/ 				} else {
/******/ 					if(true) { // all chunks have JS
/******/ 						// setup Promise in chunk cache
/******/ 						var promise = import("./" + __nccwpck_require__.u(chunkId)).then(installChunk, (e) => {
/******/ 							if(installedChunks[chunkId] !== 0) installedChunks[chunkId] = undefined;
/******/ 							throw e;
/******/ 						});
/******/ 						var promise = Promise.race([promise, new Promise((resolve) => (installedChunkData = installedChunks[chunkId] = [resolve]))])
/******/ 						promises.push(installedChunkData[1] = promise);
/******/ 					}
/******/ 				}
/******/ 			}
/******/ 	};
/******/ 	
/******/ 	// no prefetching
/******/ 	
/******/ 	// no preloaded
/******/ 	
/******/ 	// no external install chunk
/******/ 	
/******/ 	// no on chunks loaded
/******/ })();
/******/ 
/************************************************************************/
/******/ 
/******/ // startup
/******/ // Load entry module and return exports
/******/ // This entry module used 'module' so it can't be inlined
/******/ var __webpack_exports__ = __nccwpck_require__(5581);
/******/ __webpack_exports__ = await __webpack_exports__;
/******/ 
