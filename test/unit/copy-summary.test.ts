import { describe, expect, it } from 'vitest';
import { renderCopySummary } from '../../src/copy/copy-summary.js';
import { keyText } from '../../src/cli/list.js';
import { copyDestinationEnv } from '../../src/settings/environment.js';

const A = '20260301_120000_000_0a1b2c3d';
const B = '20260302_120000_000_1a2b3c4d';

describe('the copy summary', () => {
  it('counts what was copied and what was already there, and names each backup', () => {
    const text = renderCopySummary({
      name: 'production',
      from: 's3://a/x',
      to: 's3://b/y',
      sets: [
        { backupId: A, result: 'skipped', bytes: 0 },
        { backupId: B, result: 'copied', bytes: 2048 },
      ],
      failed: [],
    });
    expect(text).toMatch(/Lifeboat copy: done/);
    expect(text).toMatch(/1 copied \(2\.0 KiB\), 1 already there\./);
    expect(text).toContain(`| \`${A}\` | already there |`);
    expect(text).toContain(`| \`${B}\` | copied (2.0 KiB) |`);
  });

  it('says a copy failed, with the first line of each error, its pipes escaped', () => {
    const text = renderCopySummary({
      name: 'production',
      from: 'a',
      to: 'b',
      sets: [],
      failed: [{ backupId: A, error: 'bad | worse\nhint: more' }],
    });
    expect(text).toMatch(/Lifeboat copy: failed/);
    expect(text).toContain('**failed**: bad \\| worse |');
    expect(text).not.toContain('hint: more');
  });
});

describe("list's KEY column", () => {
  it('shortens each recipient, names a passphrase, and says when none was recorded', () => {
    const r = `age1${'q'.repeat(54)}xyz123`;
    expect(keyText('age-x25519', [r])).toBe(`age1qqqqqq…xyz123`);
    expect(keyText('age-scrypt', null)).toBe('passphrase');
    expect(keyText('age-x25519', null)).toBe('(not recorded)');
  });
});

describe("a copy destination's environment", () => {
  const source = {
    AWS_ACCESS_KEY_ID: 'src',
    AWS_SECRET_ACCESS_KEY: 'src-secret',
    AWS_REGION: 'eu-west-1',
    PATH: '/bin',
  };

  it('is the source environment when no LIFEBOAT_COPY_TO_AWS_* is set', () => {
    expect(copyDestinationEnv(source)).toBe(source);
  });

  it('replaces every AWS_* as a whole when any LIFEBOAT_COPY_TO_AWS_* is set, never mixing the two', () => {
    const env = copyDestinationEnv({
      ...source,
      LIFEBOAT_COPY_TO_AWS_ACCESS_KEY_ID: 'dst',
      LIFEBOAT_COPY_TO_AWS_SECRET_ACCESS_KEY: 'dst-secret',
    });
    expect(env).toMatchObject({
      AWS_ACCESS_KEY_ID: 'dst',
      AWS_SECRET_ACCESS_KEY: 'dst-secret',
      PATH: '/bin',
    });
    expect(env.AWS_REGION).toBeUndefined();
  });
});
