import type { StoreSpec } from '../config.js';
import type { Log } from '../log.js';
import { createActionsCacheStore } from './actions-cache.js';
import { localStoreFromSpec } from './local.js';
import { createS3Store, s3Secrets } from './s3.js';
import type { BackupStore } from './store.js';

export interface StoreContext {
  env?: NodeJS.ProcessEnv;
  log: Log;
  githubToken?: string;
}

/** The store a settings object names, with its credentials registered as secrets. */
export function openStore(spec: StoreSpec, context: StoreContext): BackupStore {
  const env = context.env ?? process.env;
  switch (spec.kind) {
    case 'local':
      return localStoreFromSpec(spec.path);
    case 's3':
      s3Secrets(env).forEach((s) => context.log.secret(s));
      return createS3Store(spec.url, env);
    case 'actions-cache':
      return createActionsCacheStore({ env, log: context.log, token: context.githubToken });
  }
}
