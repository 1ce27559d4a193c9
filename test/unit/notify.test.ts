import { describe, expect, it } from 'vitest';
import { beatUrl, bodyFor, formatFor, type RunMessage } from '../../src/notify/index.js';
import { failureReason } from '../../src/notify/message.js';
import { LifeboatError } from '../../src/errors.js';
import { parseSettings } from '../../src/settings/settings.js';
import { schemaErrors } from '../helpers/webhook-receivers.js';

const message: RunMessage = {
  mode: 'backup',
  name: 'production',
  result: 'failure',
  backupId: '20261124_000312_345_9f2c41ab',
  reason: 'pg_dump failed <@everyone> & more',
  runUrl: 'https://github.com/acme/shop/actions/runs/1',
  repository: 'acme/shop',
};

describe('notification format by host', () => {
  it.each([
    ['https://hooks.slack.com/services/T0/B0/XXXX', 'slack'],
    ['https://discord.com/api/webhooks/123/abc', 'discord'],
    ['https://discordapp.com/api/webhooks/123/abc', 'discord'],
    ['https://prod-12.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?sig=x', 'teams'],
    [
      'https://default0a1b.02.environment.api.powerplatform.com/powerautomate/automations/direct/workflows/x',
      'teams',
    ],
    ['https://example.com/hook', 'generic'],
    ['https://discord.com/channels/1/2', 'generic'],
  ])('%s → %s', (url, format) => {
    expect(formatFor(url, 'auto')).toBe(format);
  });

  it('lets notify-format override the host', () => {
    expect(formatFor('https://hooks.slack.com/services/x', 'generic')).toBe('generic');
  });

  it.each(['slack', 'discord', 'teams', 'generic'] as const)(
    'builds a %s body its schema accepts',
    (format) => {
      expect(schemaErrors(format, bodyFor(format, message))).toEqual([]);
    },
  );

  it('never lets a reason mention everyone on Discord, nor break Slack markup', () => {
    expect(bodyFor('discord', message)).toMatchObject({ allowed_mentions: { parse: [] } });
    expect(JSON.stringify(bodyFor('slack', message))).toContain('&lt;@everyone&gt; &amp; more');
  });
});

describe('heartbeat URLs', () => {
  it('follow the healthchecks.io convention, keeping a query string at the end', () => {
    expect(beatUrl('https://hc-ping.com/abc', 'start')).toBe('https://hc-ping.com/abc/start');
    expect(beatUrl('https://hc-ping.com/abc/', 'fail')).toBe('https://hc-ping.com/abc/fail');
    expect(beatUrl('https://hc-ping.com/abc', 'success')).toBe('https://hc-ping.com/abc');
    expect(beatUrl('https://hc-ping.com/abc?rid=1', 'start')).toBe('https://hc-ping.com/abc/start?rid=1');
    expect(beatUrl('https://uptime.betterstack.com/api/v1/heartbeat/tok', 'fail')).toBe(
      'https://uptime.betterstack.com/api/v1/heartbeat/tok/fail',
    );
    expect(beatUrl('https://uptime.betterstack.com/api/v1/heartbeat/tok', 'success')).toBe(
      'https://uptime.betterstack.com/api/v1/heartbeat/tok',
    );
  });

  it("speak Cronitor's telemetry states, and send Better Stack no start it does not know", () => {
    expect(beatUrl('https://cronitor.link/p/key/job?env=prod', 'start')).toBe(
      'https://cronitor.link/p/key/job?env=prod&state=run',
    );
    expect(beatUrl('https://cronitor.link/p/key/job', 'success')).toBe(
      'https://cronitor.link/p/key/job?state=complete',
    );
    expect(beatUrl('https://cronitor.link/p/key/job', 'fail')).toBe(
      'https://cronitor.link/p/key/job?state=fail',
    );
    expect(beatUrl('https://uptime.betterstack.com/api/v1/heartbeat/tok', 'start')).toBeUndefined();
  });
});

describe('failure reasons', () => {
  it('come from the error code alone, never its message', () => {
    const error = new LifeboatError('restore', 'relation public.zebra_ledger_7731 does not exist');
    expect(failureReason(error)).toBe('the restore failed');
    expect(failureReason(new Error('postgres://u:p@h/db'))).toMatch(/unexpected error/);
  });
});

describe('notify settings', () => {
  const parse = (inputs: Record<string, string>, secrets: string[] = []) =>
    parseSettings(
      (n) => ({ mode: 'watch', ...inputs })[n] ?? '',
      (s) => secrets.push(s),
    );

  it('masks every webhook URL and the heartbeat URL', () => {
    const secrets: string[] = [];
    parse(
      { 'notify-url': 'https://a.example/1\nhttps://b.example/2', 'heartbeat-url': 'https://hc-ping.com/x' },
      secrets,
    );
    expect(secrets).toEqual(
      expect.arrayContaining(['https://a.example/1', 'https://b.example/2', 'https://hc-ping.com/x']),
    );
  });

  it('refuses a bad notify-on, notify-format or URL, naming the input and the accepted values', () => {
    expect(() => parse({ 'notify-on': 'sometimes' })).toThrow(
      /`notify-on` is "sometimes"; accepted values: `failure`, `always`, `never`/,
    );
    expect(() => parse({ 'notify-format': 'mattermost' })).toThrow(
      /`notify-format` is "mattermost"; accepted values: `auto`, `slack`/,
    );
    expect(() => parse({ 'notify-url': 'hooks.slack.com/x' })).toThrow(
      /`notify-url` holds a value that is not an http\(s\) URL/,
    );
    expect(() => parse({ 'heartbeat-url': 'ftp://x' })).toThrow(
      /`heartbeat-url` holds a value that is not an http\(s\) URL/,
    );
  });

  it('gives the watch its own max-age default, 26h, and the gate 24h', () => {
    expect(parse({})).toMatchObject({
      mode: 'watch',
      maxAgeSeconds: 26 * 3600,
      require: 'readable',
      drillMaxAgeSeconds: 35 * 86400,
      names: ['production'],
    });
    expect(
      parseSettings(
        (n) => (n === 'mode' ? 'gate' : ''),
        () => undefined,
      ),
    ).toMatchObject({ maxAgeSeconds: 24 * 3600 });
  });
});
