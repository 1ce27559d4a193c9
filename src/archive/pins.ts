import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { z } from 'zod';
import { LifeboatError } from '../errors.js';
import type { BackupStore } from '../stores/store.js';
import { parseSetKey, pinKey } from './store-keys.js';

/**
 * A pin keeps one backup from every retention rule (`<name>/<backup-id>.pin.json`). It is
 * its own small object beside the manifest, so manifests stay write-once and unpinning is
 * a delete. The reason is a person's text: it is cleaned of control characters, bounded,
 * only ever shown, and never decides anything; a pin counts only for the key it was read
 * under (one copied from another backup or set is ignored).
 */
export const PIN_FORMAT = 'lifeboat-pin';
export const MAX_PIN_REASON = 200;

const PinSchema = z.object({
  format: z.literal(PIN_FORMAT),
  formatVersion: z.literal(1),
  name: z.string(),
  backupId: z.string(),
  pinnedAt: z.string(),
  reason: z.string(),
});

export type Pin = z.infer<typeof PinSchema>;

/** One line of printable text: no control characters (terminal escapes, newlines), bounded. */
export function cleanReason(text: string): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]+/g, ' ');
  const trimmed = flat.replace(/\s+/g, ' ').trim();
  return trimmed.length > MAX_PIN_REASON ? `${trimmed.slice(0, MAX_PIN_REASON - 1)}…` : trimmed;
}

/** Writes (or replaces, a new reason) the pin of one backup. */
export async function writePin(
  store: BackupStore,
  name: string,
  backupId: string,
  reason: string,
  now: Date = new Date(),
): Promise<Pin> {
  const pin: Pin = {
    format: PIN_FORMAT,
    formatVersion: 1,
    name,
    backupId,
    pinnedAt: now.toISOString(),
    reason: cleanReason(reason),
  };
  await store.put(pinKey(name, backupId), Readable.from([`${JSON.stringify(pin, null, 2)}\n`]), {
    overwrite: true,
  });
  return pin;
}

export async function removePin(store: BackupStore, name: string, backupId: string): Promise<boolean> {
  const key = pinKey(name, backupId);
  if (!(await store.stat(key))) return false;
  await store.delete(key);
  return true;
}

/**
 * Every pin of a set, by backup id. A pin that does not parse still pins its backup (a
 * damaged pin must not let retention delete what someone meant to keep), with its reason
 * saying so.
 */
export async function readPins(store: BackupStore, name: string): Promise<Map<string, Pin>> {
  const pins = new Map<string, Pin>();
  for (const key of await store.list(`${name}/`)) {
    const parsed = parseSetKey(name, key);
    if (parsed?.kind !== 'pin') continue;
    const { backupId } = parsed;
    const bytes = await buffer(await store.get(key)).catch((error: unknown) => {
      if (error instanceof LifeboatError && error.code === 'not-found') return undefined;
      throw error;
    });
    if (!bytes) continue;
    pins.set(backupId, parsePin(bytes, name, backupId));
  }
  return pins;
}

function parsePin(bytes: Buffer, name: string, backupId: string): Pin {
  const unreadable = (why: string): Pin => ({
    format: PIN_FORMAT,
    formatVersion: 1,
    name,
    backupId,
    pinnedAt: '',
    reason: `(pin record ${why}; kept pinned all the same)`,
  });
  try {
    const pin = PinSchema.parse(JSON.parse(bytes.toString('utf8')));
    if (pin.name !== name || pin.backupId !== backupId) return unreadable('names another backup');
    return { ...pin, reason: cleanReason(pin.reason) };
  } catch {
    return unreadable('unreadable');
  }
}
