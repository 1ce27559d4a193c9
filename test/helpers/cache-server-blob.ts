import http from 'node:http';
import { createRequire } from 'node:module';
import {
  BlobSASPermissions,
  BlobServiceClient,
  generateBlobSASQueryParameters,
  StorageSharedKeyCredential,
  type ContainerClient,
} from '@azure/storage-blob';

/**
 * The blob half of the cache peer: a real Azurite blob service, in memory on 127.0.0.1.
 * Signed URLs name the account's production host, as GitHub's do, because only for
 * `*.blob.core.windows.net` does the client download through the Azure SDK (its production
 * path; any other host gets a plain GET). The host never resolves: the peer's env sets
 * HTTP_PROXY to the peer, which forwards those requests to Azurite. Sitting in the path
 * also lets a test break an upload.
 */

// Azurite's documented development account; it exists in every Azurite.
const ACCOUNT = 'devstoreaccount1';
const ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const CONTAINER = 'actions-cache';
export const BLOB_HOST = `${ACCOUNT}.blob.core.windows.net`;

interface AzuriteServer {
  start(): Promise<void>;
  close(): Promise<void>;
  getHttpServerAddress(): string;
}
type AzuriteServerClass = new (config: unknown) => AzuriteServer;
type AzuriteConfigClass = new (...args: unknown[]) => unknown;

function loadAzurite(): { BlobServer: AzuriteServerClass; BlobConfiguration: AzuriteConfigClass } {
  const require = createRequire(import.meta.url);
  return {
    BlobServer: (require('azurite/dist/src/blob/BlobServer.js') as { default: AzuriteServerClass }).default,
    BlobConfiguration: (
      require('azurite/dist/src/blob/BlobConfiguration.js') as { default: AzuriteConfigClass }
    ).default,
  };
}

export class BlobBackend {
  private failNext = false;

  private constructor(
    private readonly azurite: AzuriteServer,
    private readonly origin: URL,
    private readonly container: ContainerClient,
    private readonly credential: StorageSharedKeyCredential,
  ) {}

  static async start(): Promise<BlobBackend> {
    const { BlobServer, BlobConfiguration } = loadAzurite();
    // BlobConfiguration takes these positionally, in this order.
    const settings = {
      host: '127.0.0.1',
      port: 0, // any free port
      keepAliveTimeout: 0,
      metadataDBPath: undefined,
      extentDBPath: undefined,
      persistencePathArray: undefined,
      enableAccessLog: false,
      accessLogWriteStream: undefined,
      enableDebugLog: false,
      debugLogFilePath: undefined,
      loose: true,
      skipApiVersionCheck: true, // the SDK may speak a newer API version than this Azurite
      cert: '',
      key: '',
      pwd: '',
      oauth: undefined,
      disableProductStyleUrl: false,
      isMemoryPersistence: true,
    };
    const config = new BlobConfiguration(...Object.values(settings));
    const azurite = new BlobServer(config);
    await azurite.start();
    const origin = new URL(azurite.getHttpServerAddress());
    const credential = new StorageSharedKeyCredential(ACCOUNT, ACCOUNT_KEY);
    const service = new BlobServiceClient(`${origin.origin}/${ACCOUNT}`, credential);
    const container = service.getContainerClient(CONTAINER);
    await container.createIfNotExists();
    return new BlobBackend(azurite, origin, container, credential);
  }

  /** A signed URL for one blob, as the real service hands out. */
  signedUrl(blobName: string, permissions: 'read' | 'write'): string {
    const sas = generateBlobSASQueryParameters(
      {
        containerName: CONTAINER,
        blobName,
        permissions: BlobSASPermissions.parse(permissions === 'read' ? 'r' : 'cw'),
        expiresOn: new Date(Date.now() + 60 * 60 * 1000),
      },
      this.credential,
    );
    return `http://${BLOB_HOST}/${CONTAINER}/${blobName}?${sas.toString()}`;
  }

  /** Size of a committed blob, or undefined when nothing was committed. */
  async size(blobName: string): Promise<number | undefined> {
    const blob = this.container.getBlobClient(blobName);
    if (!(await blob.exists())) return undefined;
    return (await blob.getProperties()).contentLength;
  }

  async remove(blobName: string): Promise<void> {
    await this.container.getBlobClient(blobName).deleteIfExists();
  }

  /** The next blob write is received in full and then refused, as when a signed URL expires mid-upload. */
  failNextUpload(): void {
    this.failNext = true;
  }

  /** Handles one proxied request for `url` (on BLOB_HOST): Azurite takes the account from the path. */
  forward(req: http.IncomingMessage, res: http.ServerResponse, url: URL): void {
    if (this.failNext && req.method === 'PUT') {
      this.failNext = false;
      // Read the body first: answering early would look like a dropped connection, which
      // the SDK retries, instead of a refusal, which it does not.
      req.resume();
      req.on('end', () => {
        res.writeHead(403, { 'content-type': 'application/xml', 'x-ms-error-code': 'AuthenticationFailed' });
        res.end(
          '<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code>' +
            '<Message>Server failed to authenticate the request. Signed expiry time has passed.</Message></Error>',
        );
      });
      return;
    }
    const upstream = http.request(
      {
        host: this.origin.hostname,
        port: this.origin.port,
        method: req.method,
        path: `/${ACCOUNT}${url.pathname}${url.search}`,
        headers: { ...req.headers, host: this.origin.host },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`blob backend unreachable: ${error.message}`);
    });
    req.pipe(upstream);
  }

  async stop(): Promise<void> {
    await this.azurite.close();
  }
}
