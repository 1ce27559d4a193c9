import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { isBackupId } from '../archive/backup-id.js';
import { isSetName } from '../archive/store-keys.js';
import type { StoreSpec } from '../stores/store.js';
import { LifeboatError } from '../errors.js';

/**
 * Parsers for one input value each: what it accepts, and an error that names the input
 * and the accepted values when it is anything else. `settings.ts` puts them together.
 */

export function choice(
  value: string,
  name: string,
  allowed: readonly string[],
  fallback: string | undefined,
): string {
  if (!value && fallback !== undefined) return fallback;
  const result = z.enum(allowed as [string, ...string[]]).safeParse(value.toLowerCase());
  if (!result.success) {
    const got = value ? `"${value}"` : 'empty';
    throw new LifeboatError(
      'input',
      `Input \`${name}\` is ${got}; accepted values: ${allowed.map((a) => `\`${a}\``).join(', ')}.`,
      {
        hint: `Set \`${name}\` to one of: ${allowed.join(', ')}.`,
      },
    );
  }
  return result.data;
}

export function bool(value: string, name: string, fallback: boolean): boolean {
  if (!value) return fallback;
  if (/^(true|yes|1|on)$/i.test(value)) return true;
  if (/^(false|no|0|off)$/i.test(value)) return false;
  throw new LifeboatError('input', `Input \`${name}\` is "${value}"; accepted values: \`true\`, \`false\`.`, {
    hint: `Set \`${name}\` to true or false.`,
  });
}

/** How many pg_dump processes a backup runs at once. */
export const MAX_DUMP_JOBS = 16;

export function parseDumpJobs(value: string, name: string): number {
  if (!value) return 1;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < 1 || n > MAX_DUMP_JOBS) {
    throw new LifeboatError(
      'input',
      `Input \`${name}\` is "${value}"; accepted values: a whole number from 1 to ${MAX_DUMP_JOBS}.`,
      {
        hint: `Set \`${name}\` to 1 (one pg_dump, the default) or to the number of parts to dump in parallel, at most the server's cores.`,
      },
    );
  }
  return n;
}

/** A store as `store` (or `copy-to`, in the same syntax) names it; errors name `input`. */
export function parseStore(value: string, input = 'store'): StoreSpec {
  if (value === 'actions-cache') return { kind: 'actions-cache' };
  if (/^s3:\/\//i.test(value)) return { kind: 's3', url: value };
  if (/^file:\/\//i.test(value)) return { kind: 'local', path: checkFileUrl(value, input) };
  if (value.startsWith('/') || value.startsWith('.') || /^[\w~-]/.test(value)) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) && !/^file:\/\//i.test(value)) throw badStore(value, input);
    return { kind: 'local', path: value };
  }
  throw badStore(value, input);
}

/**
 * A `file://` URL must name an absolute path (`file:///var/backups`): `file://backups`
 * reads `backups` as a host, which Node refuses with a message about localhost.
 */
function checkFileUrl(value: string, input: string): string {
  try {
    fileURLToPath(value);
    return value;
  } catch {
    throw new LifeboatError(
      'input',
      `Input \`${input}\` is "${value}", a file:// URL without an absolute path.`,
      {
        hint: 'A file:// URL takes three slashes and an absolute path (`file:///var/backups/lifeboat`); for a relative directory pass the path itself (`./backups`).',
      },
    );
  }
}

function badStore(value: string, input: string): LifeboatError {
  return new LifeboatError(
    'input',
    `Input \`${input}\` is "${value}", which is not a store Lifeboat knows.`,
    {
      hint: 'Use `actions-cache`, `s3://bucket/prefix`, a directory path, or a `file://` URL.',
    },
  );
}

export function parseName(value: string): string {
  if (!isSetName(value)) {
    throw new LifeboatError(
      'input',
      `Input \`name\` is "${value}"; use letters, digits, '.', '_' and '-' (at most 100).`,
      {
        hint: 'For example `production` or `staging-eu`.',
      },
    );
  }
  return value;
}

export function parseBackupId(value: string): string {
  if (!value || value === 'latest') return 'latest';
  if (!isBackupId(value)) {
    throw new LifeboatError(
      'input',
      `Input \`backup-id\` is "${value}"; accepted values: \`latest\` or an id like 20261124_000312_345_9f2c41ab.`,
      {
        hint: '`lifeboat list --store …` shows the ids a store holds.',
      },
    );
  }
  return value;
}

export function parseTables(value: string): { schema: string; name: string }[] {
  if (!value) return [];
  // Commas inside double quotes belong to a name: "a,b"."c" is one table.
  return (value.match(/(?:"(?:[^"]|"")*"|[^,"])+/g) ?? [])
    .map((t) => t.trim())
    .filter(Boolean)
    .map((t) => {
      const match = /^(?:("(?:[^"]|"")+"|[^."]+)\.)?("(?:[^"]|"")+"|[^."]+)$/.exec(t);
      if (!match) {
        throw new LifeboatError('input', `Input \`tables\` has "${t}", which is not a table name.`, {
          hint: 'Use a comma-separated list of schema.table, e.g. `public.workspaces, public.projects`.',
        });
      }
      const unquote = (s: string) => (s.startsWith('"') ? s.slice(1, -1).replace(/""/g, '"') : s);
      return { schema: match[1] ? unquote(match[1]) : 'public', name: unquote(match[2]!) };
    });
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * A CA certificate (or several, concatenated) as PEM text, or the path of a file holding
 * them. Each block is parsed here, so a truncated paste fails before any connection.
 */
export function parseCaCertificates(value: string, name: string): string {
  const bad = (why: string) =>
    new LifeboatError('input', `Input \`${name}\` ${why}.`, {
      hint: 'Paste the CA certificate as text, from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE----- (for Supabase: Project Settings → Database → SSL Configuration → Download certificate).',
    });
  let text = value;
  if (!value.includes('-----BEGIN')) {
    try {
      text = readFileSync(value, 'utf8');
    } catch {
      throw bad('is neither a PEM certificate nor the path of a readable file');
    }
  }
  const blocks = text.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) throw bad('holds no PEM certificate (-----BEGIN CERTIFICATE-----)');
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (error) {
      throw bad(`holds a certificate that does not parse (${(error as Error).message})`);
    }
  }
  return `${blocks.join('\n')}\n`;
}

/**
 * A GitHub token: printable characters without spaces. One pasted with a line break or a
 * stray word would only fail later, as a warning that the issue or comment was not filed.
 * The value is a secret and never shown.
 */
export function parseGithubToken(value: string): string | undefined {
  if (!value) return undefined;
  if (!/^[\x21-\x7e]+$/.test(value)) {
    throw new LifeboatError(
      'input',
      'Input `github-token` is not a GitHub token: it holds spaces, line breaks or other characters no token has.',
      {
        hint: 'Pass the token alone, e.g. `github-token: ${{ github.token }}` or `${{ secrets.GITHUB_TOKEN }}`.',
      },
    );
  }
  return value;
}

/** A directory path, relative to the workspace or absolute. */
export function parseMigrationsDir(value: string): string {
  if ([...value].some((c) => c.charCodeAt(0) < 0x20)) {
    throw new LifeboatError('input', 'Input `migrations-dir` holds a line break or a control character.', {
      hint: 'Use a directory path relative to the repository, e.g. `supabase/migrations` (the default).',
    });
  }
  return value;
}
