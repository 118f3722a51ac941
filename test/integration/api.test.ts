// The HTTP API of the running service (real server, bridge, component and bot),
// called over real HTTP (fetch) through the routes its own OpenAPI document lists:
// every call names an operation of the document, and the last test checks that every
// status the document lists for every operation was seen. Keys are made with the
// app's ApiKeys, as `npm run invites -- api-key create` does.
import { expect } from 'chai';
import { freePorts } from '../../src/server/free-port.js';
import type { Scope } from '../../src/api/keys.js';
import { registerWith } from '../helpers/ibr.js';
import { DOMAIN, PASSWORD, serverName, type Stack, startStack } from '../helpers/stack.js';
import { captureStderr } from '../helpers/stderr.js';
import { eventually } from '../helpers/eventually.js';
import { tokenOf } from '../helpers/web.js';

/** API_RATE_LIMIT in this suite: small enough to reach, large enough for one test's calls with one key. */
const PER_KEY = 30;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: Json;
}
interface CallOptions {
  key?: string;
  /** Sent as JSON unless `raw` is given. */
  body?: unknown;
  raw?: { type: string; text: string };
  query?: Record<string, string>;
  headers?: Record<string, string>;
}

describe(`HTTP API (real ${serverName()})`, function () {
  this.timeout(60_000);
  let stack: Stack;
  let origin: string;
  let base: string;
  let doc: Json;
  /** `METHOD /path/{template} STATUS` of every call made. */
  const seen = new Set<string>();
  let keyCount = 0;

  before(async () => {
    const [port] = await freePorts(1);
    origin = `http://127.0.0.1:${port}`;
    base = `${origin}/join`;
    stack = await startStack({ PUBLIC_URL: base, HTTP_PORT: String(port), API_RATE_LIMIT: `${PER_KEY}/60` });
    const res = await fetch(`${base}/api/v1/openapi.json`);
    expect(res.status).to.equal(200);
    doc = await res.json() as Json;
  });
  after(() => stack?.stop());

  /** A new key with these scopes, as the CLI makes it (`ID.SECRET`). */
  async function key(scopes: Scope[], name = `key${++keyCount}`): Promise<{ name: string; id: string; secret: string }> {
    const made = await stack.app.apiKeys.create(name, scopes);
    if (!made.ok) throw new Error(made.message);
    return { name, id: made.key.id, secret: made.secret };
  }

  /** Call the operation `METHOD template` of the document (it must be there), with the path's parameters filled in. */
  async function call(op: string, params: Record<string, string> = {}, o: CallOptions = {}): Promise<Answer> {
    const [method, template] = op.split(' ') as [string, string];
    const path = `/join${template}`;
    expect(doc.paths[path]?.[method.toLowerCase()], `${op} is in the OpenAPI document`).to.exist;
    const url = new URL(origin + path.replace(/\{(\w+)\}/g, (_m, p: string) => encodeURIComponent(params[p] ?? '')));
    for (const [k, v] of Object.entries(o.query ?? {})) url.searchParams.set(k, v);
    const headers: Record<string, string> = { ...o.headers };
    if (o.key) headers.authorization = `Bearer ${o.key}`;
    let body: string | undefined;
    if (o.raw) {
      headers['content-type'] = o.raw.type;
      body = o.raw.text;
    } else if (o.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(o.body);
    }
    const res = await fetch(url, { method, headers, body, redirect: 'manual' });
    const text = await res.text();
    seen.add(`${method} ${path} ${res.status}`);
    let json: Json = {};
    if (text && res.headers.get('content-type')?.startsWith('application/json')) json = JSON.parse(text) as Json;
    return { status: res.status, headers: res.headers, text, json };
  }

  /** Every operation of the document, as `METHOD /path` (without the /join base), and its documented statuses. */
  function operations(): { op: string; statuses: string[]; secured: boolean }[] {
    return Object.entries(doc.paths as Json).flatMap(([path, ops]) => Object.entries(ops as Json).map(([m, spec]) => ({
      op: `${m.toUpperCase()} ${path.slice('/join'.length)}`,
      statuses: Object.keys((spec as Json).responses ?? {}),
      secured: Boolean((spec as Json).security?.length),
    })));
  }
  const someParams = { id: 'aaaaaaaa', name: 'no-such-group', jid: 'nobody' };

  const expectError = (a: Answer, status: number, error?: string) => {
    expect(a.status, a.text).to.equal(status);
    expect(a.headers.get('content-type')).to.match(/^application\/json/);
    expect(a.json).to.have.keys('error', 'message');
    if (error) expect(a.json.error).to.equal(error);
  };

  it('serves its OpenAPI document without a key: every route, from the schemas the routes validate with', async () => {
    expect(doc.openapi).to.match(/^3\./);
    expect(operations().map((o) => o.op).sort()).to.deep.equal([
      'DELETE /api/v1/groups/{name}', 'DELETE /api/v1/groups/{name}/members/{jid}', 'DELETE /api/v1/invites/{id}',
      'GET /api/v1/groups', 'GET /api/v1/groups/{name}', 'GET /api/v1/groups/{name}/members', 'GET /api/v1/invites',
      'GET /api/v1/invites/{id}', 'GET /invites_api', 'POST /api/v1/groups', 'POST /api/v1/groups/{name}/members', 'POST /api/v1/invites',
    ]);
    const create = doc.paths['/join/api/v1/invites'].post;
    const body = create.requestBody.content['application/json'].schema;
    expect(body.additionalProperties).to.equal(false);
    expect(body.properties.kind.enum).to.deep.equal(['account', 'account-contact', 'reset']);
    expect(body.properties.roles.items.enum).to.include.members(['admin', 'prosody:admin', 'member']);
    expect(create.responses['201'].content['application/json'].schema.required).to.include.members(['id', 'uri', 'landingUrl', 'expires', 'usesLeft']);
    expect(doc.components.securitySchemes.bearer).to.deep.include({ type: 'http', scheme: 'bearer' });
    expect(doc.servers[0].url).to.equal(origin);
  });

  it('no key, an unknown key, a revoked key: 401 with WWW-Authenticate on every route (403 on the Prosody drop-in, as Prosody)', async () => {
    const revoked = await key(['invites:write', 'groups:write']);
    expect(await stack.app.apiKeys.revoke(revoked.id)).to.exist;
    for (const { op, secured } of operations()) {
      if (!secured) continue;
      const dropIn = op === 'GET /invites_api';
      for (const k of [undefined, 'aaaaaaaa.AAAAAAAAAAAAAAAAAAAAAAAA', 'not a key', revoked.secret]) {
        const a = await call(op, someParams, { key: k, ...(op.startsWith('POST') ? { body: {} } : {}) });
        if (dropIn) {
          expectError(a, 403, 'forbidden');
        } else {
          expectError(a, 401, 'unauthorized');
          expect(a.headers.get('www-authenticate')).to.match(/^Bearer realm="api"/);
          if (k) expect(a.headers.get('www-authenticate')).to.include('error="invalid_token"');
        }
      }
    }
    // The security headers of the pages hold for the API too.
    const a = await call('GET /api/v1/invites');
    expect(a.headers.get('x-content-type-options')).to.equal('nosniff');
    expect(a.headers.get('referrer-policy')).to.equal('no-referrer');
    expect(a.headers.get('cache-control')).to.equal('no-store');
  });

  it('a key without the scope a route needs: 403; a write scope also reads', async () => {
    const groupsOnly = await key(['groups:read']);
    for (const { op } of operations().filter((o) => o.op.includes('/invites'))) {
      expectError(await call(op, someParams, { key: groupsOnly.secret, ...(op.startsWith('POST') ? { body: { kind: 'account' } } : {}) }), 403, 'forbidden');
    }
    for (const op of ['POST /api/v1/groups', 'DELETE /api/v1/groups/{name}', 'POST /api/v1/groups/{name}/members', 'DELETE /api/v1/groups/{name}/members/{jid}']) {
      const a = await call(op, someParams, { key: groupsOnly.secret, ...(op.startsWith('POST') ? { body: { name: 'x', jid: 'x' } } : {}) });
      expectError(a, 403, 'forbidden');
      expect(a.headers.get('www-authenticate')).to.include('error="insufficient_scope"');
    }
    const invitesOnly = await key(['invites:write']);
    for (const op of ['GET /api/v1/groups', 'GET /api/v1/groups/{name}', 'GET /api/v1/groups/{name}/members']) {
      expectError(await call(op, someParams, { key: invitesOnly.secret }), 403, 'forbidden');
    }
    expect((await call('GET /api/v1/invites', {}, { key: invitesOnly.secret })).status).to.equal(200);
    expect((await call('GET /api/v1/groups', {}, { key: groupsOnly.secret })).status).to.equal(200);
    const reader = await key(['invites:read']);
    expectError(await call('POST /api/v1/invites', {}, { key: reader.secret, body: { kind: 'account' } }), 403, 'forbidden');
  });

  it('an invite made through the API is used by in-band registration, and GET /invites/{id} says who used it and when', async () => {
    const k = await key(['invites:write', 'groups:write'], 'website');
    expect((await call('POST /api/v1/groups', {}, { key: k.secret, body: { name: 'Newcomers' } })).status).to.equal(201);
    const made = await call('POST /api/v1/invites', {}, {
      key: k.secret, body: { kind: 'account', expiresAfter: '2d', note: 'for the forum', roles: ['prosody:member'], groups: ['newcomers'] },
    });
    expect(made.status, made.text).to.equal(201);
    const inv = made.json;
    expect(inv).to.include({ kind: 'account', state: 'pending', createdBy: 'api:website', note: 'for the forum', uses: 1, usesLeft: 1 });
    expect(inv.roles).to.deep.equal(['member']);
    expect(inv.groups).to.deep.equal(['Newcomers']);
    expect(inv.usedBy).to.deep.equal([]);
    expect(Date.parse(inv.expires) - Date.parse(inv.createdAt)).to.equal(2 * 86_400_000);
    expect(inv.uri).to.match(new RegExp(`^xmpp:${DOMAIN}\\?register;preauth=`));
    expect(inv.landingUrl).to.equal(`${base}/invite/${tokenOf(inv.uri)}`);
    expect(made.headers.get('location')).to.equal(`/join/api/v1/invites/${inv.id}`);
    expect((await fetch(inv.landingUrl)).status).to.equal(200);

    await registerWith(stack.server.service, DOMAIN, { token: tokenOf(inv.uri), username: 'apiuser', password: PASSWORD });
    expect(await stack.server.userExists('apiuser')).to.equal(true);
    const got = await call('GET /api/v1/invites/{id}', { id: inv.id }, { key: k.secret });
    expect(got.status).to.equal(200);
    expect(got.json).to.include({ id: inv.id, state: 'used', usesLeft: 0 });
    expect(got.json.usedBy).to.have.length(1);
    expect(got.json.usedBy[0]).to.deep.include({ jid: `apiuser@${DOMAIN}` });
    expect(got.json.usedBy[0]).to.not.have.property('pending');
    expect(Math.abs(Date.parse(got.json.usedBy[0].at) - Date.now())).to.be.below(60_000);
    expect(got.json).to.not.have.property('uri');
    // The invite's group: the new account joined it.
    const members = await eventually(() => call('GET /api/v1/groups/{name}/members', { name: 'Newcomers' }, { key: k.secret }), (a) => a.json.members?.length > 0);
    expect(members.json.members).to.deep.equal([`apiuser@${DOMAIN}`]);

    // A use in progress (held, not confirmed) is marked pending.
    const other = (await call('POST /api/v1/invites', {}, { key: k.secret, body: { kind: 'account', uses: 3, expiresAfter: 3600 } })).json;
    expect(Date.parse(other.expires) - Date.parse(other.createdAt)).to.equal(3_600_000);
    const held = await stack.app.service.reserve(tokenOf(other.uri), { purpose: 'register', username: 'halfway' });
    expect(held.ok).to.equal(true);
    const pending = await call('GET /api/v1/invites/{id}', { id: other.id }, { key: k.secret });
    expect(pending.json).to.include({ state: 'pending', uses: 3, usesLeft: 2 });
    expect(pending.json.usedBy).to.deep.equal([{ jid: `halfway@${DOMAIN}`, at: pending.json.usedBy[0].at, pending: true }]);
    if (held.ok) await stack.app.service.release(held.reservation);

    // Lists: filtered by state and creator, paged.
    const used = await call('GET /api/v1/invites', {}, { key: k.secret, query: { state: 'used', createdBy: 'api:website' } });
    expect(used.json.invites.map((i: Json) => i.id)).to.deep.equal([inv.id]);
    const open = await call('GET /api/v1/invites', {}, { key: k.secret, query: { state: 'pending', createdBy: 'api:website' } });
    expect(open.json.invites.map((i: Json) => i.id)).to.deep.equal([other.id]);
    const first = await call('GET /api/v1/invites', {}, { key: k.secret, query: { createdBy: 'api:website', limit: '1' } });
    expect(first.json.invites.map((i: Json) => i.id)).to.deep.equal([inv.id]);
    expect(first.json.next).to.be.a('string');
    const second = await call('GET /api/v1/invites', {}, { key: k.secret, query: { createdBy: 'api:website', limit: '1', after: first.json.next } });
    expect(second.json.invites.map((i: Json) => i.id)).to.deep.equal([other.id]);
  });

  it('revokes: 204, then 409 (revoked, used), 404 for an unknown id', async () => {
    const k = await key(['invites:write']);
    const inv = (await call('POST /api/v1/invites', {}, { key: k.secret, body: { kind: 'account', expiresAfter: 'never' } })).json;
    expect(inv.expires).to.equal(null);
    const del = await call('DELETE /api/v1/invites/{id}', { id: inv.id }, { key: k.secret });
    expect([del.status, del.text]).to.deep.equal([204, '']);
    expect((await stack.app.service.lookup(tokenOf(inv.uri))).state).to.equal('revoked');
    expect((await call('GET /api/v1/invites/{id}', { id: inv.id }, { key: k.secret })).json).to.include({ state: 'revoked' });
    expectError(await call('DELETE /api/v1/invites/{id}', { id: inv.id }, { key: k.secret }), 409, 'not-revocable');
    expectError(await call('DELETE /api/v1/invites/{id}', { id: 'zzzzzzzz' }, { key: k.secret }), 404, 'not-found');
    expectError(await call('GET /api/v1/invites/{id}', { id: 'zzzzzzzz' }, { key: k.secret }), 404, 'not-found');
    // A used one: the reset of an existing account, used by... a revoke attempt after it is spent.
    // Only an invites:admin key makes resets (a website's key must not be a way into every account).
    const refused = await call('POST /api/v1/invites', {}, { key: k.secret, body: { kind: 'reset', username: 'apiuser' } });
    expectError(refused, 403, 'forbidden');
    expect(refused.headers.get('www-authenticate')).to.include('scope="invites:admin"');
    expectError(await call('POST /api/v1/invites', {}, { key: k.secret, body: { kind: 'account', roles: ['prosody:admin'] } }), 403, 'forbidden');
    const admin = await key(['invites:admin']);
    expect((await call('POST /api/v1/invites', {}, { key: admin.secret, body: { kind: 'account', roles: ['admin'] } })).status).to.equal(201);
    const reset = (await call('POST /api/v1/invites', {}, { key: admin.secret, body: { kind: 'reset', username: 'apiuser' } })).json;
    expect(reset).to.include({ kind: 'reset', username: 'apiuser' });
    const held = await stack.app.service.reserve(tokenOf(reset.uri), { purpose: 'register', username: 'apiuser', accountExists: true });
    if (!held.ok) throw new Error(held.message);
    await stack.app.service.commit(held.reservation, `apiuser@${DOMAIN}`);
    expectError(await call('DELETE /api/v1/invites/{id}', { id: reset.id }, { key: k.secret }), 409, 'not-revocable');
  });

  it('refuses a taken username (409), and a reset of an account that does not exist (409)', async () => {
    const k = await key(['invites:admin']);
    await stack.server.register('taken', PASSWORD);
    expectError(await call('POST /api/v1/invites', {}, { key: k.secret, body: { kind: 'account', username: 'taken' } }), 409, 'username-taken');
    expectError(await call('POST /api/v1/invites', {}, { key: k.secret, body: { kind: 'reset', username: 'ghost' } }), 409, 'no-account');
    const bound = await call('POST /api/v1/invites', {}, { key: k.secret, body: { kind: 'account', username: 'Fresh' } });
    expect([bound.status, bound.json.username]).to.deep.equal([201, 'fresh']);
    // An API key is no account: it cannot be the contact of an account+contact invite.
    expectError(await call('POST /api/v1/invites', {}, { key: k.secret, body: { kind: 'account-contact' } }), 403, 'not-admin');
  });

  it('malformed and invalid bodies and queries: 400 JSON, 415 for what is not JSON; none reaches the core', async () => {
    let k = await key(['invites:write', 'groups:write']);
    const { service } = stack.app;
    const original = service.create.bind(service);
    let reached = 0;
    service.create = (...args) => { reached++; return original(...args); };
    try {
      const bad: [unknown, string?][] = [
        [{}],
        [{ kind: 'admin' }],
        [{ kind: 'contact' }],
        [{ kind: 'account', uses: '3' }],
        [{ kind: 'account', uses: 0 }],
        [{ kind: 'account', uses: 1001 }],
        [{ kind: 'account', uses: 2.5 }],
        [{ kind: 'account', surprise: true }],
        [{ kind: 'account', roles: ['overlord'] }],
        [{ kind: 'account', roles: 'admin' }],
        [{ kind: 'reset', username: 'apiuser', roles: ['admin'] }, 'invalid-request'],
        [{ kind: 'account', expiresAfter: '2x' }],
        [{ kind: 'account', expiresAfter: '0h' }, 'bad-lifetime'],
        [{ kind: 'account', expiresAfter: '999999w' }, 'bad-lifetime'],
        [{ kind: 'account', expiresAfter: -5 }],
        [{ kind: 'account', expiresAfter: true }],
        [{ kind: 'account', note: 'x'.repeat(201) }],
        [{ kind: 'account', note: 5 }],
        [{ kind: 'account', groups: [''] }],
        [{ kind: 'reset' }, 'invalid-request'],
        [{ kind: 'reset', username: 'apiuser', uses: 2 }, 'invalid-request'],
        [{ kind: 'reset', username: 'apiuser', groups: ['Newcomers'] }, 'invalid-request'],
        [{ kind: 'account-contact', username: 'x' }, 'invalid-request'],
        [['kind', 'account']],
        ['account'],
        [null],
      ];
      for (const [body, error] of bad) {
        expectError(await call('POST /api/v1/invites', {}, { key: k.secret, body }), 400, error ?? 'invalid-request');
      }
      expectError(await call('POST /api/v1/invites', {}, { key: k.secret, raw: { type: 'application/json', text: '{"kind": "account"' } }), 400, 'malformed-json');
      expectError(await call('POST /api/v1/invites', {}, { key: k.secret, raw: { type: 'application/json', text: '' } }), 400, 'malformed-json');
      k = await key(['invites:write', 'groups:write']); // a key's calls stay under API_RATE_LIMIT
      for (const op of ['POST /api/v1/invites', 'POST /api/v1/groups', 'POST /api/v1/groups/{name}/members']) {
        expectError(await call(op, { name: 'Newcomers' }, { key: k.secret, raw: { type: 'text/plain', text: '{"kind":"account","name":"x","jid":"x"}' } }), 415, 'unsupported-media-type');
        expectError(await call(op, { name: 'Newcomers' }, { key: k.secret, raw: { type: 'application/x-www-form-urlencoded', text: 'kind=account&name=x&jid=x' } }), 415, 'unsupported-media-type');
        expectError(await call(op, { name: 'Newcomers' }, { key: k.secret, raw: { type: 'application/json', text: '{"kind":' } }), 400, 'malformed-json');
      }
      expect(reached, 'calls that reached the core').to.equal(0);
    } finally {
      service.create = original;
    }
    k = await key(['invites:write', 'groups:write']);
    for (const query of [{ state: 'valid' }, { limit: '0' }, { limit: '1001' }, { limit: 'ten' }, { page: '2' }] as Record<string, string>[]) {
      expectError(await call('GET /api/v1/invites', {}, { key: k.secret, query }), 400, 'invalid-request');
    }
    for (const body of [{}, { name: '' }, { name: 'x'.repeat(65) }, { name: 3 }, { name: 'ok', extra: 1 }]) {
      expectError(await call('POST /api/v1/groups', {}, { key: k.secret, body }), 400, 'invalid-request');
    }
    expectError(await call('POST /api/v1/groups', {}, { key: k.secret, body: { name: 'Roomy', room: 'not a room' } }), 400, 'bad-room');
    for (const body of [{}, { jid: 7 }, { jid: '' }, { jid: 'a', more: 1 }]) {
      expectError(await call('POST /api/v1/groups/{name}/members', { name: 'Newcomers' }, { key: k.secret, body }), 400, 'invalid-request');
    }
  });

  it('groups: create, list, read, members added and removed, delete; 404 and 409 where due', async () => {
    const k = await key(['groups:write']);
    await stack.server.register('alice', PASSWORD);
    const made = await call('POST /api/v1/groups', {}, { key: k.secret, body: { name: 'Team Ä/1', room: 'team@conference.localhost' } });
    expect(made.status, made.text).to.equal(201);
    expect(made.json).to.include({ name: 'Team Ä/1', room: 'team@conference.localhost', createdBy: `api:${k.name}` });
    expectError(await call('POST /api/v1/groups', {}, { key: k.secret, body: { name: 'team ä/1' } }), 409, 'exists');
    const list = await call('GET /api/v1/groups', {}, { key: k.secret });
    expect(list.json.groups.map((g: Json) => g.name)).to.include('Team Ä/1');
    const one = await call('GET /api/v1/groups/{name}', { name: 'team ä/1' }, { key: k.secret });
    expect(one.json).to.include({ name: 'Team Ä/1' });
    expect(one.json.members).to.deep.equal([]);

    const added = await call('POST /api/v1/groups/{name}/members', { name: 'Team Ä/1' }, { key: k.secret, body: { jid: 'alice' } });
    expect([added.status, added.json]).to.deep.equal([201, { group: 'Team Ä/1', jid: `alice@${DOMAIN}` }]);
    expectError(await call('POST /api/v1/groups/{name}/members', { name: 'Team Ä/1' }, { key: k.secret, body: { jid: `alice@${DOMAIN}` } }), 409, 'member');
    expectError(await call('POST /api/v1/groups/{name}/members', { name: 'Team Ä/1' }, { key: k.secret, body: { jid: 'nobody-here' } }), 409, 'no-account');
    expectError(await call('POST /api/v1/groups/{name}/members', { name: 'Team Ä/1' }, { key: k.secret, body: { jid: 'bob@elsewhere.example' } }), 400, 'bad-member');
    expectError(await call('POST /api/v1/groups/{name}/members', { name: 'nope' }, { key: k.secret, body: { jid: 'alice' } }), 404, 'not-found');
    expect((await call('GET /api/v1/groups/{name}/members', { name: 'Team Ä/1' }, { key: k.secret })).json).to.deep.equal({ members: [`alice@${DOMAIN}`] });
    expectError(await call('GET /api/v1/groups/{name}/members', { name: 'nope' }, { key: k.secret }), 404, 'not-found');
    expectError(await call('DELETE /api/v1/groups/{name}/members/{jid}', { name: 'Team Ä/1', jid: 'bob@elsewhere.example' }, { key: k.secret }), 400, 'bad-member');
    const removed = await call('DELETE /api/v1/groups/{name}/members/{jid}', { name: 'Team Ä/1', jid: `alice@${DOMAIN}/phone` }, { key: k.secret });
    expect([removed.status, removed.text]).to.deep.equal([204, '']);
    expectError(await call('DELETE /api/v1/groups/{name}/members/{jid}', { name: 'Team Ä/1', jid: 'alice' }, { key: k.secret }), 404, 'not-member');
    expectError(await call('DELETE /api/v1/groups/{name}/members/{jid}', { name: 'nope', jid: 'alice' }, { key: k.secret }), 404, 'not-found');

    expect((await call('DELETE /api/v1/groups/{name}', { name: 'TEAM ä/1' }, { key: k.secret })).status).to.equal(204);
    expectError(await call('DELETE /api/v1/groups/{name}', { name: 'Team Ä/1' }, { key: k.secret }), 404, 'not-found');
    expectError(await call('GET /api/v1/groups/{name}', { name: 'Team Ä/1' }, { key: k.secret }), 404, 'not-found');
  });

  it('Prosody\'s mod_invites_api: GET /invites_api?key=KEY answers 201 with Location the invite page; &redirect=true answers 303', async () => {
    const k = await key(['invites:write'], 'prosody-tool');
    // As its README shows it: curl -v https://example.com:5281/invites_api?key=KEY
    const made = await call('GET /invites_api', {}, { query: { key: k.secret } });
    expect(made.status).to.equal(201);
    expect(made.text).to.equal('');
    const location = made.headers.get('location')!;
    expect(location).to.match(new RegExp(`^${base}/invite/[A-Za-z0-9_-]+$`));
    expect((await fetch(location)).status).to.equal(200);
    const found = await stack.app.service.lookup(tokenOf(location));
    expect(found.state).to.equal('valid');
    expect(found.invite).to.include({ kind: 'account', createdBy: 'api:prosody-tool', maxUses: 1 });

    const redirected = await call('GET /invites_api', {}, { query: { key: k.secret, redirect: 'true' } });
    expect(redirected.status).to.equal(303);
    expect(redirected.headers.get('location')).to.match(new RegExp(`^${base}/invite/`));
    expect(redirected.headers.get('location')).to.not.equal(location);
    // The key as a bearer token, as its README recommends.
    const bearer = await call('GET /invites_api', {}, { key: k.secret });
    expect(bearer.status).to.equal(201);
    // The invite it made is used by in-band registration.
    await registerWith(stack.server.service, DOMAIN, { token: tokenOf(bearer.headers.get('location')!), username: 'dropinuser', password: PASSWORD });
    expect(await stack.server.userExists('dropinuser')).to.equal(true);

    // Refusals as Prosody gives them: 403 for no key or a wrong one; a key without invites:write too.
    expectError(await call('GET /invites_api'), 403);
    expectError(await call('GET /invites_api', {}, { query: { key: 'aaaaaaaa/AAAAAAAAAAAAAAAAAAAA' } }), 403);
    const reader = await key(['invites:read', 'groups:write']);
    expectError(await call('GET /invites_api', {}, { query: { key: reader.secret } }), 403);
    // Behind a site with Basic auth in front (the proxy's Authorization header), ?key= still counts.
    const basic = await fetch(`${base}/invites_api?key=${k.secret}`, { headers: { authorization: 'Basic dXNlcjpwYXNz' }, redirect: 'manual' });
    expect(basic.status).to.equal(201);
    const post = await fetch(`${base}/invites_api?key=${k.secret}`, { method: 'POST' });
    expect(post.status).to.equal(405);
    const head = await fetch(`${base}/invites_api?key=${k.secret}`, { method: 'HEAD' });
    expect(head.status, 'a HEAD makes no invite').to.equal(405);
  });

  it('unknown routes and methods: 404 and 405, JSON', async () => {
    const k = await key(['invites:write']);
    const nothing = await fetch(`${base}/api/v1/nothing`, { headers: { authorization: `Bearer ${k.secret}` } });
    expect(nothing.status).to.equal(404);
    expect(await nothing.json()).to.include({ error: 'not-found' });
    for (const [method, path, allow] of [['PUT', '/api/v1/invites', 'GET, POST, HEAD'], ['PATCH', '/api/v1/invites/abc', 'GET, DELETE, HEAD'], ['POST', '/api/v1/groups/x/members/y', 'DELETE']] as const) {
      const res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${k.secret}`, 'content-type': 'application/json' }, body: '{}' });
      expect(res.status, `${method} ${path}`).to.equal(405);
      expect(res.headers.get('allow')).to.equal(allow);
      expect(await res.json()).to.include({ error: 'method-not-allowed' });
    }
    // A malformed URL under the API: JSON too.
    const bad = await fetch(`${base}/api/v1/invites/%E0%A4%A`, { headers: { authorization: `Bearer ${k.secret}` } });
    expect(bad.status).to.equal(400);
    expect(await bad.json()).to.include({ error: 'bad-request' });
  });

  it('logs each call with the key\'s name, method, route and status, never the key, the token or the URL', async () => {
    const k = await key(['invites:write'], 'logged-key');
    const { stderr, result } = await captureStderr(async () => {
      const made = await call('POST /api/v1/invites', {}, { key: k.secret, body: { kind: 'account' } });
      await call('GET /api/v1/invites/{id}', { id: made.json.id }, { key: k.secret });
      await call('GET /invites_api', {}, { query: { key: k.secret } });
      await call('GET /api/v1/invites', {}, { key: `${k.id}.AAAAAAAAAAAAAAAAAAAAAAAA` });
      return made.json;
    });
    expect(stderr).to.include('api: logged-key POST /join/api/v1/invites 201');
    expect(stderr).to.include('api: logged-key GET /join/api/v1/invites/:id 200');
    expect(stderr).to.include('api: logged-key GET /join/invites_api 201');
    expect(stderr).to.include('api: (no key) GET /join/api/v1/invites 401');
    const secret = k.secret.split('.')[1]!;
    expect(stderr).to.not.include(secret);
    expect(stderr).to.not.include(k.secret);
    expect(stderr).to.not.include(tokenOf(result.uri));
  });

  it(`rate-limits per key (API_RATE_LIMIT=${PER_KEY}/60): 429 JSON with Retry-After, on every route; other keys go on`, async () => {
    const k = await key(['invites:write', 'groups:write']);
    for (let i = 0; i < PER_KEY; i++) expect((await call('GET /api/v1/invites', {}, { key: k.secret, query: { limit: '1' } })).status).to.equal(200);
    const limited = await call('GET /api/v1/invites', {}, { key: k.secret });
    expectError(limited, 429, 'rate-limited');
    expect(Number(limited.headers.get('retry-after'))).to.be.within(1, 60);
    for (const { op, secured } of operations()) {
      if (!secured) continue;
      const body = op.startsWith('POST') ? { body: { kind: 'account', name: 'x', jid: 'x' } } : {};
      expectError(await call(op, someParams, { ...(op === 'GET /invites_api' ? { query: { key: k.secret } } : { key: k.secret }), ...body }), 429, 'rate-limited');
    }
    const other = await key(['invites:read']);
    expect((await call('GET /api/v1/invites', {}, { key: other.secret, query: { limit: '1' } })).status).to.equal(200);
  });

  it('every status the OpenAPI document lists for every operation was answered in these tests', () => {
    const missing = operations().flatMap(({ op, statuses }) => {
      const [method, path] = op.split(' ');
      return statuses.filter((s) => !seen.has(`${method} /join${path} ${s}`)).map((s) => `${op} ${s}`);
    });
    expect(missing).to.deep.equal([]);
  });
});
