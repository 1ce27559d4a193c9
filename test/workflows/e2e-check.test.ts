import { Decrypter, Encrypter } from 'age-encryption';
import { describe, expect, it } from 'vitest';
import {
  checkBackup,
  checkDrill,
  checkGate,
  checkRestoreDryRun,
  deriveKeyPair,
  parseOutputs,
} from '../../scripts/e2e-check.js';

const backupId = '20250101T000000Z-abcd1234';
const sha = 'a'.repeat(64);

describe('scripts/e2e-check.ts keygen', () => {
  it('derives the same age key pair from the same seed, and a working one', async () => {
    const pair = await deriveKeyPair('owner/repo/123');
    expect(await deriveKeyPair('owner/repo/123')).toEqual(pair);
    expect(pair.identity).toMatch(/^AGE-SECRET-KEY-1[0-9A-Z]+$/);
    expect(pair.recipient).toMatch(/^age1[0-9a-z]+$/);

    const encrypter = new Encrypter();
    encrypter.addRecipient(pair.recipient);
    const decrypter = new Decrypter();
    decrypter.addIdentity(pair.identity);
    const ciphertext = await encrypter.encrypt('synthetic rows');
    expect(await decrypter.decrypt(ciphertext, 'text')).toBe('synthetic rows');
  });

  it('derives different pairs for different runs and refuses an empty seed', async () => {
    expect((await deriveKeyPair('run-1')).identity).not.toBe((await deriveKeyPair('run-2')).identity);
    await expect(deriveKeyPair(' ')).rejects.toThrow(/seed/);
  });
});

describe('scripts/e2e-check.ts checks', () => {
  it('accepts a readable backup and names each problem of a bad one', () => {
    const good = { 'backup-id': backupId, sha256: sha, 'size-bytes': '2048', verified: 'readable' };
    expect(checkBackup(good)).toEqual([]);
    expect(checkBackup({ ...good, sha256: 'xyz', 'size-bytes': '0', verified: 'stored' })).toEqual([
      'output `sha256` is not a SHA-256 hex digest',
      'output `size-bytes` is 0: an empty archive is not a backup',
      'output `verified` should be "readable", got "stored"',
    ]);
    expect(checkBackup({})).toHaveLength(4);
  });

  it('checks the gate against the backup the backup job took', () => {
    const fresh = { fresh: 'true', 'backup-id': backupId, 'age-seconds': '42', reason: 'Fresh.' };
    expect(checkGate(fresh, { backupId, fresh: true, maxAgeSeconds: 3600 })).toEqual([]);
    expect(checkGate(fresh, { backupId: 'other', fresh: false, maxAgeSeconds: 10 })).toEqual([
      'output `fresh` should be "false", got "true"',
      'output `backup-id` should be "other", got "20250101T000000Z-abcd1234"',
      'output `age-seconds` is 42, above 10',
    ]);
  });

  it('fails a drill whose report or objectives disagree', () => {
    const outputs = {
      status: 'passed',
      'backup-id': backupId,
      'rto-seconds': '30',
      'rpo-seconds': '120',
      'report-path': '/tmp/report.json',
    };
    expect(checkDrill(outputs, { backupId, maxRtoSeconds: 1800 }, { status: 'passed' })).toEqual([]);
    expect(checkDrill({ ...outputs, 'rto-seconds': 'soon' }, { backupId }, { status: 'failed' })).toEqual([
      'output `rto-seconds` should be a whole number of seconds or bytes, got "soon"',
      'the drill report says "failed", not "passed"',
    ]);
    expect(checkDrill(outputs, { backupId }, [])).toEqual(['the drill report is not a JSON object']);
  });

  it('fails a dry run that took a safety backup', () => {
    const outputs = { status: 'passed', 'backup-id': backupId };
    expect(checkRestoreDryRun(outputs, { backupId })).toEqual([]);
    expect(checkRestoreDryRun({ ...outputs, 'safety-backup-id': 'x' }, { backupId })).toEqual([
      'a dry run took a safety backup (x): a dry run must change nothing',
    ]);
  });

  it('reads the outputs JSON the workflow passes, and nothing else', () => {
    expect(parseOutputs('{"fresh":"true"}')).toEqual({ fresh: 'true' });
    expect(() => parseOutputs(undefined)).toThrow(/LIFEBOAT_OUTPUTS/);
    expect(() => parseOutputs('[]')).toThrow(/object/);
    expect(() => parseOutputs('{"n":1}')).toThrow(/string/);
  });
});
