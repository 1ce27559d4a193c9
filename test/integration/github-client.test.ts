import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Labels, Markers } from '../../src/settings/constants.js';
import { LifeboatError } from '../../src/errors.js';
import {
  addComment,
  createIssue,
  embedData,
  ensureLabels,
  extractData,
  getPullRequest,
  githubContextFromEnv,
  GitHubPermissionError,
  listIssuesByLabel,
  updateIssue,
  upsertStickyComment,
  type GitHubContext,
} from '../../src/github/index.js';
import { githubOpenApi } from '../helpers/github-openapi.js';
import { startGitHubServer, type GitHubServer, type GitHubServerOptions } from '../helpers/github-server.js';

let server: GitHubServer;
let ctx: GitHubContext;

async function start(options: GitHubServerOptions = {}): Promise<void> {
  server = await startGitHubServer(options);
  ctx = githubContextFromEnv(server.token, server.env)!;
}

function operations(): (string | undefined)[] {
  return server.calls().map((c) => c.operationId);
}

describe('GitHub client against the stand-in', () => {
  beforeEach(() => start());
  afterEach(async () => {
    // Every request the client made must be one the real API takes as meant.
    expect(server.violations()).toEqual([]);
    await server.stop();
  });

  it('creates the sticky comment once and edits it in place afterwards', async () => {
    const pr = server.addPullRequest();
    const first = await upsertStickyComment(ctx, pr.number, Markers.GateComment, '| gate | fresh |');
    const second = await upsertStickyComment(ctx, pr.number, Markers.GateComment, '| gate | stale |');

    expect(first.created).toBe(true);
    expect(second).toEqual({ url: first.url, created: false });
    const comments = server.comments(pr.number);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toBe(`${Markers.GateComment}\n| gate | stale |`);
    expect(operations()).toEqual([
      'issues/list-comments',
      'issues/create-comment',
      'issues/list-comments',
      'issues/update-comment',
    ]);
  });

  it("creates its own sticky comment rather than edit a person's comment that carries the marker", async () => {
    const pr = server.addPullRequest();
    const theirs = server.addComment(
      pr.number,
      `${Markers.GateComment}\nI copied this from the bot`,
      'octocat',
    );
    const first = await upsertStickyComment(ctx, pr.number, Markers.GateComment, '| gate | fresh |');
    expect(first.created).toBe(true);
    // A later run (a new process, nothing remembered) finds its own comment by asking who it is.
    const { forgetIdentities, tokenIdentity } = await import('../../src/github/identity.js');
    forgetIdentities();
    const second = await upsertStickyComment(ctx, pr.number, Markers.GateComment, '| gate | stale |');
    expect(second).toEqual({ url: first.url, created: false });
    expect(operations()).toEqual([
      'issues/list-comments',
      'users/get-authenticated', // refused to an installation token
      undefined, // GraphQL's viewer
      'issues/create-comment',
      'issues/list-comments',
      'users/get-authenticated',
      undefined,
      'issues/update-comment',
    ]);

    const comments = server.comments(pr.number);
    expect(comments.map((c) => [c.user, c.body])).toEqual([
      ['octocat', theirs.body],
      ['github-actions[bot]', `${Markers.GateComment}\n| gate | stale |`],
    ]);
    expect(await tokenIdentity(ctx)).toBe('github-actions[bot]');
  });

  it("takes only a bot's comment for its own when GitHub will not say who the token is", async () => {
    await server.stop();
    await start({ identity: false });
    const pr = server.addPullRequest();
    const first = await upsertStickyComment(ctx, pr.number, Markers.GateComment, 'first');
    server.addComment(pr.number, `${Markers.GateComment}\nquoted by a person`, 'octocat');
    const { forgetIdentities } = await import('../../src/github/identity.js');
    forgetIdentities();
    const second = await upsertStickyComment(ctx, pr.number, Markers.GateComment, 'second');
    expect(second).toEqual({ url: first.url, created: false });
    expect(server.comments(pr.number).map((c) => [c.user, c.body.split('\n')[1]])).toEqual([
      ['github-actions[bot]', 'second'],
      ['octocat', 'quoted by a person'],
    ]);
  });

  it('asks GitHub who the token is, REST for a person, GraphQL for an installation token', async () => {
    const { tokenIdentity } = await import('../../src/github/identity.js');
    expect(await tokenIdentity(ctx)).toBe('github-actions[bot]');
    expect(server.calls().map((c) => [c.method, c.path, c.status])).toEqual([
      ['GET', '/user', 403],
      ['POST', '/graphql', 200],
    ]);
    await server.stop();
    await start({ actor: 'octocat', token: 'ghp_a_person' });
    expect(await tokenIdentity(ctx)).toBe('octocat');
    expect(server.calls().map((c) => [c.method, c.path, c.status])).toEqual([['GET', '/user', 200]]);
  });

  it('leaves the sticky comment untouched when its body has not changed', async () => {
    const pr = server.addPullRequest();
    await upsertStickyComment(ctx, pr.number, Markers.GateComment, 'same');
    await upsertStickyComment(ctx, pr.number, Markers.GateComment, 'same');
    expect(operations().filter((op) => op === 'issues/update-comment')).toEqual([]);
  });

  it('lists every labelled issue across pages and leaves pull requests out', async () => {
    for (let i = 1; i <= 120; i++) server.addIssue({ title: `drill ${i}`, labels: [Labels.Drill] });
    server.addIssue({ title: 'unrelated', labels: ['bug'] });
    server.addIssue({ title: 'closed drill', labels: [Labels.Drill], state: 'closed' });
    server.addPullRequest({ title: 'labelled pr', labels: [Labels.Drill] });

    const open = await listIssuesByLabel(ctx, Labels.Drill, 'open');
    expect(open).toHaveLength(120);
    expect(new Set(open.map((i) => i.number)).size).toBe(120);
    expect(open.every((i) => i.labels.includes(Labels.Drill) && i.state === 'open')).toBe(true);
    const lists = server.calls().filter((c) => c.operationId === 'issues/list-for-repo');
    expect(lists.map((c) => c.query.page ?? '1')).toEqual(['1', '2']);

    expect(await listIssuesByLabel(ctx, Labels.Drill, 'all')).toHaveLength(121);
    expect((await listIssuesByLabel(ctx, Labels.Drill, 'closed')).map((i) => i.title)).toEqual([
      'closed drill',
    ]);
  });

  it('creates the labels a repository lacks and leaves existing ones alone', async () => {
    server.addIssue({ title: 'old drill', labels: [Labels.Drill] });
    const wanted = [
      { name: Labels.Drill, color: '0e8a16', description: 'Lifeboat restore drill' },
      { name: Labels.DrillFailed, color: 'b60205', description: 'A Lifeboat restore drill failed' },
    ];
    await ensureLabels(ctx, wanted);
    await ensureLabels(ctx, wanted);

    const labels = server.labels();
    expect(labels.map((l) => l.name).sort()).toEqual([Labels.DrillFailed, Labels.Drill].sort());
    expect(labels.find((l) => l.name === Labels.DrillFailed)).toMatchObject({ color: 'b60205' });
    expect(labels.find((l) => l.name === Labels.Drill)?.color).toBe('ededed');
    expect(operations().filter((op) => op === 'issues/create-label')).toHaveLength(1);
  });

  it('takes a label created by a concurrent job as done', async () => {
    const wanted = [
      { name: Labels.DrillFailed, color: 'b60205', description: 'A Lifeboat restore drill failed' },
    ];
    await Promise.all([ensureLabels(ctx, wanted), ensureLabels(ctx, wanted)]);
    expect(server.labels().map((l) => l.name)).toEqual([Labels.DrillFailed]);
  });

  it('opens, edits, comments on and closes an issue', async () => {
    const opened = await createIssue(ctx, { title: 'Drill: failed', body: 'first', labels: [Labels.Drill] });
    expect(opened).toMatchObject({
      title: 'Drill: failed',
      body: 'first',
      state: 'open',
      labels: [Labels.Drill],
    });
    expect(opened.url).toMatch(/\/acme\/shop\/issues\/\d+$/);

    const relabelled = await updateIssue(ctx, opened.number, { labels: [Labels.Drill, Labels.DrillFailed] });
    expect(relabelled.labels).toEqual([Labels.Drill, Labels.DrillFailed]);
    const comment = await addComment(ctx, opened.number, 'Superseded by the next drill');
    expect(comment.url).toContain(`#issuecomment-${comment.id}`);
    const closed = await updateIssue(ctx, opened.number, { state: 'closed', stateReason: 'completed' });

    expect(closed.state).toBe('closed');
    expect(closed.closedAt).not.toBeNull();
    expect(server.issues()[0]).toMatchObject({ state: 'closed', stateReason: 'completed' });
    expect(server.comments(opened.number).map((c) => c.body)).toEqual(['Superseded by the next drill']);
  });

  it('tells a pull request from a fork apart from one in the same repository', async () => {
    const own = server.addPullRequest({ headRef: 'add-index' });
    const fork = server.addPullRequest({ headRepo: 'mallory/shop' });
    expect(await getPullRequest(ctx, own.number)).toMatchObject({ headRepo: 'acme/shop', fromFork: false });
    expect(await getPullRequest(ctx, fork.number)).toMatchObject({
      headRepo: 'mallory/shop',
      fromFork: true,
    });
  });

  it('retries a read through a brief server error', async () => {
    server.addIssue({ title: 'drill', labels: [Labels.Drill] });
    server.failNext(502);
    expect(await listIssuesByLabel(ctx, Labels.Drill, 'open')).toHaveLength(1);
    expect(server.calls().map((c) => c.status)).toEqual([502, 200]);
  });

  it('does not retry a create, which could open a duplicate', async () => {
    server.failNext(502);
    await expect(createIssue(ctx, { title: 't', body: 'b', labels: [] })).rejects.toMatchObject({
      code: 'connection',
    });
    expect(server.calls()).toHaveLength(1);
  });
});

describe('GitHub client without the permissions it needs', () => {
  afterEach(async () => {
    expect(server.violations()).toEqual([]);
    await server.stop();
  });

  it('reports a token without issues: write as a GitHubPermissionError with a hint, while reads still work', async () => {
    await start({ permissions: { issues: 'read' } });
    server.addIssue({ title: 'drill', labels: [Labels.Drill] });
    expect(await listIssuesByLabel(ctx, Labels.Drill, 'all')).toHaveLength(1);

    const error = await createIssue(ctx, { title: 't', body: 'b', labels: [Labels.Drill] }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GitHubPermissionError);
    expect(error).toBeInstanceOf(LifeboatError);
    expect(error).toMatchObject({ code: 'permission', permission: 'issues: write' });
    expect((error as GitHubPermissionError).message).toContain('Resource not accessible by integration');
    expect((error as GitHubPermissionError).hint).toContain('issues: write');
    await expect(ensureLabels(ctx, [{ name: 'x', color: 'ffffff', description: '' }])).rejects.toBeInstanceOf(
      GitHubPermissionError,
    );
    expect(server.issues()).toHaveLength(1);
  });

  it('names pull-requests: write when the gate cannot comment on a pull request', async () => {
    await start({ permissions: { issues: 'read', pullRequests: 'read' } });
    const pr = server.addPullRequest();
    const error = await upsertStickyComment(ctx, pr.number, Markers.GateComment, 'x').catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ permission: 'pull-requests: write' });
    expect((error as GitHubPermissionError).hint).toMatch(/pull-requests: write.*fork/s);

    server.setPermissions({ pullRequests: 'write' });
    await expect(upsertStickyComment(ctx, pr.number, Markers.GateComment, 'x')).resolves.toMatchObject({
      created: true,
    });
  });

  it('reports a rejected token as an auth error', async () => {
    await start();
    const wrong = { ...ctx, token: 'ghs_wrong' };
    await expect(listIssuesByLabel(wrong, Labels.Drill, 'open')).rejects.toMatchObject({ code: 'auth' });
  });
});

describe('the stand-in holds requests to the published API description', () => {
  beforeEach(() => start());
  afterEach(() => server.stop());

  async function send(method: string, path: string, body?: unknown): Promise<number> {
    const res = await fetch(server.url + path, {
      method,
      headers: { authorization: `token ${server.token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return res.status;
  }

  it('rejects a body whose field has the wrong type', async () => {
    expect(await send('POST', '/repos/acme/shop/issues', { title: 'ok', labels: 'lifeboat-drill' })).toBe(
      422,
    );
    expect(server.violations()).toMatchObject([
      { kind: 'request', operationId: 'issues/create', message: expect.stringContaining('body/labels') },
    ]);
    expect(server.issues()).toEqual([]);
  });

  it('rejects a route the API does not have', async () => {
    expect(await send('GET', '/repos/acme/shop/isues')).toBe(404);
    expect(await send('DELETE', '/repos/acme/shop/issues/1')).toBe(404);
    expect(server.violations().map((v) => v.kind)).toEqual(['route', 'route']);
  });

  it('rejects what the real API would silently ignore: a misspelt filter or field', async () => {
    expect(await send('GET', '/repos/acme/shop/issues?label=lifeboat-drill')).toBe(422);
    expect(await send('PATCH', '/repos/acme/shop/issues/1', { status: 'closed' })).toBe(422);
    expect(await send('GET', '/repos/acme/shop/issues/abc')).toBe(422);
    expect(server.violations().map((v) => v.message)).toEqual([
      "unknown query parameter 'label'",
      "unknown body property 'status'",
      expect.stringContaining('path.issue_number'),
    ]);
  });

  it('rejects a missing required field and a create without a body', async () => {
    expect(await send('POST', '/repos/acme/shop/labels', { color: 'ffffff' })).toBe(422);
    expect(await send('POST', '/repos/acme/shop/issues/1/comments')).toBe(422);
    expect(server.violations().map((v) => v.message)).toEqual([
      expect.stringContaining("must have required property 'name'"),
      'missing required JSON body',
    ]);
  });

  it('checks its own answers against the response schemas too', async () => {
    const issue = server.addIssue({ title: 'drill', labels: [Labels.Drill] });
    const path = `/repos/acme/shop/issues/${issue.number}`;
    const res = await fetch(server.url + path, { headers: { authorization: `token ${server.token}` } });
    const json = (await res.json()) as Record<string, unknown>;
    const op = githubOpenApi().match('GET', path)!;

    expect(githubOpenApi().checkResponse(op, 200, json)).toEqual([]);
    const { user: _user, ...withoutUser } = json;
    expect(githubOpenApi().checkResponse(op, 200, { ...withoutUser, number: '7' })).toEqual([
      expect.stringMatching(/required property 'user'.*response 200\/number must be integer/),
    ]);
  });
});

describe('githubContextFromEnv', () => {
  it('reads the repository and API root a workflow run provides', () => {
    const env = { GITHUB_REPOSITORY: 'acme/shop', GITHUB_API_URL: 'https://ghe.example.com/api/v3/' };
    expect(githubContextFromEnv('t', env)).toEqual({
      token: 't',
      apiUrl: 'https://ghe.example.com/api/v3',
      owner: 'acme',
      repo: 'shop',
    });
    expect(githubContextFromEnv('t', { GITHUB_REPOSITORY: 'acme/shop' })?.apiUrl).toBe(
      'https://api.github.com',
    );
  });

  it('is undefined without a token or a repository, so reporting is skipped', () => {
    expect(githubContextFromEnv(undefined, { GITHUB_REPOSITORY: 'acme/shop' })).toBeUndefined();
    expect(githubContextFromEnv('t', {})).toBeUndefined();
  });

  it('refuses a malformed GITHUB_REPOSITORY', () => {
    expect(() => githubContextFromEnv('t', { GITHUB_REPOSITORY: 'shop' })).toThrow(LifeboatError);
  });
});

describe('hidden data blocks', () => {
  const data = {
    id: 'b-1',
    ok: false,
    note: 'ends early? --> no, nor --!> nor </script>',
    rto: 12.5,
    list: [1, null],
  };

  it('round-trips data whose values contain a comment terminator', () => {
    const block = embedData(Markers.DrillData, data);
    expect(block.startsWith(`<!-- ${Markers.DrillData} `)).toBe(true);
    // Only the block's own terminator may close the HTML comment.
    expect(block.indexOf('>')).toBe(block.length - 1);
    const body = `## Drill\n\nText around it.\n\n${block}\n\n<!-- unrelated -->`;
    expect(extractData(Markers.DrillData, body)).toEqual(data);
  });

  it('finds a block by a full marker comment too, and nothing where there is none or it is damaged', () => {
    expect(extractData('<!-- lifeboat:x -->', embedData('lifeboat:x', [1]))).toEqual([1]);
    expect(extractData(Markers.DrillData, 'no block here')).toBeUndefined();
    expect(extractData(Markers.DrillData, `<!-- ${Markers.DrillData} {"broken": -->`)).toBeUndefined();
    expect(extractData(Markers.DrillData, null)).toBeUndefined();
  });
});
