/**
 * A bad value for every input: each row gives one input a wrong value, and Lifeboat must
 * refuse before doing any work, name the input, say what it accepts, and never echo a value
 * that might be a secret (a malformed key or connection string is still a secret).
 */
import { confirmFor } from '../helpers/cluster.js';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { generateIdentity } from '../../src/archive/age/index.js';
import { Inputs } from '../../src/settings/constants.js';
import type { LocalStore } from '../../src/stores/local.js';
import { faultWorld, expectFaultCaught, snapshot, type Expected, type FaultWorld } from './assertions.js';
import { runLifeboat } from '../helpers/lifeboat.js';
import { startWorld, type SandboxedWorld } from '../helpers/world.js';

let a: SandboxedWorld;
let store: LocalStore;
let world: FaultWorld;

/** Values that are secrets even when malformed: a leaked near-miss is still a leak. */
const LEAKY = {
  urlPassword: `pw#${randomBytes(6).toString('hex')}`,
  identity: generateIdentity().identity,
  webhook: `hooks.slack.com/services/T0/B0/${randomBytes(8).toString('hex')}`,
};

beforeAll(async () => {
  a = await startWorld({ sandbox: true, fixtures: ['supabase'] });
  store = await a.sandbox.localStore('inputs');
  world = faultWorld(a, [store], [await a.goodBackup(store)]);
  a.extraSecrets.push(
    { label: 'a password in a malformed URL', value: LEAKY.urlPassword },
    { label: 'an identity given as a recipient', value: LEAKY.identity },
    { label: 'a truncated identity', value: LEAKY.identity.slice(0, -6) },
    { label: 'a webhook URL without its scheme', value: LEAKY.webhook },
  );
});

afterAll(async () => {
  await a?.close();
});

type Mode = 'backup' | 'gate' | 'drill' | 'restore' | 'watch' | 'copy' | 'refresh';

interface Row {
  input: string;
  value: string | (() => string);
  mode: Mode;
  expected: Expected;
}

/** Inputs that make each mode valid, so a row's one bad value is the only fault. */
function validInputs(mode: Mode): Record<string, string> {
  const common = { mode, store: store.root };
  switch (mode) {
    case 'backup':
      return { ...common, 'database-url': a.appUrl, 'encryption-recipient': a.recipient };
    case 'gate':
    case 'watch':
      return common;
    case 'copy':
      return { ...common, 'copy-to': `${store.root}-copy` };
    case 'drill':
      return { ...common, 'target-url': a.cluster.url(), 'encryption-identity': a.identity };
    case 'refresh':
      return {
        ...common,
        'target-url': a.cluster.url({ database: 'staging' }),
        'encryption-identity': a.identity,
        confirm: confirmFor(a.cluster, 'staging'),
        'dry-run': 'true',
      };
    case 'restore':
      return {
        ...common,
        'target-url': a.cluster.url({ database: 'app' }),
        'encryption-identity': a.identity,
        confirm: confirmFor(a.cluster, 'app'),
        'dry-run': 'true',
      };
  }
}

const input = (name: string): RegExp => new RegExp(`\`${name}\``);

const rows: Row[] = [
  {
    input: Inputs.Mode,
    value: 'backupp',
    mode: 'backup',
    expected: { code: 'input', message: /`mode` is "backupp"; accepted values: `backup`/ },
  },
  { input: Inputs.Mode, value: '', mode: 'backup', expected: { code: 'input', message: /`mode` is empty/ } },
  {
    input: Inputs.DatabaseUrl,
    value: 'mysql://root@db/app',
    mode: 'backup',
    expected: { code: 'input', message: /must start with postgresql:\/\// },
  },
  {
    input: Inputs.DatabaseUrl,
    value: () => `postgresql://postgres:${LEAKY.urlPassword}@db.example.com/app`,
    mode: 'backup',
    expected: { code: 'input', message: input(Inputs.DatabaseUrl) },
  },
  {
    input: Inputs.DatabaseUrl,
    value: '',
    mode: 'backup',
    expected: { code: 'input', message: /`database-url` is required for mode `backup`/ },
  },
  {
    input: Inputs.DatabaseUrl,
    value: () => `${a.appUrl}?sslmode=verify`,
    mode: 'backup',
    expected: { code: 'input', message: /`database-url` has sslmode=verify, which libpq does not know/ },
  },
  {
    input: Inputs.DatabaseCa,
    value: 'prod-ca-2021.crt',
    mode: 'backup',
    expected: {
      code: 'input',
      message: /`database-ca` is neither a PEM certificate nor the path of a readable file/,
    },
  },
  {
    input: Inputs.DatabaseCa,
    value: '-----BEGIN CERTIFICATE-----\nMIIBkTCB+wIJAKHHIG\n-----END CERTIFICATE-----\n',
    mode: 'drill',
    expected: { code: 'input', message: /`database-ca` holds a certificate that does not parse/ },
  },
  {
    input: Inputs.Store,
    value: 'ftp://backups.example.com/db',
    mode: 'backup',
    expected: { code: 'input', message: /`store` is "ftp:.*not a store Lifeboat knows/ },
  },
  {
    input: Inputs.Store,
    value: 's3://Bad_Bucket/x',
    mode: 'backup',
    expected: { code: 'input', message: /invalid S3 bucket "Bad_Bucket"/ },
  },
  {
    input: Inputs.Name,
    value: '../../etc',
    mode: 'backup',
    expected: { code: 'input', message: /`name` is "\.\.\/\.\.\/etc"/ },
  },
  {
    input: Inputs.EncryptionRecipient,
    value: 'age1qqqqqqqqqqqqqqqq',
    mode: 'backup',
    expected: { code: 'key', message: /mistyped or truncated/ },
  },
  {
    input: Inputs.EncryptionRecipient,
    value: () => LEAKY.identity,
    mode: 'backup',
    expected: { code: 'key', message: /is a secret identity.*never share it/ },
  },
  {
    input: Inputs.EncryptionIdentity,
    value: () => LEAKY.identity.slice(0, -6),
    mode: 'drill',
    expected: { code: 'key', message: /mistyped or truncated/ },
  },
  {
    input: Inputs.EncryptionPassphrase,
    value: 'a passphrase as well as a key',
    mode: 'backup',
    expected: { code: 'input', message: /cannot be combined/ },
  },
  {
    input: Inputs.EncryptionRecipient,
    value: '',
    mode: 'backup',
    expected: { code: 'input', message: /needs `encryption-recipient`/ },
  },
  {
    input: Inputs.EncryptionIdentity,
    value: '',
    mode: 'drill',
    expected: { code: 'input', message: /needs `encryption-identity`/ },
  },
  {
    input: Inputs.GithubToken,
    value: 'ghp_abc def\nsecond-line',
    mode: 'gate',
    expected: { code: 'input', message: /`github-token` is not a GitHub token/ },
  },
  {
    input: Inputs.MigrationsDir,
    value: 'supabase/\nmigrations',
    mode: 'gate',
    expected: { code: 'input', message: /`migrations-dir` holds a line break/ },
  },
  {
    input: Inputs.PgBinDir,
    value: '/nonexistent/pg/bin',
    mode: 'backup',
    expected: { code: 'tools', message: /`pg-bin-dir` has no runnable pg_dump/ },
  },
  {
    input: Inputs.Keep,
    value: '0',
    mode: 'backup',
    expected: { code: 'input', message: /`keep` must keep at least one/ },
  },
  {
    input: Inputs.Keep,
    value: 'forever',
    mode: 'backup',
    expected: { code: 'input', message: /`keep` is "forever"/ },
  },
  ...[Inputs.KeepDaily, Inputs.KeepWeekly, Inputs.KeepMonthly, Inputs.KeepYearly].map((input): Row => ({
    input,
    value: '0',
    mode: 'backup',
    expected: {
      code: 'input',
      message: new RegExp(`\`${input}\` is "0"; accepted values: a whole number of at least 1`),
    },
  })),
  {
    input: Inputs.OrphanGrace,
    value: 'a day',
    mode: 'backup',
    expected: { code: 'input', message: /`orphan-grace` is not a duration: "a day"/ },
  },
  {
    input: Inputs.Pin,
    value: 'forever',
    mode: 'backup',
    expected: { code: 'input', message: /`pin` is "forever"; accepted values: `true`, `false`/ },
  },
  {
    input: Inputs.ObjectLockDays,
    value: '30',
    mode: 'backup',
    expected: {
      code: 'input',
      message: /`object-lock-days` needs an S3 store; the store here is a local directory/,
    },
  },
  {
    input: Inputs.ObjectLockMode,
    value: 'legal-hold',
    mode: 'backup',
    expected: { code: 'input', message: /`object-lock-mode` is set but `object-lock-days` is not/ },
  },
  {
    input: Inputs.VerifyContent,
    value: 'sometimes',
    mode: 'backup',
    expected: { code: 'input', message: /`verify-content` is "sometimes"/ },
  },
  {
    input: Inputs.DumpJobs,
    value: '64',
    mode: 'backup',
    expected: { code: 'input', message: /`dump-jobs` is "64"; accepted values: a whole number from 1 to 16/ },
  },
  {
    input: Inputs.MigrationsTable,
    value: 'no such; table',
    mode: 'backup',
    expected: { message: input(Inputs.MigrationsTable) },
  },
  {
    input: Inputs.MaxAge,
    value: 'soon',
    mode: 'gate',
    expected: { code: 'input', message: /`max-age` is not a duration/ },
  },
  {
    input: Inputs.Require,
    value: 'perfect',
    mode: 'gate',
    expected: { code: 'input', message: /`require` is "perfect"/ },
  },
  {
    input: Inputs.FailOnStale,
    value: 'maybe',
    mode: 'gate',
    expected: { code: 'input', message: /`fail-on-stale` is "maybe"/ },
  },
  {
    input: Inputs.TargetUrl,
    value: '',
    mode: 'drill',
    expected: { code: 'input', message: /`target-url` is required for mode `drill`/ },
  },
  {
    input: Inputs.BackupId,
    value: 'yesterday',
    mode: 'drill',
    expected: { code: 'input', message: /`backup-id` is "yesterday"/ },
  },
  {
    input: Inputs.RtoTarget,
    value: '-5m',
    mode: 'drill',
    expected: { code: 'input', message: /`rto-target` is not a duration/ },
  },
  {
    input: Inputs.RpoTarget,
    value: '0s',
    mode: 'drill',
    expected: { code: 'input', message: /`rpo-target` must be longer than zero/ },
  },
  {
    input: Inputs.VerifySql,
    value: 'checks/missing.sql',
    mode: 'drill',
    expected: { message: /`verify-sql` names checks\/missing\.sql, which cannot be read/ },
  },
  {
    input: Inputs.Profile,
    value: 'mysql',
    mode: 'drill',
    expected: { code: 'input', message: /`profile` is "mysql"/ },
  },
  {
    input: Inputs.CopyTo,
    value: 'ftp://backups.example.com/lifeboat',
    mode: 'copy',
    expected: {
      code: 'input',
      message: /`copy-to` is "ftp:\/\/backups.example.com\/lifeboat", which is not a store/,
    },
  },
  {
    input: Inputs.BackupId,
    value: 'everything',
    mode: 'copy',
    expected: {
      code: 'input',
      message: /`backup-id` is "everything"; accepted values for mode `copy`: `latest`, `all`/,
    },
  },
  {
    input: Inputs.KeepDatabase,
    value: 'perhaps',
    mode: 'drill',
    expected: { code: 'input', message: /`keep-database` is "perhaps"/ },
  },
  {
    input: Inputs.Confirm,
    value: 'production',
    mode: 'restore',
    expected: {
      code: 'confirm',
      message: /`confirm` is "production", but it must name the target, host:port\/database, "[^"]+\/app"/,
    },
  },
  {
    input: Inputs.DryRun,
    value: 'sometimes',
    mode: 'restore',
    expected: { code: 'input', message: /`dry-run` is "sometimes"/ },
  },
  {
    input: Inputs.RestoreRoleLogins,
    value: 'maybe',
    mode: 'restore',
    expected: { code: 'input', message: /`restore-role-logins` is "maybe"/ },
  },
  {
    input: Inputs.StorageUrl,
    value: 'ftp://storage.example/s3',
    mode: 'backup',
    expected: { code: 'input', message: /`storage-url` must be an http:\/\/ or https:\/\/ URL/ },
  },
  {
    input: Inputs.StorageRegion,
    value: 'eu central',
    mode: 'backup',
    expected: { code: 'input', message: /`storage-region` is "eu central"; accepted values: a region name/ },
  },
  {
    input: Inputs.StorageBuckets,
    value: 'avatars/2024',
    mode: 'backup',
    expected: { code: 'input', message: /`storage-buckets`/ },
  },
  {
    input: Inputs.StoragePrefix,
    value: '/avatars',
    mode: 'restore',
    expected: {
      code: 'input',
      message: /`storage-prefix` is "\/avatars"; accepted values: the start of object keys/,
    },
  },
  {
    input: Inputs.RestoreStorage,
    value: 'maybe',
    mode: 'restore',
    expected: { code: 'input', message: /`restore-storage` is "maybe"/ },
  },
  {
    input: Inputs.StorageDeleteExtra,
    value: 'maybe',
    mode: 'restore',
    expected: { code: 'input', message: /`storage-delete-extra` is "maybe"/ },
  },
  {
    input: Inputs.MaskConfig,
    value: 'no/such/rules.yml',
    mode: 'refresh',
    expected: { code: 'input', message: /`mask-config`: cannot read no\/such\/rules\.yml \(ENOENT\)/ },
  },
  {
    input: Inputs.MaskKey,
    value: () => 'short-key',
    mode: 'refresh',
    expected: { code: 'input', message: /`mask-key` is 9 characters long; accepted values: at least 16/ },
  },
  {
    input: Inputs.Tables,
    value: 'a.b.c',
    mode: 'restore',
    expected: { code: 'input', message: /`tables` has "a\.b\.c"/ },
  },
  {
    input: Inputs.Names,
    value: 'production, ../other',
    mode: 'watch',
    expected: { code: 'input', message: /`names` holds "\.\.\/other", which is not a backup set name/ },
  },
  {
    input: Inputs.DrillMaxAge,
    value: 'monthly',
    mode: 'watch',
    expected: {
      code: 'input',
      message: /`drill-max-age` is "monthly"; accepted values: a duration .* or `off`/,
    },
  },
  {
    input: Inputs.FailOnProblem,
    value: 'maybe',
    mode: 'watch',
    expected: { code: 'input', message: /`fail-on-problem` is "maybe"/ },
  },
  {
    input: Inputs.NotifyUrl,
    value: () => LEAKY.webhook,
    mode: 'backup',
    expected: { code: 'input', message: /`notify-url` holds a value that is not an http\(s\) URL/ },
  },
  {
    input: Inputs.NotifyOn,
    value: 'sometimes',
    mode: 'backup',
    expected: {
      code: 'input',
      message: /`notify-on` is "sometimes"; accepted values: `failure`, `always`, `never`/,
    },
  },
  {
    input: Inputs.NotifyFormat,
    value: 'mattermost',
    mode: 'gate',
    expected: { code: 'input', message: /`notify-format` is "mattermost"; accepted values: `auto`, `slack`/ },
  },
  {
    input: Inputs.HeartbeatUrl,
    value: 'ftp://hc-ping.example/x',
    mode: 'drill',
    expected: { code: 'input', message: /`heartbeat-url` holds a value that is not an http\(s\) URL/ },
  },
];

describe('a bad value for every input', () => {
  it.each(
    rows.map(
      (r) =>
        [
          `${r.mode}: ${r.input} = ${JSON.stringify(typeof r.value === 'string' ? r.value : '(secret)')}`,
          r,
        ] as const,
    ),
  )('%s', async (_title, row) => {
    const inputs = validInputs(row.mode);
    const value = typeof row.value === 'string' ? row.value : row.value();
    inputs[row.input] = value;
    if (row.input === Inputs.Confirm || row.input === Inputs.DryRun) delete inputs['dry-run'];
    if (row.input === Inputs.DryRun) inputs['dry-run'] = value;
    if (row.input === Inputs.EncryptionPassphrase) inputs[row.input] = value;
    const before = await snapshot(world);
    const outcome = await runLifeboat(inputs, { env: { ...process.env, GITHUB_TOKEN: '' } });
    await expectFaultCaught(world, before, outcome, row.expected);
  });

  it('covers every input Lifeboat has', () => {
    const covered = new Set(rows.map((r) => r.input));
    const missing = Object.values(Inputs).filter((name) => !covered.has(name));
    if (missing.length) throw new Error(`no bad-value row for: ${missing.join(', ')}`);
  });
});
