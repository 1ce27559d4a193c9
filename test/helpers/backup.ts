import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateIdentity } from '../../src/archive/age/index.js';
import { LocalStore } from '../../src/stores/local.js';

/** A throwaway local store directory and an age key pair, shared by a test file. */
export interface BackupFixture {
  dir: string;
  store: LocalStore;
  identity: string;
  recipient: string;
  cleanup(): Promise<void>;
}

export async function backupFixture(): Promise<BackupFixture> {
  const dir = await mkdtemp(path.join(tmpdir(), 'lifeboat-store-'));
  const { identity, recipient } = generateIdentity();
  return {
    dir,
    store: new LocalStore(dir),
    identity,
    recipient,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
