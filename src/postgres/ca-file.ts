import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { removeOnExit } from '../tempfiles.js';
import { tempRoot } from '../settings/environment.js';

/**
 * libpq reads its root CA only from a file (sslrootcert), while `database-ca` arrives as
 * text. Each CA is written once, on first use, to a file of its own in a private
 * directory (0700, file 0600), and removed when the run ends or the process exits.
 * Synchronous, because the environment of a tool is built synchronously, and tiny.
 */
const files = new Map<string, { dir: string; file: string; forget: () => void }>();

export function caFileFor(pem: string, env: NodeJS.ProcessEnv = process.env): string {
  const key = createHash('sha256').update(pem).digest('hex');
  const known = files.get(key);
  if (known) return known.file;
  const dir = mkdtempSync(path.join(tempRoot(env), 'lifeboat-ca-'));
  chmodSync(dir, 0o700);
  const forget = removeOnExit(dir);
  const file = path.join(dir, 'root.crt');
  writeFileSync(file, pem.endsWith('\n') ? pem : `${pem}\n`, { mode: 0o600, flag: 'wx' });
  files.set(key, { dir, file, forget });
  return file;
}

/** Removes every CA file written; the next use writes it again. */
export function removeCaFiles(): void {
  for (const { dir, forget } of files.values()) {
    rmSync(dir, { recursive: true, force: true });
    forget();
  }
  files.clear();
}
