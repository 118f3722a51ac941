// /api/v1/invites: create, list, read and revoke invites, as the invite core
// decides them; the actor is the key (`api:NAME`), an operator like the CLI.
import type { FastifyInstance, FastifyRequest, RouteShorthandOptions } from 'fastify';
import { type Lifetime, parseLifetime } from '../invites/lifetime.js';
import { parseRole } from '../invites/roles.js';
import type { CreateRequest, InviteOptions, InviteService } from '../invites/service.js';
import { printable } from '../invites/service.js';
import { type Invite, type InviteState, NEVER, type Role } from '../invites/types.js';
import { actorOf, requireScope } from './auth.js';
import { ApiError, refusalError } from './errors.js';
import type { Scope } from './keys.js';
import {
  API_KINDS, API_STATES, authErrors, badRequest, conflict, createdInviteSchema, createInviteBody, idParams, inviteListSchema,
  inviteSchema, listInvitesQuery, noContent, notFound, unsupportedType,
} from './schemas.js';

export type Secured = (scope: Scope, schema: Record<string, unknown>) => RouteShorthandOptions;

type ApiState = (typeof API_STATES)[number];
const STATE_IN: Record<ApiState, InviteState> = { pending: 'valid', used: 'used', expired: 'expired', revoked: 'revoked' };
const stateOut = (s: InviteState): string => (s === 'valid' ? 'pending' : s);

interface CreateBody {
  kind: (typeof API_KINDS)[number];
  username?: string;
  roles?: string[];
  groups?: string[];
  uses?: number;
  expiresAfter?: string | number;
  ttl?: number;
  note?: string;
}

/** An invite as the API shows it (never its token: only its hash is kept). */
export function inviteJson(service: InviteService, inv: Invite) {
  return {
    id: inv.id,
    kind: inv.kind,
    state: stateOut(service.stateOf(inv)),
    createdBy: inv.createdBy,
    createdAt: inv.createdAt,
    expires: inv.expiresAt === NEVER ? null : inv.expiresAt,
    ...(inv.username ? { username: inv.username } : {}),
    roles: inv.roles,
    groups: inv.groups ?? [],
    note: inv.note ?? null,
    uses: inv.maxUses,
    usesLeft: Math.max(0, inv.maxUses - inv.uses.length),
    ...(inv.revokedAt ? { revokedAt: inv.revokedAt } : {}),
    usedBy: inv.uses.map((u) => ({ jid: u.jid, at: u.at, ...(u.pending ? { pending: true } : {}) })),
  };
}

const invalid = (message: string) => new ApiError(400, 'invalid-request', message);

/**
 * The body as the core takes it, or the 400 that says why not: what a JSON schema cannot
 * say about one field given another (the core would silently drop roles it does not know,
 * or the roles of another kind, so they are refused here).
 */
export function createRequest(body: CreateBody): CreateRequest {
  const { kind } = body;
  let lifetime: Lifetime | undefined = body.ttl;
  if (body.ttl !== undefined && body.expiresAfter !== undefined) throw invalid('give expiresAfter or ttl, not both');
  if (body.expiresAfter !== undefined) {
    lifetime = typeof body.expiresAfter === 'number' ? body.expiresAfter : parseLifetime(body.expiresAfter);
    if (lifetime === undefined) throw new ApiError(400, 'bad-lifetime', `"${printable(String(body.expiresAfter))}" is not a lifetime: 30m, 1h, 2d, 4w, never, or seconds; at most ten years.`);
  }
  let roles: Role[] | undefined;
  if (body.roles !== undefined) {
    if (kind !== 'account') throw invalid('roles are for account invites only');
    roles = body.roles.map((r) => {
      const role = parseRole(r);
      if (!role) throw new ApiError(400, 'bad-role', `"${printable(r)}" is not a role`);
      return role;
    });
  }
  if (body.uses !== undefined && kind !== 'account') throw invalid('uses is for account invites only');
  if (body.groups !== undefined && kind === 'reset') throw invalid('groups are for account invites only');
  if (body.username !== undefined && kind === 'account-contact') throw invalid('username is for account and reset invites only');
  if (kind === 'reset' && body.username === undefined) throw invalid('a reset invite needs the username of the account to reset');
  const options: InviteOptions = {
    ...(lifetime !== undefined ? { expiresAfter: lifetime } : {}),
    ...(body.note !== undefined ? { note: body.note } : {}),
    ...(body.groups !== undefined ? { groups: body.groups } : {}),
  };
  switch (kind) {
    case 'account':
      return { kind, ...options, ...(body.username !== undefined ? { username: body.username } : {}), ...(roles ? { roles } : {}), ...(body.uses !== undefined ? { maxUses: body.uses } : {}) };
    case 'reset':
      return { kind, ...options, username: body.username! };
    case 'account-contact':
      return { kind, ...options };
  }
}

export function inviteRoutes(api: FastifyInstance, service: InviteService, secured: Secured): void {
  const tags = ['invites'];

  api.post('/invites', secured('invites:write', {
    tags,
    summary: 'Create an invite',
    body: createInviteBody,
    response: {
      201: createdInviteSchema,
      400: badRequest,
      ...authErrors,
      409: conflict('The username is taken (account), or there is no such account (reset).'),
      415: unsupportedType,
    },
  }), async (req: FastifyRequest, reply) => {
    const request = createRequest(req.body as CreateBody);
    // A key a website holds must not be a way into every account: resets and admins need more.
    const mighty = request.kind === 'reset' || (request.kind === 'account' && request.roles?.includes('admin'));
    if (mighty) requireScope(req, 'invites:admin', ', which reset invites and the admin role need');
    const made = await service.create(actorOf(req), request);
    if (!made.ok) throw refusalError(made);
    return reply.code(201).header('location', `${req.routeOptions.url}/${made.invite.id}`)
      .send({ ...inviteJson(service, made.invite), uri: made.uri, landingUrl: made.landingUrl ?? null });
  });

  api.get('/invites', secured('invites:read', {
    tags,
    summary: 'List invites',
    description: 'Oldest first, one page at a time; every live invite (ended ones stay about a day before the archive).',
    querystring: listInvitesQuery,
    response: { 200: inviteListSchema, 400: badRequest, ...authErrors },
  }), async (req: FastifyRequest) => {
    const q = req.query as { state?: ApiState; createdBy?: string; limit?: number; after?: string };
    const page = await service.listInvites(actorOf(req), {
      ...(q.state ? { state: STATE_IN[q.state] } : {}),
      ...(q.createdBy !== undefined ? { createdBy: q.createdBy } : {}),
      ...(q.limit !== undefined ? { limit: q.limit } : {}),
      ...(q.after !== undefined ? { after: q.after } : {}),
    });
    if (!page.ok) throw refusalError(page);
    return { invites: page.invites.map((i) => inviteJson(service, i)), ...(page.next ? { next: page.next } : {}) };
  });

  api.get('/invites/:id', secured('invites:read', {
    tags,
    summary: 'One invite, with who used it',
    params: idParams,
    response: { 200: inviteSchema, ...authErrors, 404: notFound('invite') },
  }), async (req: FastifyRequest) => {
    const found = await service.getInvite(actorOf(req), (req.params as { id: string }).id);
    if (!found.ok) throw refusalError(found);
    return inviteJson(service, found.invite);
  });

  api.delete('/invites/:id', secured('invites:write', {
    tags,
    summary: 'Revoke an invite',
    params: idParams,
    response: { 204: noContent, ...authErrors, 404: notFound('invite'), 409: conflict('It cannot be revoked any more: used, expired or revoked already.') },
  }), async (req: FastifyRequest, reply) => {
    const actor = actorOf(req);
    const done = await service.revoke(actor, (req.params as { id: string }).id);
    if (done.ok) return reply.code(204).send();
    // The core says not-found both for no such invite and for one that has ended: tell them apart.
    const found = await service.getInvite(actor, (req.params as { id: string }).id);
    if (!found.ok) throw refusalError(found);
    throw new ApiError(409, 'not-revocable', `Invite ${found.invite.id} cannot be revoked: it is ${stateOut(found.state)}.`);
  });
}
