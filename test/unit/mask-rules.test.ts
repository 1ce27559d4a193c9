import { describe, expect, it } from 'vitest';
import type { CatalogSnapshot, ColumnInfo } from '../../src/postgres/catalog.js';
import { looksPersonal, planMasking } from '../../src/refresh/mask-plan.js';
import { parse } from 'yaml';
import { parseMaskConfig as parseWith, splitName } from '../../src/refresh/mask-rules.js';
import { snapshot } from '../helpers/catalog.js';

/** The yaml parser the refresh loads when it runs, given here directly. */
const parseMaskConfig = (text: string, file: string) => parseWith(text, file, parse);

const col = (name: string, type = 'text', extra: Partial<ColumnInfo> = {}): ColumnInfo => {
  const [schema, table, column] = name.split('.') as [string, string, string];
  const category = type === 'jsonb' || type.endsWith('citext') ? 'U' : type === 'integer' ? 'N' : 'S';
  return { schema, table, name: column, type, category, notNull: false, generated: false, ...extra };
};

/** The test snapshot with auth tables and columns a refresh reads. */
function catalog(): CatalogSnapshot {
  const s = snapshot();
  const table = (schema: string, name: string) => ({ ...s.tables[0]!, schema, name, rows: 10 });
  s.tables.push(table('auth', 'sessions'), table('auth', 'mfa_factors'), table('public', 'profiles'));
  s.columns = [
    col('auth.users.email', 'extensions.citext', { notNull: true }),
    col('auth.users.encrypted_password'),
    col('auth.users.raw_user_meta_data', 'jsonb'),
    col('auth.sessions.ip', 'inet'),
    col('auth.mfa_factors.secret'),
    col('public.profiles.email'),
    col('public.profiles.full_name'),
    col('public.profiles.age', 'integer'),
    col('public.profiles.nickname', 'text', { notNull: true }),
    col('public.clips.caption'),
    col('public.clips.ip_address'),
  ];
  return s;
}

describe('masking rules', () => {
  it('reads every kind of rule, jsonb paths and table actions from YAML', () => {
    const config = parseMaskConfig(
      `columns:
  public.profiles.email: email
  public.profiles.note: null
  public.profiles.country: { fixed: NL }
  auth.users.raw_user_meta_data.full_name: name
  'public."odd.name".col': keep
tables:
  public.audit: truncate
truncate: [public.logs]
supabase-defaults: false
`,
      'mask.yml',
    );
    expect(config.supabaseDefaults).toBe(false);
    expect(
      config.columns.map((c) => [c.schema, c.table, c.column, c.path.join('.'), c.kind, c.value]),
    ).toEqual([
      ['public', 'profiles', 'email', '', 'email', undefined],
      ['public', 'profiles', 'note', '', 'null', undefined],
      ['public', 'profiles', 'country', '', 'fixed', 'NL'],
      ['auth', 'users', 'raw_user_meta_data', 'full_name', 'name', undefined],
      ['public', 'odd.name', 'col', '', 'keep', undefined],
    ]);
    expect(config.tables.map((t) => `${t.schema}.${t.table}:${t.action}`)).toEqual([
      'public.audit:truncate',
      'public.logs:truncate',
    ]);
  });

  it('names the rule and the accepted values when a rule is unknown', () => {
    expect(() => parseMaskConfig('columns:\n  public.t.c: scramble\n', 'mask.yml')).toThrow(
      /columns\.public\.t\.c is "scramble"; accepted: email, name, phone, text, hash, null, keep/,
    );
    expect(() => parseMaskConfig('colums: {}\n', 'mask.yml')).toThrow(/unknown keys colums/);
    expect(() => parseMaskConfig('columns:\n  profiles.email: email\n', 'mask.yml')).toThrow(
      /must name schema\.table\.column/,
    );
    expect(() => splitName('public."open')).toThrow(/not a valid dotted name/);
  });

  it('lists every rule that does not fit the backup, before any work', () => {
    const config = parseMaskConfig(
      `columns:
  public.profiles.emial: email
  public.nowhere.x: name
  public.profiles.age: email
  public.profiles.nickname: null
  public.profiles.email.x: name
tables:
  public.gone: truncate
`,
      'mask.yml',
    );
    let message = '';
    try {
      planMasking(config, catalog(), false);
    } catch (error) {
      message = (error as Error).message;
    }
    for (const problem of [
      'table public.gone does not exist',
      'column public.profiles.emial does not exist',
      'table public.nowhere (of rule public.nowhere.x) does not exist',
      'column public.profiles.age is integer; email masks text columns',
      'column public.profiles.nickname is NOT NULL',
      'column public.profiles.email.x is text; a path after the column needs jsonb',
    ])
      expect(message).toContain(problem);
    expect(message).toMatch(/Nothing was changed\.$/);
  });

  it('applies the Supabase defaults where their columns exist, lets rules override them, and warns of personal columns', () => {
    const config = parseMaskConfig(
      'columns:\n  public.profiles.email: email\n  auth.users.email: keep\ntables:\n  auth.sessions: keep\n',
      'mask.yml',
    );
    const plan = planMasking(config, catalog(), true);
    expect(
      plan.columns.map((c) => `${c.schema}.${c.table}.${[c.column, ...c.path].join('.')}:${c.kind}`),
    ).toEqual([
      'auth.users.encrypted_password:fixed',
      'auth.users.raw_user_meta_data.full_name:name',
      'auth.users.raw_user_meta_data.name:name',
      'auth.users.raw_user_meta_data.email:email',
      'auth.users.raw_user_meta_data.phone:phone',
      'auth.users.raw_user_meta_data.avatar_url:null',
      'auth.users.raw_user_meta_data.picture:null',
      'public.profiles.email:email',
    ]);
    expect(plan.truncate).toEqual([{ schema: 'auth', table: 'mfa_factors' }]);
    expect(plan.unmasked).toEqual([
      'auth.sessions.ip',
      'public.profiles.full_name',
      'public.profiles.nickname',
      'public.clips.ip_address',
    ]);
    expect(planMasking(config, catalog(), false).truncate).toEqual([]);
  });

  it('refuses a backup whose catalog has no column names', () => {
    const old = catalog();
    delete old.columns;
    expect(() => planMasking({ columns: [], tables: [] }, old, true)).toThrow(/did not record column names/);
  });

  it('tells personal-looking column names from others', () => {
    for (const name of [
      'email',
      'billing_email',
      'lastName',
      'ip_address',
      'dob',
      'phone',
      'full_name',
      'zip',
    ])
      expect(looksPersonal(name), name).toBe(true);
    for (const name of ['id', 'created_at', 'status', 'zipped', 'shipment', 'amount_cents'])
      expect(looksPersonal(name), name).toBe(false);
  });
});
