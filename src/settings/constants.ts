/** Every input, output and label name in one place (the contract with action.yml). */
export const Inputs = {
  Mode: 'mode',
  DatabaseUrl: 'database-url',
  DatabaseCa: 'database-ca',
  Store: 'store',
  Name: 'name',
  EncryptionRecipient: 'encryption-recipient',
  EncryptionIdentity: 'encryption-identity',
  EncryptionPassphrase: 'encryption-passphrase',
  PgBinDir: 'pg-bin-dir',
  Keep: 'keep',
  KeepDaily: 'keep-daily',
  KeepWeekly: 'keep-weekly',
  KeepMonthly: 'keep-monthly',
  KeepYearly: 'keep-yearly',
  OrphanGrace: 'orphan-grace',
  Pin: 'pin',
  ObjectLockDays: 'object-lock-days',
  ObjectLockMode: 'object-lock-mode',
  VerifyContent: 'verify-content',
  DumpJobs: 'dump-jobs',
  MaxAge: 'max-age',
  Require: 'require',
  MigrationsTable: 'migrations-table',
  MigrationsDir: 'migrations-dir',
  FailOnStale: 'fail-on-stale',
  GithubToken: 'github-token',
  TargetUrl: 'target-url',
  BackupId: 'backup-id',
  RtoTarget: 'rto-target',
  RpoTarget: 'rpo-target',
  VerifySql: 'verify-sql',
  Profile: 'profile',
  KeepDatabase: 'keep-database',
  Confirm: 'confirm',
  DryRun: 'dry-run',
  Tables: 'tables',
  Names: 'names',
  DrillMaxAge: 'drill-max-age',
  FailOnProblem: 'fail-on-problem',
  NotifyUrl: 'notify-url',
  NotifyOn: 'notify-on',
  NotifyFormat: 'notify-format',
  HeartbeatUrl: 'heartbeat-url',
  RestoreRoleLogins: 'restore-role-logins',
  StorageUrl: 'storage-url',
  StorageRegion: 'storage-region',
  StorageBuckets: 'storage-buckets',
  StoragePrefix: 'storage-prefix',
  RestoreStorage: 'restore-storage',
  StorageDeleteExtra: 'storage-delete-extra',
  CopyTo: 'copy-to',
  MaskConfig: 'mask-config',
  MaskKey: 'mask-key',
} as const;

export const Outputs = {
  BackupId: 'backup-id',
  Sha256: 'sha256',
  SizeBytes: 'size-bytes',
  Verified: 'verified',
  Fresh: 'fresh',
  AgeSeconds: 'age-seconds',
  Reason: 'reason',
  Status: 'status',
  RtoSeconds: 'rto-seconds',
  RpoSeconds: 'rpo-seconds',
  ReportPath: 'report-path',
  IssueUrl: 'issue-url',
  SafetyBackupId: 'safety-backup-id',
  ConfirmWith: 'confirm-with',
  Healthy: 'healthy',
  Problems: 'problems',
  Copied: 'copied',
  Skipped: 'skipped',
  MaskedRows: 'masked-rows',
} as const;

export const Modes = ['backup', 'gate', 'drill', 'restore', 'watch', 'copy', 'refresh'] as const;
export type Mode = (typeof Modes)[number];

export const VerificationLevels = ['stored', 'readable', 'restored'] as const;
export type VerificationLevel = (typeof VerificationLevels)[number];

/** When a run sends its notification: on failure only (the default), after every run, or never. */
export const NotifyWhen = ['failure', 'always', 'never'] as const;
export type NotifyOn = (typeof NotifyWhen)[number];

/** The body a notification is sent as; `auto` picks it from the webhook's host. */
export const NotifyFormats = ['auto', 'slack', 'discord', 'teams', 'generic'] as const;
export type NotifyFormat = (typeof NotifyFormats)[number];

/** S3 Object Lock retention modes: governance (privileged users may lift it) or compliance (nobody can). */
export const ObjectLockModes = ['governance', 'compliance'] as const;

export const Profiles = ['auto', 'supabase', 'postgres'] as const;
export type Profile = (typeof Profiles)[number];

export const Labels = {
  Drill: 'lifeboat-drill',
  DrillFailed: 'drill-failed',
  Watch: 'lifeboat-watch',
} as const;

/** Hidden markers that let Lifeboat find its own comments and issues again. */
export const Markers = {
  GateComment: '<!-- lifeboat:gate -->',
  DrillData: 'lifeboat:drill-data',
  WatchData: 'lifeboat:watch-data',
} as const;
