/**
 * The four properties every fault row must hold, checked by one function:
 *   1. Lifeboat failed (non-zero exit) with a message that names the fault;
 *   2. nothing was marked verified: no new manifest, and no manifest's level rose;
 *   3. the good backups taken before any fault are byte for byte as they were, and read back;
 *   4. no secret from the inputs shows anywhere: log, outputs, summaries, the message,
 *      manifests, issue bodies, or any file the row created or changed (temp dirs, stores);
 *      no plaintext dump lies anywhere either, and no temp file is left behind.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { expect } from 'vitest';
import { parseManifest } from '../../src/archive/manifest.js';
import { DRILL_RECORD_SUFFIX, MANIFEST_SUFFIX } from '../../src/archive/store-keys.js';
import { isLifeboatError, type ErrorCode } from '../../src/errors.js';
import type { BackupStore } from '../../src/stores/store.js';
import { goodBackupProblem, type GoodBackup } from '../helpers/good-backups.js';
import type { LifeboatRun } from '../helpers/lifeboat.js';
import type { Sandbox } from '../helpers/sandbox.js';
import type { SandboxedWorld } from '../helpers/world.js';

export interface FaultWorld {
  sandbox: Sandbox;
  /** Stores whose manifests are watched. */
  stores: BackupStore[];
  good: GoodBackup[];
  /** The identity that reads the good backups back. */
  identity: string;
  /** Every secret the inputs carry, named, so a failure never prints one. */
  secrets: () => { label: string; value: string }[];
  /** More text a person could see (issue bodies, comments), read after the row. */
  extraTexts?: () => Promise<string[]>;
  /** Files Lifeboat leaves on purpose (the drill report), by base name. */
  outputsAllowed?: RegExp[];
}

/** The world of a fault file, watching `stores` and the `good` backups in them. */
export function faultWorld(world: SandboxedWorld, stores: BackupStore[], good: GoodBackup[]): FaultWorld {
  return {
    sandbox: world.sandbox,
    stores,
    good,
    identity: world.identity,
    secrets: () => world.secrets(),
    // The drill's JSON report is an output a workflow uploads, not a temp file.
    outputsAllowed: [/^lifeboat-drill-.*\.json$/],
  };
}

export interface Before {
  manifests: Map<BackupStore, ManifestState>;
  /** Every object of every store, archives and parts included. */
  objects: Map<BackupStore, Set<string>>;
  files: FileState;
  /** Top-level temp entries that already existed: peers' directories, not Lifeboat's temp files. */
  existing: Set<string>;
  texts: number;
}

/** What the world looks like before a row runs. */
export async function snapshot(world: FaultWorld): Promise<Before> {
  const manifests = new Map<BackupStore, ManifestState>();
  const objects = new Map<BackupStore, Set<string>>();
  for (const store of world.stores) {
    manifests.set(store, await manifestState(store));
    objects.set(store, new Set(await store.list('')));
  }
  return {
    manifests,
    objects,
    files: await fileState(world.sandbox.root),
    existing: new Set([
      ...(await entriesOf(world.sandbox.tmp)),
      ...(await entriesOf(world.sandbox.runnerTemp)),
    ]),
    texts: (await world.extraTexts?.())?.length ?? 0,
  };
}

export interface Expected {
  /** The message must name the fault. */
  message: RegExp;
  code?: ErrorCode;
  hint?: RegExp;
  /** Further text that must be shown somewhere (the summary lists every failed check). */
  shown?: RegExp[];
}

const PLAINTEXT_MAGIC = { label: 'a plaintext pg_dump archive (PGDMP)', bytes: Buffer.from('PGDMP') };

/** Checks properties 1–4 for a row whose fault Lifeboat must catch. */
export async function expectFaultCaught(
  world: FaultWorld,
  before: Before,
  outcome: LifeboatRun,
  expected: Expected,
): Promise<void> {
  // 1. A non-zero exit with a message that names the fault, as a user-facing error with a code.
  expect(outcome.code, `exit status; Lifeboat said:\n${outcome.shown}`).not.toBe(0);
  expect(outcome.message).toMatch(expected.message);
  expect(
    isLifeboatError(outcome.error),
    `not a LifeboatError: ${(outcome.error as Error)?.stack ?? String(outcome.error)}`,
  ).toBe(true);
  if (expected.code) expect((outcome.error as { code: string }).code).toBe(expected.code);
  if (expected.hint) expect((outcome.error as { hint?: string }).hint ?? '').toMatch(expected.hint);
  for (const text of expected.shown ?? []) expect(outcome.shown).toMatch(text);
  await expectWorldIntact(world, before, outcome, { verifiedAllowed: false });
}

/**
 * Properties 2–4 alone: for rows whose required outcome is success (racing backups, hard
 * inputs), `verifiedAllowed` lets new manifests appear.
 */
export async function expectWorldIntact(
  world: FaultWorld,
  before: Before,
  outcome: Pick<LifeboatRun, 'shown' | 'outputs'>,
  options: { verifiedAllowed: boolean },
): Promise<void> {
  const problems: string[] = [];

  // 2. Nothing marked verified.
  const written: { key: string; text: string }[] = [];
  if (!options.verifiedAllowed && outcome.outputs.verified !== undefined)
    problems.push(`output verified=${outcome.outputs.verified}`);
  for (const store of world.stores) {
    const was = before.manifests.get(store) ?? new Map();
    for (const [key, now] of await manifestState(store)) {
      const then = was.get(key);
      if (then?.sha !== now.sha) written.push({ key, text: now.text });
      if (options.verifiedAllowed) continue;
      if (!then) problems.push(`a new manifest ${key} (level ${now.level}) in ${store.location}`);
      else if (rank(now.level) > rank(then.level))
        problems.push(`the level of ${key} rose from ${then.level} to ${now.level}`);
    }
    // Neither a manifest nor an archive: a failed backup leaves no part of its set behind.
    if (options.verifiedAllowed) continue;
    const had = before.objects.get(store) ?? new Set();
    for (const key of await store.list('')) {
      // A drill records its result, failed too, beside the set (never part of it): property 4 checks it.
      if (!had.has(key) && !key.endsWith(MANIFEST_SUFFIX) && !key.endsWith(DRILL_RECORD_SUFFIX))
        problems.push(`a new object ${key} in ${store.location}`);
    }
  }

  // 3. Earlier good backups byte for byte as they were (each file ends by restoring them).
  for (const good of world.good) {
    const problem = await goodBackupProblem(good);
    if (problem) problems.push(problem);
  }

  // 4. No secret anywhere a person or another job could read it; no plaintext; no leftovers.
  const needles = world.secrets().flatMap(({ label, value }) => {
    const forms = [{ label, bytes: Buffer.from(value) }];
    const encoded = encodeURIComponent(value);
    if (encoded !== value) forms.push({ label: `${label} (URL-encoded)`, bytes: Buffer.from(encoded) });
    return forms;
  });
  const texts = (await world.extraTexts?.())?.slice(before.texts) ?? [];
  for (const [where, text] of [
    ['what Lifeboat showed', outcome.shown],
    ...texts.map((t, i) => [`issue or comment text #${i + 1}`, t] as const),
    ...written.map((m) => [`the manifest ${m.key}`, m.text] as const),
  ] as const) {
    for (const n of needles) if (text.includes(n.bytes.toString())) problems.push(`${n.label} in ${where}`);
  }
  const after = await fileState(world.sandbox.root);
  for (const file of changedFiles(before.files, after)) {
    for (const label of await needlesIn(file, [...needles, PLAINTEXT_MAGIC]))
      problems.push(`${label} in ${relative(world, file)}`);
  }
  for (const file of leftovers(world, before, after)) problems.push(`left behind: ${relative(world, file)}`);

  expect(problems).toEqual([]);
}

/** New files in the temp directories, outside the peers' own directories and expected outputs. */
function leftovers(world: FaultWorld, before: Before, after: FileState): string[] {
  const roots = [world.sandbox.tmp, world.sandbox.runnerTemp];
  const allowed = world.outputsAllowed ?? [];
  return [...after.keys()].filter((file) => {
    if (before.files.has(file)) return false;
    const root = roots.find((r) => file.startsWith(`${r}${path.sep}`));
    if (!root) return false;
    const top = path.join(root, path.relative(root, file).split(path.sep)[0] ?? '');
    if (top !== file && before.existing.has(top)) return false;
    return !allowed.some((a) => a.test(path.basename(file)));
  });
}

function relative(world: FaultWorld, file: string): string {
  return path.relative(world.sandbox.root, file);
}

const RANKS: Record<string, number> = { unparseable: 0, stored: 1, readable: 2, restored: 3 };
function rank(level: string): number {
  return RANKS[level] ?? 0;
}

/** Every manifest in a store: key → verification level, a hash of its bytes, and its text. */
export type ManifestState = Map<string, { level: string; sha: string; text: string }>;

export async function manifestState(store: BackupStore): Promise<ManifestState> {
  const state: ManifestState = new Map();
  for (const key of await store.list('')) {
    if (!key.endsWith(MANIFEST_SUFFIX)) continue;
    const bytes = await buffer(await store.get(key)).catch(() => undefined);
    if (!bytes) continue;
    let level = 'unparseable';
    try {
      level = parseManifest(bytes, key).verification.level;
    } catch {
      // A damaged manifest planted by a row still counts as present.
    }
    state.set(key, { level, sha: createHash('sha256').update(bytes).digest('hex'), text: bytes.toString() });
  }
  return state;
}

/** Files under a directory: path → size and mtime, skipping `exclude`d subtrees. */
export type FileState = Map<string, string>;

export async function fileState(root: string, exclude: string[] = []): Promise<FileState> {
  const state: FileState = new Map();
  const walk = async (dir: string): Promise<void> => {
    if (exclude.some((e) => dir === e || dir.startsWith(`${e}${path.sep}`))) return;
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else {
        const info = await stat(full).catch(() => undefined);
        if (info) state.set(full, `${info.size}:${info.mtimeMs}`);
      }
    }
  };
  await walk(root);
  return state;
}

/** The files that appeared or changed between two states. */
export function changedFiles(before: FileState, after: FileState): string[] {
  return [...after].filter(([file, sig]) => before.get(file) !== sig).map(([file]) => file);
}

/** Which of `needles` a file holds, by name (the needle itself is never returned). */
export async function needlesIn(
  file: string,
  needles: { label: string; bytes: Buffer }[],
): Promise<string[]> {
  const data = await readFile(file).catch(() => undefined);
  if (!data) return [];
  return needles.filter((n) => data.includes(n.bytes)).map((n) => n.label);
}

/** Top-level entries of a directory right now: the peers (S3, cache) a file started. */
export async function entriesOf(dir: string): Promise<Set<string>> {
  return new Set((await readdir(dir).catch(() => [])).map((e) => path.join(dir, e)));
}
