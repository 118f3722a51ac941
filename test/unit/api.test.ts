// The HTTP API without an XMPP server: the refusal table, the body → CreateRequest
// mapping, and the web side's API scope over a real invite core (fastify's inject).
import { expect } from 'chai';
import type { FastifyInstance } from 'fastify';
import { REFUSAL_STATUS, refusalError } from '../../src/api/errors.js';
import { createRequest, inviteJson } from '../../src/api/invites.js';
import { ApiKeys, allows } from '../../src/api/keys.js';
import { GroupService } from '../../src/groups/service.js';
import { NEVER } from '../../src/invites/types.js';
import { buildWeb } from '../../src/web/server.js';
import { loadClients } from '../../src/web/clients.js';
import { type Core, makeCore } from '../helpers/core.js';
import { captureStderr } from '../helpers/stderr.js';

const PUBLIC_URL = 'https://chat.example.org/join';

describe('HTTP API: refusals and requests', () => {
  it('maps every refusal of the cores to one status', () => {
    expect(REFUSAL_STATUS['username-taken']).to.equal(409);
    expect(REFUSAL_STATUS.exists).to.equal(409);
    expect(REFUSAL_STATUS.member).to.equal(409);
    expect(REFUSAL_STATUS['not-found']).to.equal(404);
    expect(REFUSAL_STATUS['bad-room']).to.equal(400);
    expect(REFUSAL_STATUS['not-admin']).to.equal(403);
    for (const status of Object.values(REFUSAL_STATUS)) expect(status).to.be.oneOf([400, 403, 404, 409]);
    const e = refusalError({ code: 'bad-lifetime', message: 'no' });
    expect([e.statusCode, e.error, e.message]).to.deep.equal([400, 'bad-lifetime', 'no']);
  });

  it('scopes: a write scope reads; invites:admin writes and reads invites, and nothing else does what it does', () => {
    expect(allows(['invites:write'], 'invites:read')).to.equal(true);
    expect(allows(['invites:admin'], 'invites:write')).to.equal(true);
    expect(allows(['invites:admin'], 'invites:read')).to.equal(true);
    expect(allows(['invites:write', 'groups:write'], 'invites:admin')).to.equal(false);
    expect(allows(['invites:admin'], 'groups:read')).to.equal(false);
  });

  it('turns a body into the core\'s request: roles by Prosody\'s names too, lifetimes parsed, uses as maxUses', () => {
    expect(createRequest({ kind: 'account', roles: ['prosody:admin', 'member'], uses: 3, expiresAfter: '2d', note: 'n', groups: ['g'] }))
      .to.deep.equal({ kind: 'account', roles: ['admin', 'member'], maxUses: 3, expiresAfter: 172800, note: 'n', groups: ['g'] });
    expect(createRequest({ kind: 'account', expiresAfter: 'never' })).to.deep.equal({ kind: 'account', expiresAfter: 'never' });
    expect(createRequest({ kind: 'reset', username: 'alice', expiresAfter: 600 })).to.deep.equal({ kind: 'reset', username: 'alice', expiresAfter: 600 });
    // Prosody's mod_http_admin_api calls it ttl (seconds).
    expect(createRequest({ kind: 'account', ttl: 3600, note: 'n' })).to.deep.equal({ kind: 'account', expiresAfter: 3600, note: 'n' });
    expect(createRequest({ kind: 'account-contact' })).to.deep.equal({ kind: 'account-contact' });
  });

  it('refuses what the core would drop or misread', () => {
    const refused = (body: Parameters<typeof createRequest>[0]) => {
      try {
        createRequest(body);
      } catch (e) {
        return (e as { statusCode: number; error: string }).error;
      }
      return 'accepted';
    };
    expect(refused({ kind: 'account', roles: ['overlord'] })).to.equal('bad-role');
    expect(refused({ kind: 'reset', username: 'a', roles: ['admin'] })).to.equal('invalid-request');
    expect(refused({ kind: 'account', expiresAfter: '0h' })).to.equal('bad-lifetime');
    expect(refused({ kind: 'account', expiresAfter: '99999w' })).to.equal('bad-lifetime');
    expect(refused({ kind: 'reset' })).to.equal('invalid-request');
    expect(refused({ kind: 'reset', username: 'a', uses: 2 })).to.equal('invalid-request');
    expect(refused({ kind: 'account-contact', username: 'a' })).to.equal('invalid-request');
    expect(refused({ kind: 'account', ttl: 60, expiresAfter: '1h' })).to.equal('invalid-request');
  });
});

describe('HTTP API over a real core (no XMPP server)', () => {
  let core: Core;
  let web: FastifyInstance;
  let keys: ApiKeys;
  let secret: string;

  before(async () => {
    core = await makeCore({ publicUrl: PUBLIC_URL });
    const groups = new GroupService(core.store, 'example.org', () => false);
    core.service.groups = groups;
    keys = new ApiKeys(core.store);
    const made = await keys.create('website', ['invites:write', 'groups:write']);
    if (!made.ok) throw new Error(made.message);
    secret = made.secret;
    web = await captureStderr(() => buildWeb({
      config: { publicUrl: PUBLIC_URL, httpHost: '127.0.0.1', httpPort: 0, trustProxy: true, xmppDomain: 'example.org', apiRateLimit: { points: 5, duration: 60 } },
      service: core.service, groups, apiKeys: keys,
      admin: { addUser: async () => ({ ok: true }), changePassword: async () => ({ ok: true }) },
      clients: loadClients(undefined),
    })).then((r) => r.result);
  });
  after(async () => {
    await web?.close();
    await core?.cleanup();
  });

  const inject = (method: string, url: string, o: { key?: string; body?: unknown; ip?: string } = {}) => captureStderr(() => web.inject({
    method: method as 'GET',
    url: `/join${url}`,
    headers: {
      ...(o.key ? { authorization: `Bearer ${o.key}` } : {}),
      ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}),
      'x-forwarded-for': o.ip ?? '192.0.2.1',
    },
    ...(o.body !== undefined ? { payload: JSON.stringify(o.body) } : {}),
  })).then((r) => r.result);

  it('is not served without the groups and keys (an app that has none)', async () => {
    const bare = await captureStderr(() => buildWeb({
      config: { publicUrl: PUBLIC_URL, httpHost: '127.0.0.1', httpPort: 0, trustProxy: false, xmppDomain: 'example.org' },
      service: core.service, admin: { addUser: async () => ({ ok: true }), changePassword: async () => ({ ok: true }) }, clients: loadClients(undefined),
    })).then((r) => r.result);
    const res = await bare.inject({ url: '/join/api/v1/openapi.json' });
    expect(res.statusCode).to.equal(404);
    expect(res.headers['content-type']).to.match(/^text\/html/);
    await bare.close();
  });

  it('the OpenAPI document lists the servers\' origin and full paths, and the body schema as validated', async () => {
    const res = await inject('GET', '/api/v1/openapi.json');
    expect(res.statusCode).to.equal(200);
    const doc = res.json();
    expect(doc.servers).to.deep.equal([{ url: 'https://chat.example.org' }]);
    expect(Object.keys(doc.paths)).to.include.members(['/join/api/v1/invites', '/join/api/v1/groups/{name}/members/{jid}', '/join/invites_api']);
    expect(doc.paths['/join/api/v1/invites'].post.requestBody.content['application/json'].schema.properties.uses).to.deep.include({ minimum: 1, maximum: 1000 });
  });

  it('answers an invite as JSON, never with its token; expires null for never', async () => {
    const made = await inject('POST', '/api/v1/invites', { key: secret, body: { kind: 'account', expiresAfter: 'never', uses: 2 }, ip: '192.0.2.10' });
    expect(made.statusCode, made.body).to.equal(201);
    const inv = made.json();
    expect(inv).to.include({ expires: null, uses: 2, usesLeft: 2, createdBy: 'api:website', state: 'pending' });
    expect(inv.landingUrl).to.match(/^https:\/\/chat\.example\.org\/join\/invite\//);
    const stored = (await core.service.getInvite({ system: 'cli' }, inv.id));
    if (!stored.ok) throw new Error(stored.message);
    expect(stored.invite.expiresAt).to.equal(NEVER);
    expect(inviteJson(core.service, stored.invite)).to.not.have.any.keys('uri', 'landingUrl', 'tokenHash');
  });

  it('limits each key on its own, over all routes together', async () => {
    const other = await keys.create('other', ['groups:read']);
    if (!other.ok) throw new Error(other.message);
    const statuses: number[] = [];
    for (const url of ['/api/v1/groups', '/api/v1/groups/x', '/api/v1/groups/x/members', '/api/v1/groups', '/api/v1/groups', '/api/v1/groups/x']) {
      statuses.push((await inject('GET', url, { key: other.secret })).statusCode);
    }
    expect(statuses).to.deep.equal([200, 404, 404, 200, 200, 429]);
    const refused = await inject('GET', '/api/v1/groups', { key: other.secret });
    expect(refused.json()).to.include({ error: 'rate-limited' });
    expect(Number(refused.headers['retry-after'])).to.be.within(1, 60);
    expect((await inject('GET', '/api/v1/groups', { key: secret })).statusCode).to.equal(200);
  });

  it('a wrong method is 405 before any body is read; an unknown route 404; both JSON', async () => {
    const res = await web.inject({ method: 'PUT', url: '/join/api/v1/invites', headers: { 'content-type': 'application/json' }, payload: '{' });
    expect([res.statusCode, res.headers.allow, res.json().error]).to.deep.equal([405, 'GET, POST, HEAD', 'method-not-allowed']);
    const none = await web.inject({ url: '/join/api/v1/invites/x/y/z' });
    expect([none.statusCode, none.json().error]).to.deep.equal([404, 'not-found']);
  });

  it('the pages keep their own rules: their forms are not the API\'s JSON', async () => {
    const page = await web.inject({ url: '/join/' });
    expect(page.statusCode).to.equal(200);
    expect(page.headers['content-type']).to.match(/^text\/html/);
  });
});
