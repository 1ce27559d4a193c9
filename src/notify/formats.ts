import type { NotifyFormat } from '../settings/constants.js';
import { LIFEBOAT_VERSION } from '../version.js';
import { headline, type RunMessage } from './message.js';

/**
 * Notification bodies, one per service, as each documents its webhook; pure. `auto` picks
 * the format from the webhook's host, so one `notify-url` list can mix services.
 *  - Slack incoming webhook: `{ text, blocks }` (api.slack.com/messaging/webhooks)
 *  - Discord webhook: `{ content, embeds, allowed_mentions }` (discord.com/developers/docs/resources/webhook)
 *  - Microsoft Teams workflow webhook: a `message` with one Adaptive Card attachment
 *  - generic: the flat JSON object of `genericBody`, documented in the README
 */
export type ConcreteFormat = Exclude<NotifyFormat, 'auto'>;

export function formatFor(url: string, format: NotifyFormat): ConcreteFormat {
  if (format !== 'auto') return format;
  let host = '';
  let pathname = '';
  try {
    ({ hostname: host, pathname } = new URL(url));
  } catch {
    return 'generic';
  }
  host = host.toLowerCase();
  if (host === 'hooks.slack.com' || host === 'hooks.slack-gov.com') return 'slack';
  if (/(^|\.)discord(app)?\.com$/.test(host) && pathname.startsWith('/api/webhooks/')) return 'discord';
  if (/\.(logic\.azure\.com|powerplatform\.com|webhook\.office\.com)$/.test(host)) return 'teams';
  return 'generic';
}

export function bodyFor(format: ConcreteFormat, m: RunMessage): unknown {
  switch (format) {
    case 'slack':
      return slackBody(m);
    case 'discord':
      return discordBody(m);
    case 'teams':
      return teamsBody(m);
    case 'generic':
      return genericBody(m);
  }
}

/** The generic body: every field always present (null when unknown), so receivers need no guessing. */
export function genericBody(m: RunMessage): Record<string, unknown> {
  return {
    source: 'lifeboat',
    formatVersion: 1,
    lifeboatVersion: LIFEBOAT_VERSION,
    mode: m.mode,
    name: m.name,
    result: m.result,
    backupId: m.backupId,
    reason: m.reason,
    runUrl: m.runUrl,
    repository: m.repository,
    text: headline(m),
  };
}

function facts(m: RunMessage): [string, string][] {
  return [
    ['Mode', m.mode],
    ['Set', m.name],
    ['Result', m.result],
    ...(m.backupId ? ([['Backup', m.backupId]] as [string, string][]) : []),
    ...(m.repository ? ([['Repository', m.repository]] as [string, string][]) : []),
  ];
}

/** Slack mrkdwn treats &, < and > as control characters. */
function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function slackBody(m: RunMessage): Record<string, unknown> {
  const icon = m.result === 'success' ? ':white_check_mark:' : ':rotating_light:';
  const link = m.runUrl ? ` <${m.runUrl}|Open the run>` : '';
  const text = `${icon} ${slackEscape(headline(m))}${link}`;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: text.slice(0, 3000) } },
      {
        type: 'context',
        elements: facts(m).map(([k, v]) => ({ type: 'mrkdwn', text: `*${k}:* ${slackEscape(v)}` })),
      },
    ],
  };
}

function discordBody(m: RunMessage): Record<string, unknown> {
  return {
    content: headline(m).slice(0, 2000),
    username: 'Lifeboat',
    // A reason can never ping @everyone or a role.
    allowed_mentions: { parse: [] },
    embeds: [
      {
        title: `Lifeboat ${m.mode}: ${m.result}`.slice(0, 256),
        description: m.reason.slice(0, 4096),
        color: m.result === 'success' ? 0x2ea043 : 0xd73a4a,
        ...(m.runUrl ? { url: m.runUrl } : {}),
        fields: facts(m).map(([name, value]) => ({ name, value: value.slice(0, 1024), inline: true })),
      },
    ],
  };
}

function teamsBody(m: RunMessage): Record<string, unknown> {
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body: [
            {
              type: 'TextBlock',
              text: `Lifeboat ${m.mode}: ${m.result}`,
              weight: 'Bolder',
              size: 'Medium',
              color: m.result === 'success' ? 'Good' : 'Attention',
              wrap: true,
            },
            { type: 'TextBlock', text: m.reason, wrap: true },
            { type: 'FactSet', facts: facts(m).map(([title, value]) => ({ title, value })) },
          ],
          ...(m.runUrl
            ? { actions: [{ type: 'Action.OpenUrl', title: 'Open the run', url: m.runUrl }] }
            : {}),
        },
      },
    ],
  };
}
