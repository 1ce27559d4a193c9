import { LifeboatError } from '../errors.js';
import type { ClientLine } from './actions-cache-client.js';

/**
 * What the cache client's output means. saveCache reports most failures by returning -1
 * and restoreCache answers undefined for a miss and for most failures alike; the reason
 * is only in what they logged, which withCacheClient keeps.
 */

/**
 * The client's own account of a failure: warnings, errors and its "Failed to …" lines.
 * It often says the same thing twice ("uploadCacheArchiveSDK: …: X" then "Failed to
 * save: X"); lines are kept once per final clause.
 */
export function problemsIn(lines: ClientLine[]): string[] {
  const problems = lines
    .filter((l) => l.level === 'warning' || l.level === 'error' || l.text.startsWith('Failed to'))
    .map((l) => l.text.split('\n')[0] ?? l.text);
  const chosen =
    problems.length > 0
      ? problems
      : lines
          .filter((l) => l.level === 'info')
          .map((l) => l.text)
          .slice(-3);
  const seen = new Set<string>();
  return chosen.filter((text) => {
    const clause = text.slice(text.lastIndexOf(': ') + 1).trim();
    if (seen.has(clause)) return false;
    seen.add(clause);
    return true;
  });
}

/**
 * Whether restoreCache's undefined meant "no such entry". The client logs this debug line
 * only when the service answered the lookup and found nothing; every failure path logs a
 * warning or error instead. Anything else (a new wording, a skipped read) is treated as a
 * failure: a read must never look like "no backup" by accident.
 */
export function reportedMiss(lines: ClientLine[]): boolean {
  return lines.some((l) => l.level === 'debug' && l.text.startsWith('Cache not found for version'));
}

export function readFailure(
  what: string,
  lines: ClientLine[],
  mask: (text: string) => string,
): LifeboatError {
  return new LifeboatError('store', mask(describe(`Could not ${what} in the GitHub Actions cache`, lines)), {
    hint: 'This is a failure of the cache service or the transfer, not a missing backup. Re-run the job; a run started by an untrusted event may not be allowed to read the cache.',
  });
}

export function saveFailure(key: string, lines: ClientLine[], mask: (text: string) => string): LifeboatError {
  const text = mask(describe(`Could not save ${key} to the GitHub Actions cache`, lines));
  const contended = /already exists|another job may be/i.test(text);
  return new LifeboatError('store', text, {
    hint: contended
      ? 'Another writer holds this cache key (a failed upload keeps its key reserved for a while). Run the job again; every write uses a new key.'
      : 'Nothing was stored. Re-run the job; if it keeps failing, compare the repository cache usage (Settings, Actions, Caches) with its size limit.',
  });
}

function describe(headline: string, lines: ClientLine[]): string {
  const problems = problemsIn(lines);
  return problems.length > 0 ? `${headline}: ${problems.join('; ')}` : `${headline}.`;
}
