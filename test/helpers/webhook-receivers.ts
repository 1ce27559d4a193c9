/**
 * Local HTTP receivers standing in for Slack, Discord, Microsoft Teams, a generic webhook and
 * a heartbeat monitor: each records what it was sent, and can answer 500 or never answer.
 * The schemas are each service's documented webhook body, reduced to what Lifeboat sends:
 * required fields, types and the limits the services enforce.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Ajv } from 'ajv';

export interface Received {
  method: string;
  path: string;
  contentType: string;
  body: string;
}

export interface Receiver {
  /** A URL with a secret path, as a real webhook URL has. */
  url: string;
  secret: string;
  received: Received[];
  /** Requests that arrived, answered or not (a hanging receiver answers none). */
  attempts(): number;
  stop(): Promise<void>;
}

export async function startReceiver(behaviour: 'ok' | 'fail' | 'hang' = 'ok'): Promise<Receiver> {
  const secret = randomBytes(12).toString('hex');
  const received: Received[] = [];
  let attempts = 0;
  const server = http.createServer((req, res) => {
    attempts++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        path: req.url ?? '',
        contentType: req.headers['content-type'] ?? '',
        body: Buffer.concat(chunks).toString('utf8'),
      });
      if (behaviour === 'hang') return;
      res.writeHead(behaviour === 'fail' ? 500 : 200, { 'content-type': 'text/plain' });
      res.end(behaviour === 'fail' ? 'internal error' : 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hooks/${secret}`,
    secret,
    received,
    attempts: () => attempts,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const str = (max?: number) => ({ type: 'string', minLength: 1, ...(max ? { maxLength: max } : {}) });

/** Slack incoming webhook: `text` (the fallback), optional Block Kit `blocks` (section, context). */
const slack = {
  type: 'object',
  required: ['text'],
  properties: {
    text: str(40000),
    blocks: {
      type: 'array',
      maxItems: 50,
      items: {
        type: 'object',
        required: ['type'],
        properties: {
          type: { enum: ['section', 'context', 'header', 'divider'] },
          text: {
            type: 'object',
            required: ['type', 'text'],
            properties: { type: { enum: ['mrkdwn', 'plain_text'] }, text: str(3000) },
            additionalProperties: false,
          },
          elements: {
            type: 'array',
            maxItems: 10,
            items: {
              type: 'object',
              required: ['type', 'text'],
              properties: { type: { enum: ['mrkdwn', 'plain_text'] }, text: str(3000) },
              additionalProperties: false,
            },
          },
        },
        additionalProperties: false,
      },
    },
  },
  additionalProperties: false,
};

/** Discord execute-webhook: content ≤ 2000, ≤ 10 embeds (title 256, description 4096, 25 fields). */
const discord = {
  type: 'object',
  anyOf: [{ required: ['content'] }, { required: ['embeds'] }],
  properties: {
    content: str(2000),
    username: str(80),
    allowed_mentions: {
      type: 'object',
      properties: { parse: { type: 'array', items: { enum: ['roles', 'users', 'everyone'] } } },
    },
    embeds: {
      type: 'array',
      maxItems: 10,
      items: {
        type: 'object',
        properties: {
          title: str(256),
          description: str(4096),
          url: { type: 'string', pattern: '^https?://' },
          color: { type: 'integer', minimum: 0, maximum: 0xffffff },
          fields: {
            type: 'array',
            maxItems: 25,
            items: {
              type: 'object',
              required: ['name', 'value'],
              properties: { name: str(256), value: str(1024), inline: { type: 'boolean' } },
              additionalProperties: false,
            },
          },
        },
        additionalProperties: false,
      },
    },
  },
  additionalProperties: false,
};

/** Teams workflow webhook ("post to a channel when a webhook request is received"): a message with Adaptive Cards. */
const teams = {
  type: 'object',
  required: ['type', 'attachments'],
  properties: {
    type: { const: 'message' },
    attachments: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['contentType', 'content'],
        properties: {
          contentType: { const: 'application/vnd.microsoft.card.adaptive' },
          contentUrl: { type: 'null' },
          content: {
            type: 'object',
            required: ['type', 'version', 'body'],
            properties: {
              $schema: { type: 'string' },
              type: { const: 'AdaptiveCard' },
              version: { type: 'string', pattern: '^1\\.[0-6]$' },
              body: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['type'],
                  properties: { type: { enum: ['TextBlock', 'FactSet'] } },
                  if: { properties: { type: { const: 'TextBlock' } } },
                  then: { required: ['text'], properties: { text: str() } },
                  else: {
                    required: ['facts'],
                    properties: {
                      facts: {
                        type: 'array',
                        items: {
                          type: 'object',
                          required: ['title', 'value'],
                          properties: { title: str(), value: str() },
                        },
                      },
                    },
                  },
                },
              },
              actions: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['type', 'title', 'url'],
                  properties: { type: { const: 'Action.OpenUrl' }, title: str(), url: { type: 'string' } },
                },
              },
            },
          },
        },
      },
    },
  },
  additionalProperties: false,
};

/** Lifeboat's own generic body, as the README documents it. */
const nullable = (schema: object) => ({ anyOf: [schema, { type: 'null' }] });
const generic = {
  type: 'object',
  required: [
    'source',
    'formatVersion',
    'lifeboatVersion',
    'mode',
    'name',
    'result',
    'backupId',
    'reason',
    'runUrl',
    'repository',
    'text',
  ],
  properties: {
    source: { const: 'lifeboat' },
    formatVersion: { const: 1 },
    lifeboatVersion: str(),
    mode: { enum: ['backup', 'gate', 'drill', 'restore', 'watch'] },
    name: str(),
    result: { enum: ['success', 'failure'] },
    backupId: nullable(str()),
    reason: str(),
    runUrl: nullable(str()),
    repository: nullable(str()),
    text: str(),
  },
  additionalProperties: false,
};

export const WEBHOOK_SCHEMAS = { slack, discord, teams, generic } as const;

/** The schema's complaints about a body, [] when it conforms. */
export function schemaErrors(format: keyof typeof WEBHOOK_SCHEMAS, body: unknown): string[] {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(WEBHOOK_SCHEMAS[format]);
  validate(body);
  return (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}
