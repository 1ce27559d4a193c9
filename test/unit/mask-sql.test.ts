import { describe, expect, it } from 'vitest';
import { keyPads } from '../../src/refresh/mask-key.js';
import type { MaskedColumn, MaskPlan } from '../../src/refresh/mask-plan.js';
import { maskingSql, rowCountSql } from '../../src/refresh/mask-sql.js';
import { renderRefreshSummary } from '../../src/refresh/refresh-summary.js';
import { snapshot } from '../helpers/catalog.js';

const column = (
  name: string,
  kind: MaskedColumn['kind'],
  type = 'text',
  path: string[] = [],
): MaskedColumn => {
  const [schema, table, col] = name.split('.') as [string, string, string];
  return {
    schema,
    table,
    column: col,
    path,
    kind,
    origin: 'config',
    info: { schema, table, name: col, type, category: 'S', notNull: false, generated: false },
  };
};

const plan: MaskPlan = {
  columns: [
    column('auth.users.email', 'email'),
    column('auth.users.raw_user_meta_data', 'name', 'jsonb', ['full_name']),
    column('public.clips.caption', 'text', 'character varying(20)'),
  ],
  truncate: [{ schema: 'auth', table: 'sessions' }],
  unmasked: ['public.clips.ip'],
};

describe('the masking SQL', () => {
  const pads = keyPads('the key');
  const sql = maskingSql(plan, pads) + rowCountSql(plan, snapshot());

  it('carries the key only as COPY data, on the line after the COPY', () => {
    const lines = sql.split('\n');
    const at = lines.findIndex((l) => l.includes(pads.ipad.toString('hex')));
    expect(lines[at - 1]).toBe('COPY pg_temp.lifeboat_mask_key FROM STDIN;');
    expect(lines[at + 1]).toBe('\\.');
    expect(lines.filter((l) => l.includes(pads.opad.toString('hex')))).toHaveLength(1);
    expect(sql).not.toContain('the key');
  });

  it('masks each table in one UPDATE, checks each value against its original, cuts masks to a limited column, sets jsonb paths only where they hold a value', () => {
    expect(sql).toContain(
      `CASE WHEN t."email"::text LIKE 'user\\_${'_'.repeat(24)}@example.invalid' AND length(t."email"::text) >= 4 AND ('user_' || left(md5((SELECT prefix FROM pg_temp.lifeboat_mask_key) || t."email"::text), 24) || '@example.invalid') = t."email"::text THEN pg_temp.lifeboat_unmasked('auth.users.email') ELSE`,
    );
    expect(sql.match(/^UPDATE /gm)).toHaveLength(2);
    expect(sql).toMatch(
      /UPDATE "public"\."clips" AS t SET "caption" = CASE .* = t\."caption"::text THEN .* ELSE left\(.*, 20\) END;/,
    );
    expect(sql).toContain(
      `CASE WHEN jsonb_typeof(t."raw_user_meta_data" #> ARRAY['full_name']::text[]) IS DISTINCT FROM 'null' AND t."raw_user_meta_data" #> ARRAY['full_name']::text[] IS NOT NULL THEN jsonb_set(`,
    );
    expect(sql).toContain('TRUNCATE TABLE "auth"."sessions";');
  });

  it('tests a value against the exact shape of its mask, and against the mask as cut to fit a limited column', () => {
    const short = maskingSql(
      {
        columns: [
          column('public.contacts.email', 'email', 'character varying(5)'),
          column('public.contacts.name', 'name'),
        ],
        truncate: [],
        unmasked: [],
      },
      pads,
    );
    expect(short).toContain(`CASE WHEN t."name"::text LIKE 'Person ${'_'.repeat(12)}' AND`);
    expect(short).toContain(
      `CASE WHEN t."email"::text LIKE 'user\\_' AND length(t."email"::text) >= 4 AND (left('user_' || left(md5((SELECT prefix FROM pg_temp.lifeboat_mask_key) || t."email"::text), 24) || '@example.invalid', 5)) = t."email"::text THEN`,
    );
  });

  it('checks every counted table against the backup, an emptied one against zero', () => {
    expect(sql).toContain(
      `SELECT pg_temp.lifeboat_rows('auth.users', (SELECT count(*) FROM "auth"."users"), 200);`,
    );
    expect(sql).toContain(
      `SELECT pg_temp.lifeboat_rows('public.clips', (SELECT count(*) FROM "public"."clips"), 1600);`,
    );
  });

  it('keeps names from the backup out of dollar-quoted bodies', () => {
    const hostile = snapshot();
    hostile.tables[0]!.name = "x$f$; DROP TABLE y; $f$'";
    const text = rowCountSql(plan, hostile);
    expect(text).toContain(`'auth.x$f$; DROP TABLE y; $f$'''`);
    expect(text).not.toMatch(/\bDO\b/);
  });
});

describe('the refresh summary', () => {
  it('counts tables, columns and rows masked, and lists unmasked personal columns', () => {
    const rows = new Map([
      ['"auth"."users"', 200],
      ['"public"."clips"', 1600],
    ]);
    const text = renderRefreshSummary({ status: 'passed', target: 'db:5432/staging', plan, rows });
    expect(text).toContain('Masked 3 columns in 2 tables (1800 rows); emptied 1 table.');
    expect(text).toContain('| auth.users | raw_user_meta_data.full_name | name | 200 |');
    expect(text).toContain('- `public.clips.ip`');
  });
});
