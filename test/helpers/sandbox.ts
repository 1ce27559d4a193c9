/**
 * A private sandbox for a test file: TMPDIR and RUNNER_TEMP point into it while it is open,
 * and its local stores live in it, so every file Lifeboat or its child processes create can be
 * found afterwards and searched for secrets and plaintext, with nothing from other test files
 * running alongside. Start clusters before opening it, so their data directories (the
 * databases themselves) stay outside it.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LocalStore } from '../../src/stores/local.js';

export interface Sandbox {
  root: string;
  /** What TMPDIR (os.tmpdir()) points at while the sandbox is open. */
  tmp: string;
  /** What RUNNER_TEMP points at while the sandbox is open. */
  runnerTemp: string;
  /** A fresh local store directory inside the sandbox. */
  localStore(name: string): Promise<LocalStore>;
  close(): Promise<void>;
}

export async function openSandbox(): Promise<Sandbox> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'lifeboat-faults-'));
  const tmp = path.join(root, 'tmp');
  const runnerTemp = path.join(root, 'runner');
  const stores = path.join(root, 'stores');
  await Promise.all([tmp, runnerTemp, stores].map((d) => mkdir(d, { recursive: true })));
  const saved = { TMPDIR: process.env.TMPDIR, RUNNER_TEMP: process.env.RUNNER_TEMP };
  process.env.TMPDIR = tmp;
  process.env.RUNNER_TEMP = runnerTemp;
  return {
    root,
    tmp,
    runnerTemp,
    async localStore(name) {
      const dir = path.join(stores, name);
      await mkdir(dir, { recursive: true });
      return new LocalStore(dir);
    },
    async close() {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      await rm(root, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}
