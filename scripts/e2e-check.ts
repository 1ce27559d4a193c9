/**
 * The e2e checker: asserts what the action reported in `.github/workflows/e2e.yml`.
 *
 *   tsx scripts/e2e-check.ts keygen  --seed <text>
 *   tsx scripts/e2e-check.ts backup  [--verified readable]
 *   tsx scripts/e2e-check.ts gate    --backup-id <id> --fresh true|false [--max-age-seconds N]
 *   tsx scripts/e2e-check.ts drill   --backup-id <id> [--max-rto-seconds N] [--max-rpo-seconds N]
 *   tsx scripts/e2e-check.ts restore --backup-id <id>
 *
 * The action's outputs arrive as JSON in LIFEBOAT_OUTPUTS (`toJSON(steps.<id>.outputs)`).
 * With TARGET_URL in the environment (never on the command line: it holds a password)
 * the checker also looks at the server: a drill must leave no database behind, and a
 * dry-run restore must leave the target exactly as it was.
 *
 * `keygen` derives a throwaway age key pair from a seed, so every job of one e2e
 * run derives the same pair without passing a secret between jobs. Anyone who
 * knows the seed can derive the key: it protects nothing but synthetic test data.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { bech32 } from '@scure/base';
import { identityToRecipient } from 'age-encryption';
import pg from 'pg';
import { Outputs } from '../src/settings/constants.js';

export type ActionOutputs = Record<string, string | undefined>;

export interface KeyPair {
  identity: string;
  recipient: string;
}

/** A deterministic age X25519 key pair for one e2e run. */
export async function deriveKeyPair(seed: string): Promise<KeyPair> {
  if (seed.trim() === '') throw new Error('keygen needs a non-empty --seed');
  const scalar = createHash('sha256').update(`lifeboat-e2e-age-key\0${seed}`).digest();
  const identity = bech32.encodeFromBytes('AGE-SECRET-KEY-', scalar).toUpperCase();
  return { identity, recipient: await identityToRecipient(identity) };
}

const isCount = (value: string | undefined): boolean => value !== undefined && /^\d+$/.test(value);

function requireValue(outputs: ActionOutputs, name: string, failures: string[]): string {
  const value = outputs[name];
  if (value === undefined || value === '') failures.push(`output \`${name}\` is missing or empty`);
  return value ?? '';
}

function requireCount(outputs: ActionOutputs, name: string, max: number | undefined, failures: string[]) {
  const value = outputs[name];
  if (!isCount(value)) {
    failures.push(
      `output \`${name}\` should be a whole number of seconds or bytes, got ${JSON.stringify(value)}`,
    );
    return;
  }
  if (max !== undefined && Number(value) > max) failures.push(`output \`${name}\` is ${value}, above ${max}`);
}

function expectEqual(outputs: ActionOutputs, name: string, expected: string, failures: string[]) {
  const actual = outputs[name];
  if (actual !== expected) {
    failures.push(`output \`${name}\` should be ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

export function checkBackup(outputs: ActionOutputs, expect: { verified?: string } = {}): string[] {
  const failures: string[] = [];
  requireValue(outputs, Outputs.BackupId, failures);
  const sha = requireValue(outputs, Outputs.Sha256, failures);
  if (sha !== '' && !/^[0-9a-f]{64}$/.test(sha))
    failures.push(`output \`${Outputs.Sha256}\` is not a SHA-256 hex digest`);
  requireCount(outputs, Outputs.SizeBytes, undefined, failures);
  if (isCount(outputs[Outputs.SizeBytes]) && Number(outputs[Outputs.SizeBytes]) === 0) {
    failures.push(`output \`${Outputs.SizeBytes}\` is 0: an empty archive is not a backup`);
  }
  expectEqual(outputs, Outputs.Verified, expect.verified ?? 'readable', failures);
  return failures;
}

export function checkGate(
  outputs: ActionOutputs,
  expect: { backupId: string; fresh: boolean; maxAgeSeconds?: number },
): string[] {
  const failures: string[] = [];
  expectEqual(outputs, Outputs.Fresh, String(expect.fresh), failures);
  expectEqual(outputs, Outputs.BackupId, expect.backupId, failures);
  requireCount(outputs, Outputs.AgeSeconds, expect.maxAgeSeconds, failures);
  requireValue(outputs, Outputs.Reason, failures);
  return failures;
}

export function checkDrill(
  outputs: ActionOutputs,
  expect: { backupId: string; maxRtoSeconds?: number; maxRpoSeconds?: number },
  report?: unknown,
): string[] {
  const failures: string[] = [];
  expectEqual(outputs, Outputs.Status, 'passed', failures);
  expectEqual(outputs, Outputs.BackupId, expect.backupId, failures);
  requireCount(outputs, Outputs.RtoSeconds, expect.maxRtoSeconds, failures);
  requireCount(outputs, Outputs.RpoSeconds, expect.maxRpoSeconds, failures);
  requireValue(outputs, Outputs.ReportPath, failures);
  if (report !== undefined) {
    if (typeof report !== 'object' || report === null || Array.isArray(report)) {
      failures.push('the drill report is not a JSON object');
    } else if ('status' in report && report.status !== 'passed') {
      failures.push(`the drill report says ${JSON.stringify(report.status)}, not "passed"`);
    }
  }
  return failures;
}

export function checkRestoreDryRun(outputs: ActionOutputs, expect: { backupId: string }): string[] {
  const failures: string[] = [];
  expectEqual(outputs, Outputs.Status, 'passed', failures);
  expectEqual(outputs, Outputs.BackupId, expect.backupId, failures);
  const safety = outputs[Outputs.SafetyBackupId];
  if (safety !== undefined && safety !== '') {
    failures.push(`a dry run took a safety backup (${safety}): a dry run must change nothing`);
  }
  return failures;
}

/** Parses LIFEBOAT_OUTPUTS; every value must be a string, as the runner sets them. */
export function parseOutputs(json: string | undefined): ActionOutputs {
  if (json === undefined || json.trim() === '') throw new Error('LIFEBOAT_OUTPUTS is not set');
  const parsed: unknown = JSON.parse(json);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error('LIFEBOAT_OUTPUTS is not a JSON object');
  }
  const outputs: ActionOutputs = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value !== 'string') throw new Error(`output ${key} is not a string`);
    outputs[key] = value;
  }
  return outputs;
}

async function query(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}

/** After a drill (without keep-database) the throwaway server holds only what it started with. */
async function checkNoLeftoverDatabases(url: string): Promise<string[]> {
  const rows = await query(
    url,
    "select datname from pg_database where not datistemplate and datname <> 'postgres' order by 1",
  );
  return rows.map((row) => `the drill left database ${String(row.datname)} behind`);
}

/** e2e.yml seeds the restore target with `e2e_sentinel` (3 rows) and nothing else in public. */
async function checkTargetUntouched(url: string): Promise<string[]> {
  const tables = await query(
    url,
    "select table_name from information_schema.tables where table_schema = 'public' order by 1",
  );
  const names = tables.map((row) => String(row.table_name));
  const failures: string[] = [];
  if (names.join(',') !== 'e2e_sentinel') {
    failures.push(`a dry run changed the target: public tables are now [${names.join(', ')}]`);
  }
  if (names.includes('e2e_sentinel')) {
    const [row] = await query(url, 'select count(*)::int as n from public.e2e_sentinel');
    if (row?.n !== 3) failures.push(`a dry run changed e2e_sentinel: ${String(row?.n)} rows instead of 3`);
  }
  return failures;
}

function optionalNumber(value: string | undefined): number | undefined {
  return value === undefined ? undefined : Number(value);
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      seed: { type: 'string' },
      verified: { type: 'string' },
      'backup-id': { type: 'string' },
      fresh: { type: 'string' },
      'max-age-seconds': { type: 'string' },
      'max-rto-seconds': { type: 'string' },
      'max-rpo-seconds': { type: 'string' },
    },
  });
  const command = positionals[0];
  if (command === 'keygen') {
    const pair = await deriveKeyPair(values.seed ?? '');
    console.log(`::add-mask::${pair.identity}`);
    const lines = `identity=${pair.identity}\nrecipient=${pair.recipient}\n`;
    if (process.env.GITHUB_OUTPUT) appendFileSync(process.env.GITHUB_OUTPUT, lines);
    else console.log(`recipient=${pair.recipient}`);
    return 0;
  }

  const outputs = parseOutputs(process.env.LIFEBOAT_OUTPUTS);
  const backupId = values['backup-id'] ?? '';
  const targetUrl = process.env.TARGET_URL || undefined;
  let failures: string[];
  switch (command) {
    case 'backup':
      failures = checkBackup(outputs, { verified: values.verified });
      break;
    case 'gate':
      failures = checkGate(outputs, {
        backupId,
        fresh: values.fresh === 'true',
        maxAgeSeconds: optionalNumber(values['max-age-seconds']),
      });
      break;
    case 'drill': {
      const reportPath = outputs[Outputs.ReportPath];
      const report: unknown = reportPath ? JSON.parse(readFileSync(reportPath, 'utf8')) : undefined;
      failures = checkDrill(
        outputs,
        {
          backupId,
          maxRtoSeconds: optionalNumber(values['max-rto-seconds']),
          maxRpoSeconds: optionalNumber(values['max-rpo-seconds']),
        },
        report,
      );
      if (targetUrl) failures.push(...(await checkNoLeftoverDatabases(targetUrl)));
      break;
    }
    case 'restore':
      failures = checkRestoreDryRun(outputs, { backupId });
      if (targetUrl) failures.push(...(await checkTargetUntouched(targetUrl)));
      break;
    default:
      console.error('usage: e2e-check.ts keygen|backup|gate|drill|restore [options]');
      return 2;
  }
  for (const failure of failures) console.log(`::error title=e2e ${command}::${failure}`);
  if (failures.length === 0) console.log(`e2e ${command}: all checks passed`);
  return failures.length === 0 ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.log(`::error title=e2e check::${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
