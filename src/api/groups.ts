// /api/v1/groups: groups and their members, as the group core decides them.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { GroupService } from '../groups/service.js';
import type { Group } from '../groups/types.js';
import { printable } from '../invites/service.js';
import { actorOf } from './auth.js';
import { ApiError, refusalError } from './errors.js';
import type { Secured } from './invites.js';
import {
  addMemberBody, authErrors, badRequest, conflict, createGroupBody, groupListSchema, groupParams, groupSchema, memberAddedSchema,
  memberParams, membersSchema, noContent, notFound, unsupportedType,
} from './schemas.js';

type Params = { name: string; jid: string };

export function groupJson(g: Group) {
  return { name: g.name, room: g.room ?? null, members: g.members, createdAt: g.createdAt, createdBy: g.createdBy };
}

export function groupRoutes(api: FastifyInstance, groups: GroupService, secured: Secured): void {
  const tags = ['groups'];
  const find = async (name: string): Promise<Group> => {
    const g = await groups.get(name);
    if (!g) throw new ApiError(404, 'not-found', `There is no group "${printable(name)}".`);
    return g;
  };

  api.get('/groups', secured('groups:read', {
    tags,
    summary: 'List groups',
    response: { 200: groupListSchema, ...authErrors },
  }), async () => ({ groups: (await groups.list()).map(groupJson) }));

  api.post('/groups', secured('groups:write', {
    tags,
    summary: 'Create a group',
    body: createGroupBody,
    response: { 201: groupSchema, 400: badRequest, ...authErrors, 409: conflict('A group of that name exists (any case), or there are as many groups as may be.'), 415: unsupportedType },
  }), async (req: FastifyRequest, reply) => {
    const made = await groups.create(actorOf(req), (req.body as { name: string }).name, (req.body as { room?: string }).room);
    if (!made.ok) throw refusalError(made);
    return reply.code(201).header('location', `${req.routeOptions.url}/${encodeURIComponent(made.group.name)}`).send(groupJson(made.group));
  });

  api.get('/groups/:name', secured('groups:read', {
    tags,
    summary: 'One group',
    params: groupParams,
    response: { 200: groupSchema, ...authErrors, 404: notFound('group') },
  }), async (req: FastifyRequest) => groupJson(await find((req.params as Params).name)));

  api.delete('/groups/:name', secured('groups:write', {
    tags,
    summary: 'Delete a group',
    description: 'Its members stay each other\'s contacts.',
    params: groupParams,
    response: { 204: noContent, ...authErrors, 404: notFound('group') },
  }), async (req: FastifyRequest, reply) => {
    const done = await groups.delete(actorOf(req), (req.params as Params).name);
    if (!done.ok) throw refusalError(done);
    return reply.code(204).send();
  });

  api.get('/groups/:name/members', secured('groups:read', {
    tags,
    summary: 'A group\'s members',
    params: groupParams,
    response: { 200: membersSchema, ...authErrors, 404: notFound('group') },
  }), async (req: FastifyRequest) => ({ members: (await find((req.params as Params).name)).members }));

  api.post('/groups/:name/members', secured('groups:write', {
    tags,
    summary: 'Add a member',
    description: 'The account becomes a contact of every other member (done by the bot and the component).',
    params: groupParams,
    body: addMemberBody,
    response: {
      201: memberAddedSchema, 400: badRequest, ...authErrors, 404: notFound('group'),
      409: conflict('A member already, the group is full, or the server has no such account.'), 415: unsupportedType,
    },
  }), async (req: FastifyRequest, reply) => {
    const added = await groups.add(actorOf(req), (req.params as Params).name, (req.body as { jid: string }).jid);
    if (!added.ok) throw refusalError(added);
    return reply.code(201).send({ group: added.group.name, jid: added.jid });
  });

  api.delete('/groups/:name/members/:jid', secured('groups:write', {
    tags,
    summary: 'Remove a member',
    params: memberParams,
    response: { 204: noContent, 400: err400(), ...authErrors, 404: notFound('group, or no such member') },
  }), async (req: FastifyRequest, reply) => {
    const done = await groups.remove(actorOf(req), (req.params as Params).name, (req.params as Params).jid);
    if (!done.ok) throw refusalError(done);
    return reply.code(204).send();
  });
}

function err400() {
  return { ...badRequest, description: 'The member is no local account\'s JID.' };
}
