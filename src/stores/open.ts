import type { Log } from '../log.js';
import { localStoreFromSpec } from './local.js';
import type { BackupStore, StoreSpec } from './store.js';

export interface StoreContext {
  env?: NodeJS.ProcessEnv;
  log: Log;
  githubToken?: string;
}

/**
 * The store a settings object names, with its credentials registered as secrets. The S3
 * and cache clients are loaded only for the store that needs them: each adds tens of
 * megabytes to the process and to its start, which a local-store run never pays.
 */
export async function openStore(spec: StoreSpec, context: StoreContext): Promise<BackupStore> {
  const env = context.env ?? process.env;
  switch (spec.kind) {
    case 'local':
      return localStoreFromSpec(spec.path);
    case 's3': {
      const { createS3Store, s3Secrets } = await import('./s3.js');
      s3Secrets(env).forEach((s) => context.log.secret(s));
      return createS3Store(spec.url, env, { onResume: (message) => context.log.warning(message) });
    }
    case 'actions-cache': {
      const { createActionsCacheStore } = await import('./actions-cache.js');
      return createActionsCacheStore({ env, log: context.log, token: context.githubToken });
    }
  }
}
