import { LifeboatError, type ErrorCode } from '../errors.js';
import { Outputs, type Mode } from '../settings/constants.js';

/**
 * What a notification or heartbeat says about a run: mode, set, result, backup id, one
 * reason, a link. Built from the run's outputs and its error's code, never from an error's
 * message: messages quote tables, roles, hosts and tool output, which must not reach a chat
 * channel. The reasons below are the whole vocabulary of a failure.
 */
export interface RunMessage {
  mode: Mode;
  /** The set (or, for the watch, the sets) the run was about. */
  name: string;
  result: 'success' | 'failure';
  backupId: string | null;
  reason: string;
  runUrl: string | null;
  repository: string | null;
}

const FAILURE_REASONS: Partial<Record<ErrorCode, string>> = {
  input: 'an input is missing or invalid',
  config: 'the configuration is invalid',
  connection: 'the database could not be reached',
  auth: 'the database refused the credentials',
  ipv6: 'the database host is reachable only over IPv6, which the runner lacks',
  pooler: 'the connection goes through a pooler mode the tools cannot use',
  tools: 'the PostgreSQL tools are missing or too old',
  permission: 'a permission is missing',
  dump: 'pg_dump failed',
  restore: 'the restore failed',
  store: 'the store refused a read or a write',
  'not-found': 'the backup was not found in the store',
  integrity: 'a backup failed its integrity check',
  crypto: 'decryption failed',
  key: 'an encryption key is missing or wrong',
  format: 'a backup is in a format this version cannot read',
  verify: 'verification found differences',
  gate: 'no fresh verified backup before the migration',
  drill: 'the restore drill failed',
  watch: 'backups need attention',
  confirm: 'the restore was not confirmed',
  mask: 'masking failed or left original values',
  production: 'the refresh target is the production database itself',
  lock: 'a lock could not be taken in time',
  disk: 'the runner ran out of disk space',
  unsupported: 'the store cannot do what was asked',
};

/** One short reason for a failure, from its code alone; the run's log has the details. */
export function failureReason(error: unknown): string {
  const code = error instanceof LifeboatError ? error.code : 'internal';
  return FAILURE_REASONS[code] ?? 'an unexpected error (a bug worth reporting)';
}

/** The reason of a run from what it output (each mode's outputs hold no names from the data). */
export function reasonOf(mode: Mode, outputs: Record<string, string>, error: unknown): string {
  if (mode === 'watch' && outputs[Outputs.Problems]) {
    const problems = parseProblems(outputs[Outputs.Problems]!);
    const serious = problems.filter((p) => p.severity !== 'warning');
    const listed = (serious.length ? serious : problems).slice(0, 3);
    if (listed.length) {
      const more = problems.length > listed.length ? ` (+${problems.length - listed.length} more)` : '';
      return `${listed.map((p) => `${p.name} · ${p.check}: ${p.reason}`).join(' ')}${more}`;
    }
    if (outputs[Outputs.Healthy] === 'true') return 'every watched set is healthy';
  }
  if (error !== undefined) return failureReason(error);
  switch (mode) {
    case 'backup':
      return `backup stored and verified at level ${outputs[Outputs.Verified] || 'stored'}`;
    case 'gate':
      return outputs[Outputs.Fresh] === 'true'
        ? 'a fresh verified backup exists'
        : 'no fresh verified backup (fail-on-stale is off)';
    case 'drill':
      return `restore drill ${outputs[Outputs.Status] || 'passed'}${outputs[Outputs.RtoSeconds] ? ` in ${outputs[Outputs.RtoSeconds]}s` : ''}`;
    case 'restore':
      return `restore ${outputs[Outputs.Status] || 'finished'}`;
    case 'refresh':
      return `staging refresh ${outputs[Outputs.Status] || 'finished'}, masked`;
    case 'watch':
      return 'every watched set is healthy';
    case 'copy':
      return `${outputs[Outputs.Copied] || '0'} backup(s) copied, ${outputs[Outputs.Skipped] || '0'} already there`;
  }
}

interface Problem {
  name: string;
  check: string;
  reason: string;
  severity?: string;
}

function parseProblems(text: string): Problem[] {
  try {
    const data = JSON.parse(text) as unknown;
    return Array.isArray(data) ? (data as Problem[]) : [];
  } catch {
    return [];
  }
}

/** One line of plain text: the heartbeat's body and the first line of every message. */
export function headline(m: RunMessage): string {
  const verb = m.result === 'success' ? 'succeeded' : 'FAILED';
  const id = m.backupId ? ` (backup ${m.backupId})` : '';
  return `Lifeboat ${m.mode} of ${m.name} ${verb}${id}: ${m.reason}`;
}
