import { LifeboatError } from '../errors.js';
import type { StoreSpec } from '../stores/store.js';
import { Inputs } from './constants.js';
import { parseRetentionInputs, type RetentionRules } from './keep.js';
import { parseBackupId, parseStore } from './values.js';

/** The inputs of mode `copy`. No key among them: the bytes travel as they are, still encrypted. */
export function parseCopyInputs(
  raw: (name: string) => string,
  value: (name: string) => string,
): { copyTo: StoreSpec; backupId: string; retention: RetentionRules; orphanGraceSeconds: number } {
  if (!raw(Inputs.CopyTo)) {
    throw new LifeboatError('input', 'Input `copy-to` is required for mode `copy`.', {
      hint: 'Name the second store in the syntax of `store`: s3://bucket/prefix, a directory, or actions-cache.',
    });
  }
  return {
    copyTo: parseStore(raw(Inputs.CopyTo), Inputs.CopyTo),
    backupId: parseCopyBackupId(value(Inputs.BackupId)),
    // The destination keeps its own rules: `keep` and `keep-daily`…`keep-yearly` apply there.
    ...parseRetentionInputs(raw, value),
  };
}

/** A copy's `backup-id`: `latest`, `all`, or one id. */
export function parseCopyBackupId(value: string): string {
  if (value === 'all') return value;
  try {
    return parseBackupId(value);
  } catch {
    throw new LifeboatError(
      'input',
      `Input \`backup-id\` is "${value}"; accepted values for mode \`copy\`: \`latest\`, \`all\`, or an id like 20261124_000312_345_9f2c41ab.`,
      { hint: '`lifeboat list --store …` shows the ids a store holds.' },
    );
  }
}
