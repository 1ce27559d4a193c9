import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoSecrets, runAction } from '../helpers/lifeboat.js';
import { backupFixture, type BackupFixture } from '../helpers/world.js';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { loadFixture } from '../helpers/fixtures.js';
import { startS3Server } from '../helpers/s3-server.js';

let cluster: Cluster;
let fx: BackupFixture;
let url: string;

beforeAll(async () => {
  cluster = await startCluster();
  url = await cluster.createDatabase('app');
  await loadFixture(cluster, 'app', 'supabase');
  fx = await backupFixture();
});

afterAll(async () => {
  await cluster?.stop();
  await fx?.cleanup();
});

describe('the action, run as a runner runs it', () => {
  it('takes a verified backup, sets every output, writes the summary and masks the password', async () => {
    const run = await runAction({
      mode: 'backup',
      'database-url': url,
      store: fx.dir,
      'encryption-recipient': fx.recipient,
      'encryption-identity': fx.identity,
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.outputs).toMatchObject({ verified: 'readable' });
    expect(run.outputs['backup-id']).toMatch(/^\d{8}_\d{6}_\d{3}_[0-9a-f]{8}$/);
    expect(run.outputs.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(Number(run.outputs['size-bytes'])).toBeGreaterThan(1000);
    expect(run.summary).toContain(run.outputs['backup-id']);
    // The runner protocol escapes % in command data.
    expect(run.stdout).toContain(`::add-mask::${cluster.password.replace(/%/g, '%25')}`);
    expectNoSecrets(run, [cluster.password, fx.identity]);
  });

  it('fails with one masked error line when the password is wrong', async () => {
    const wrong = cluster.url({ database: 'app', password: `${cluster.password}x` });
    const run = await runAction({
      mode: 'backup',
      'database-url': wrong,
      store: fx.dir,
      'encryption-recipient': fx.recipient,
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/::error::Password authentication failed for user "postgres"/);
    expectNoSecrets(run, [cluster.password]);
    expect(run.outputs['backup-id']).toBeUndefined();
  });

  it('ships a bundle that starts on this Node and rejects a bad mode naming the accepted values', async () => {
    const run = await runAction({ mode: 'explode' }, { entry: 'dist' });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /::error::Input `mode` is "explode"; accepted values: `backup`, `gate`, `drill`, `restore`/,
    );
  });

  it('ships a bundle whose S3 client, loaded on demand, stores and reads back a backup', async () => {
    const s3 = await startS3Server();
    try {
      const run = await runAction(
        {
          mode: 'backup',
          'database-url': url,
          store: `s3://${s3.bucket}/bundle`,
          'encryption-recipient': fx.recipient,
          'encryption-identity': fx.identity,
        },
        // The action runs on node24; this machine's Node 20 would add the SDK's upgrade notice.
        { entry: 'dist', env: { ...s3.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } },
      );
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.outputs).toMatchObject({ verified: 'readable' });
      expect(s3.operations).toContain('GetObject');
      expectNoSecrets(run, [s3.secretAccessKey]);
    } finally {
      await s3.stop();
    }
  });
});
