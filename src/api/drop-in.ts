// Prosody's mod_invites_api, for tools written against it: `GET /invites_api?key=KEY`
// (or the key as a bearer token) makes an account invite and answers 201 with the
// invite page in `Location` and an empty body, or 303 to it when `redirect` is in the
// query (any value, as Prosody reads it). Prosody answers 403 to a missing or wrong
// key, and so does this; our keys are `ID.SECRET` (Prosody's are `ID/TOKEN`).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { InviteService } from '../invites/service.js';
import { actorOf } from './auth.js';
import { refusalError } from './errors.js';
import type { Secured } from './invites.js';
import { dropInQuery, errorSchema } from './schemas.js';

export const DROP_IN_PATH = '/invites_api';

export function dropInRoutes(api: FastifyInstance, service: InviteService, secured: Secured): void {
  const base = secured('invites:write', {
    tags: ['prosody'],
    summary: 'Create an account invite (Prosody\'s mod_invites_api)',
    description: 'As `curl -i "https://HOST/PATH/invites_api?key=KEY"`: 201 with `Location:` the invite page and an empty body; with `&redirect=true`, 303 to it.',
    querystring: dropInQuery,
    security: [{ bearer: [] }, { queryKey: [] }],
    response: {
      201: { type: 'null', description: 'Made; `Location` is the invite page.' },
      303: { type: 'null', description: 'Made (with `redirect`); `Location` is the invite page.' },
      403: { ...errorSchema, description: 'No key, an unknown or revoked key, or a key without invites:write (as Prosody: 403 for all).' },
      429: { ...errorSchema, description: 'Too many requests with this key.' },
    },
  });
  api.route({
    ...base,
    method: 'GET',
    url: DROP_IN_PATH,
    // A HEAD must not make an invite.
    exposeHeadRoute: false,
    config: { ...base.config, dropIn: true } as never,
    handler: async (req: FastifyRequest, reply) => {
      const made = await service.create(actorOf(req), { kind: 'account' });
      if (!made.ok) throw refusalError(made);
      const location = made.landingUrl ?? made.uri;
      return reply.code((req.query as { redirect?: string }).redirect !== undefined ? 303 : 201).header('location', location).send();
    },
  });
}
