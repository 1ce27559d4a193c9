/**
 * Faults in a stored backup set: truncation, flipped bytes, wrong keys, missing or mixed-up
 * objects, an archive newer than the tools. Each row damages a copy of a good backup (the
 * original stays as it was) and runs a restore drill of the copy, which must refuse it.
 */
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { generateIdentity } from '../../src/archive/age/index.js';
import type { Manifest } from '../../src/archive/manifest.js';
import type { LocalStore } from '../../src/stores/local.js';
import { startGitHubServer, type GitHubServer } from '../helpers/github-server.js';
import { faultWorld, expectFaultCaught, snapshot, type Expected, type FaultWorld } from './assertions.js';
import {
  AGE_SEALED_CHUNK,
  ageHeaderLength,
  copyBackup,
  damagingStore,
  flipByte,
  flipFileByte,
  flipHeaderMac,
  newerArchiveFormat,
  resealed,
  truncateTo,
  type CopyChanges,
} from './damage.js';
import { runLifeboat } from '../helpers/lifeboat.js';
import { startWorld, type SandboxedWorld } from '../helpers/world.js';
import type { GoodBackup } from '../helpers/good-backups.js';

let a: SandboxedWorld;
let github: GitHubServer;
let store: LocalStore;
let world: FaultWorld;
let good: GoodBackup;
let byPassphrase: GoodBackup;

beforeAll(async () => {
  [a, github] = await Promise.all([
    startWorld({ sandbox: true, fixtures: ['supabase'] }),
    startGitHubServer(),
  ]);
  // Enough incompressible bytes for an archive of several age chunks.
  await a.cluster.exec(
    `CREATE TABLE public.noise AS SELECT n, md5(random()::text) || md5(random()::text) AS hex
       FROM generate_series(1, 6000) AS n;`,
    'app',
  );
  store = await a.sandbox.localStore('archive');
  good = await a.goodBackup(store);
  byPassphrase = await a.goodBackup(store, 'by-passphrase', { passphrase: a.passphrase });
  a.extraSecrets.push({ label: 'the GitHub token', value: github.token });
  world = {
    ...faultWorld(a, [store], [good, byPassphrase]),
    extraTexts: async () => github.calls().map((c) => JSON.stringify(c.body ?? '')),
  };
});

afterAll(async () => {
  await Promise.all([a?.close(), github?.stop()]);
});

/** The archive's size, and where its payload's sealed chunks start. */
function layout(archive: Buffer): { size: number; payload: number } {
  return { size: archive.length, payload: ageHeaderLength(archive) + 16 };
}

const truncatedAt = (fraction: number): CopyChanges => ({
  archive: (bytes) => bytes.subarray(0, Math.floor(bytes.length * fraction)),
});

/** One hex digit of a manifest field changed to another hex digit: still a well-formed checksum. */
const hexDigitChanged = (field: string): CopyChanges => ({
  manifestBytes: (bytes) => {
    const copy = Buffer.from(bytes);
    const at = bytes.indexOf(`"${field}": "`) + field.length + 5 + 10;
    copy[at] = copy[at] === 0x30 ? 0x31 : 0x30; // '0' ↔ '1', anything else → '0'
    return copy;
  },
});

/**
 * One byte of the encrypted catalog's payload flipped, past its age header: the header and
 * its MAC stay intact, so only the payload's authentication can catch it.
 */
const catalogPayloadFlipped = (): CopyChanges => ({
  manifest: (m: Manifest) => {
    const sealed = Buffer.from(m.catalog, 'base64');
    return { ...m, catalog: flipByte(sealed, ageHeaderLength(sealed) + 16 + 40).toString('base64') };
  },
});

/** The good archive with its dump in a newer archive format, sealed again as Lifeboat seals. */
async function fromNewerPgDump(claim: string): Promise<CopyChanges> {
  const original = await buffer(await store.get(good.manifest.archive.key));
  const archive = await resealed(original, a, newerArchiveFormat, a.sandbox.root);
  return {
    archive: () => archive,
    manifest: (m: Manifest) => ({ ...m, source: { ...m.source, pgDumpVersion: claim } }),
    rehash: true,
  };
}

interface Row {
  fault: string;
  changes: () => Promise<CopyChanges> | CopyChanges;
  /** Inputs that differ from a drill with the right identity. */
  inputs?: () => Record<string, string>;
  expected: Expected;
}

const ENDS_EARLY = /archive ends early|truncated/;

const rows: Row[] = [
  ...[0.1, 0.5, 0.9, 0.99].map((f): Row => ({
    fault: `archive truncated at ${f * 100}%`,
    changes: () => truncatedAt(f),
    // Hashing and decryption run side by side; whichever notices first names it.
    expected: { code: 'drill', message: /archive ends early|truncated|does not match its manifest/ },
  })),
  // The same cuts with the manifest's size and SHA-256 rewritten to match: only decryption can tell.
  ...[0.1, 0.5, 0.9, 0.99].map((f): Row => ({
    fault: `archive truncated at ${f * 100}%, with a manifest rewritten to match it`,
    changes: () => ({ ...truncatedAt(f), rehash: true }),
    expected: { code: 'drill', message: ENDS_EARLY },
  })),
  {
    fault: 'archive truncated exactly on an encryption chunk boundary',
    changes: () => ({
      archive: (bytes) => bytes.subarray(0, layout(bytes).payload + 2 * AGE_SEALED_CHUNK),
    }),
    expected: { code: 'drill', message: /stops on a chunk boundary after chunk 2/ },
  },
  {
    fault: 'archive truncated on a chunk boundary, with a manifest rewritten to match it',
    changes: () => ({
      archive: (bytes) => bytes.subarray(0, layout(bytes).payload + 2 * AGE_SEALED_CHUNK),
      rehash: true,
    }),
    expected: { code: 'drill', message: /stops on a chunk boundary after chunk 2/ },
  },
  {
    fault: 'one flipped byte in the archive payload (manifest rewritten to match)',
    changes: () => ({
      archive: (bytes) => flipByte(bytes, layout(bytes).payload + AGE_SEALED_CHUNK + 1000),
      rehash: true,
    }),
    expected: { code: 'drill', message: /Authentication failed for chunk 2/ },
  },
  {
    fault: "one flipped byte in the encrypted header's MAC (manifest rewritten to match)",
    changes: () => ({ archive: flipHeaderMac, rehash: true }),
    expected: { code: 'drill', message: /header was altered: its MAC does not match/ },
  },
  {
    fault: "one flipped byte in the encrypted header's key stanza (manifest rewritten to match)",
    changes: () => ({ archive: (bytes) => flipByte(bytes, bytes.indexOf('-> X25519 ') + 12), rehash: true }),
    expected: { code: 'drill', message: /identity|header/ },
  },
  {
    fault: "one changed hex digit in the manifest's archive checksum",
    changes: () => hexDigitChanged('sha256'),
    expected: {
      code: 'drill',
      message: /does not match its manifest: \d+ bytes with SHA-256 [0-9a-f]{64}, the manifest says/,
    },
  },
  {
    fault: "one flipped byte in the payload of the manifest's encrypted catalog",
    changes: catalogPayloadFlipped,
    expected: { code: 'drill', message: /Authentication failed/ },
  },
  {
    fault: 'the wrong identity',
    changes: () => ({}),
    inputs: () => ({ 'encryption-identity': generateIdentity().identity }),
    expected: { code: 'drill', message: /identity/ },
  },
  {
    fault: 'manifest missing',
    changes: () => ({ manifest: null }),
    expected: { code: 'drill', message: /manifest\.json/ },
  },
  {
    fault: 'archive missing',
    changes: () => ({ archive: null }),
    expected: { code: 'drill', message: /has no .*\.dump\.zst\.age/ },
  },
  {
    fault: 'manifest and archive both present but from different backups',
    changes: async () => {
      const other = await a.goodBackup(store, 'other-set');
      world.good.push(other);
      const foreign = await buffer(await store.get(other.manifest.archive.key));
      return { archive: () => foreign };
    },
    expected: { code: 'drill', message: /does not match its manifest/ },
  },
  {
    fault: "a manifest naming another backup's archive (same bytes, size and SHA-256)",
    changes: () => ({
      manifest: (m) => ({ ...m, archive: { ...m.archive, key: good.manifest.archive.key } }),
    }),
    expected: { code: 'drill', message: /claims its archive is ".*", but backup .* keeps it at/ },
  },
  {
    fault: 'a manifest naming an archive through ".." segments',
    changes: () => ({
      manifest: (m) => ({
        ...m,
        archive: { ...m.archive, key: `${m.name}/../${good.manifest.archive.key}` },
      }),
    }),
    expected: { code: 'drill', message: /\(a path with "\.\." segments\)/ },
  },
  {
    fault: 'an archive written by a newer pg_dump than any pg_restore here',
    changes: () => fromNewerPgDump('17.6'),
    expected: { code: 'drill', message: /written by pg_dump 17\.6; reading it needs pg_restore 17 or newer/ },
  },
  {
    fault: 'an archive in a newer format than this pg_restore reads, under a manifest that hides it',
    changes: () => fromNewerPgDump(good.manifest.source.pgDumpVersion),
    expected: { code: 'drill', message: /unsupported version \(1\.17\) in file header/ },
  },
];

describe('damaged backup sets, drilled', () => {
  it.each(rows)('$fault', async ({ changes, inputs, expected }) => {
    const backupId = await copyBackup(store, good.manifest, await changes());
    const before = await snapshot(world);
    const outcome = await runLifeboat(
      {
        mode: 'drill',
        store: 'given',
        'backup-id': backupId,
        'target-url': a.cluster.url(),
        'encryption-identity': a.identity,
        'github-token': github.token,
        ...inputs?.(),
      },
      { store, env: { ...process.env, ...github.env } },
    );
    await expectFaultCaught(world, before, outcome, expected);
  });

  it('the wrong passphrase', async () => {
    const before = await snapshot(world);
    const outcome = await runLifeboat(
      {
        mode: 'drill',
        store: 'given',
        name: 'by-passphrase',
        'target-url': a.cluster.url(),
        'encryption-passphrase': `${a.passphrase}!`,
      },
      { store },
    );
    await expectFaultCaught(world, before, outcome, { code: 'drill', message: /passphrase/ });
  });
});

describe('damage between upload and read-back, during the backup', () => {
  it.each([
    [
      'archive truncated at 50% in the store',
      (file: string, size: number) => truncateTo(file, Math.floor(size / 2)),
      ENDS_EARLY,
    ],
    [
      'one flipped byte in the stored archive',
      (file: string, size: number) => flipFileByte(file, size - 100),
      /chunk|does not match/,
    ],
  ] as const)('%s', async (_fault, damage, message) => {
    const before = await snapshot(world);
    const outcome = await runLifeboat(
      {
        mode: 'backup',
        'database-url': a.appUrl,
        store: 'given',
        'encryption-recipient': a.recipient,
        'encryption-identity': a.identity,
      },
      { store: damagingStore(store, (file, size) => damage(file, Math.floor(size))) },
    );
    await expectFaultCaught(world, before, outcome, { code: 'integrity', message });
  });
});

describe('after every fault', () => {
  it('the good backups still restore by hand, every row back', async () => {
    await a.expectGoodRestorable(world.good);
  });
});
