import { backupIdTime } from '../archive/backup-id.js';
import { formatDuration } from '../duration.js';
import type { VerificationLevel } from '../settings/constants.js';
import type { SetFacts } from './watch-read.js';

/**
 * The watch's verdict on one set, from what was read: pure, no I/O. Each check gives one
 * line a person can act on. Reasons name only sets, backup ids, keys, levels and times,
 * never anything from the data, so they can go to a chat channel.
 */
export type CheckName = 'store' | 'backup' | 'archive' | 'cache-access' | 'drill';

export interface WatchCheck {
  name: string;
  check: CheckName;
  /** `problem` makes the watch unhealthy; `warning` is worth a look before it becomes one. */
  severity: 'ok' | 'warning' | 'problem';
  reason: string;
}

export interface WatchRules {
  maxAgeSeconds: number;
  require: VerificationLevel;
  drillMaxAgeSeconds: number | null;
}

/** The Actions cache evicts entries unread for 7 days; warn two days ahead. */
export const EVICTION_WARNING_SECONDS = 5 * 86400;
export const EVICTION_SECONDS = 7 * 86400;

export function evaluateSet(facts: SetFacts, rules: WatchRules, now: Date): WatchCheck[] {
  const { name } = facts;
  const check = (c: CheckName, severity: WatchCheck['severity'], reason: string): WatchCheck => ({
    name,
    check: c,
    severity,
    reason,
  });
  if (facts.storeError)
    return [check('store', 'problem', `The store could not be read: ${facts.storeError}`)];
  const checks: WatchCheck[] = [backupCheck(facts, rules, now, check)];
  const v = facts.verified;
  if (v && facts.archives) {
    const a = facts.archives;
    if (a.state === 'present')
      checks.push(
        check('archive', 'ok', `All ${a.parts} archive part(s) of ${v.backupId} are in the store.`),
      );
    else if (a.state === 'missing')
      checks.push(
        check(
          'archive',
          'problem',
          `Part ${a.part} of backup ${v.backupId} (${a.key}) is missing from the store.`,
        ),
      );
    else if (a.state === 'wrong-size')
      checks.push(
        check(
          'archive',
          'problem',
          `Part ${a.part} of backup ${v.backupId} (${a.key}) holds ${a.stored} bytes, not the ${a.recorded} its manifest records.`,
        ),
      );
    else
      checks.push(check('archive', 'problem', `Could not check that ${a.key} is in the store: ${a.error}`));
  }
  if (v && facts.access) {
    if ('error' in facts.access) {
      checks.push(
        check(
          'cache-access',
          'warning',
          `Could not tell when the cache entry of ${v.backupId} was last read: ${facts.access.error}`,
        ),
      );
    } else {
      const idle = (now.getTime() - facts.access.at.getTime()) / 1000;
      if (idle > EVICTION_WARNING_SECONDS) {
        const left = Math.max(0, EVICTION_SECONDS - idle);
        checks.push(
          check(
            'cache-access',
            'warning',
            `The cache entry of backup ${v.backupId} was last read ${formatDuration(idle)} ago; the Actions cache evicts entries unread for 7 days (${formatDuration(left)} left).`,
          ),
        );
      } else {
        checks.push(
          check(
            'cache-access',
            'ok',
            `The cache entry of backup ${v.backupId} was read ${formatDuration(idle)} ago.`,
          ),
        );
      }
    }
  }
  // A set without any backup has nothing to drill: its one problem is said once, above.
  const anyBackup = facts.newest || facts.damaged.length;
  if (rules.drillMaxAgeSeconds !== null && anyBackup)
    checks.push(drillCheck(facts, rules.drillMaxAgeSeconds, now, check));
  return checks;
}

type Make = (c: CheckName, severity: WatchCheck['severity'], reason: string) => WatchCheck;

function backupCheck(facts: SetFacts, rules: WatchRules, now: Date, check: Make): WatchCheck {
  const { newest, verified } = facts;
  const damaged = facts.damaged.length
    ? ` (${facts.damaged.length} manifest(s) did not read: ${facts.damaged[0]!.error})`
    : '';
  if (!newest && !verified)
    return check('backup', 'problem', `No backup of "${facts.name}" is in the store${damaged}.`);
  if (!verified) {
    return check(
      'backup',
      'problem',
      `No backup of "${facts.name}" has reached level "${rules.require}"; the newest, ${newest!.backupId}, is "${newest!.verification.level}".`,
    );
  }
  // The manifest's creation time, as the gate reads it; the id's own stamp if that does not parse.
  const created = Date.parse(verified.createdAt);
  const at = Number.isFinite(created) ? created : (backupIdTime(verified.backupId)?.getTime() ?? 0);
  const age = Math.max(0, (now.getTime() - at) / 1000);
  const what = `The newest "${rules.require}" backup, ${verified.backupId} (level "${verified.verification.level}"), is ${formatDuration(age)} old`;
  if (age > rules.maxAgeSeconds)
    return check(
      'backup',
      'problem',
      `${what}, over max-age ${formatDuration(rules.maxAgeSeconds)}: backups may have stopped.`,
    );
  return check('backup', 'ok', `${what}.`);
}

function drillCheck(facts: SetFacts, maxAge: number, now: Date, check: Make): WatchCheck {
  if (facts.drillError)
    return check('drill', 'problem', `Could not read the drill records: ${facts.drillError}`);
  const last = facts.lastDrill;
  const passed = facts.lastPassedDrill;
  const ago = (iso: string) => formatDuration(Math.max(0, (now.getTime() - Date.parse(iso)) / 1000));
  if (!last)
    return check('drill', 'problem', `No restore drill of "${facts.name}" is recorded in the store.`);
  if (last.status === 'failed') {
    const where = last.failedStep ? ` at step "${last.failedStep}"` : '';
    return check(
      'drill',
      'problem',
      `The last restore drill (backup ${last.backupId}, ${ago(last.finishedAt)} ago) failed${where}; it stays a problem until a drill passes.`,
    );
  }
  const age = (now.getTime() - Date.parse(passed!.finishedAt)) / 1000;
  if (age > maxAge)
    return check(
      'drill',
      'problem',
      `The last passed restore drill was ${ago(passed!.finishedAt)} ago, over drill-max-age ${formatDuration(maxAge)}.`,
    );
  const rto = passed!.rtoSeconds === null ? '' : `, restored in ${formatDuration(passed!.rtoSeconds)}`;
  return check('drill', 'ok', `The last restore drill passed ${ago(passed!.finishedAt)} ago${rto}.`);
}
