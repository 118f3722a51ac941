// The HTTP API's JSON schemas: the routes validate requests with them (ajv) and
// serialise answers with them, and the OpenAPI document is generated from them
// (@fastify/swagger), so the document cannot drift from what is checked.
import { MAX_GROUP_NAME } from '../groups/service.js';
import { MAX_LIFETIME_SECONDS } from '../invites/lifetime.js';
import { ROLES } from '../invites/roles.js';
import { MAX_NOTE, MAX_USES_LIMIT } from '../invites/service.js';
import { SCOPES } from './keys.js';

/** The kinds an API key may create: an account invite, account+contact (refused: a key is no account), a password reset. */
export const API_KINDS = ['account', 'account-contact', 'reset'] as const;
/** The states a list is filtered by, as the API names them (the core's `valid` is `pending`). */
export const API_STATES = ['pending', 'used', 'expired', 'revoked'] as const;
/** Roles as this service names them, and as Prosody does (`prosody:admin`). */
export const ROLE_NAMES = [...ROLES, ...ROLES.map((r) => `prosody:${r}`)];
/** Groups one invite may name. */
export const MAX_INVITE_GROUPS = 50;
/** Invites per page, at most (the core's own limit). */
export const MAX_PAGE = 1000;

export const errorSchema = {
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string', description: 'A short code: a refusal of the core (`username-taken`, `exists`, ...) or the kind of error (`invalid-request`, `unauthorized`, ...).' },
    message: { type: 'string', description: 'The reason, in English.' },
  },
} as const;

const err = (description: string) => ({ ...errorSchema, description });

/** The error answers every authenticated route may give. */
export const authErrors = {
  401: err('No key, or an unknown or revoked key (`WWW-Authenticate: Bearer`).'),
  403: err('The key lacks the scope this route needs.'),
  429: err('Too many requests with this key (API_RATE_LIMIT); `Retry-After` says when to try again.'),
} as const;

export const badRequest = err('Malformed JSON, a wrong type, an unknown field, or a value out of range.');
export const unsupportedType = err('The body is not JSON (`Content-Type: application/json`).');
export const notFound = (what: string) => err(`No such ${what}.`);
export const conflict = (what: string) => err(what);
export const noContent = { type: 'null', description: 'Done; no body.' } as const;

const use = {
  type: 'object',
  required: ['jid', 'at'],
  properties: {
    jid: { type: 'string', description: 'The account that used it (or the contact, for a contact invite).' },
    at: { type: 'string', format: 'date-time' },
    pending: { type: 'boolean', description: 'Present and true while the use is held but not confirmed yet (a registration in progress).' },
  },
} as const;

const inviteProperties = {
  id: { type: 'string', description: 'The public id: names the invite in lists, for revoking; never enough to use it.' },
  kind: { type: 'string', enum: ['account', 'contact', 'account-contact', 'reset'] },
  state: { type: 'string', enum: API_STATES },
  createdBy: { type: 'string', description: 'A JID, `cli`, `first-run`, or `api:KEYNAME`.' },
  createdAt: { type: 'string', format: 'date-time' },
  expires: { type: ['string', 'null'], format: 'date-time', description: 'null: it never expires.' },
  username: { type: 'string', description: 'account: the username it is bound to; reset: the account it resets.' },
  roles: { type: 'array', items: { type: 'string', enum: ROLES } },
  groups: { type: 'array', items: { type: 'string' } },
  note: { type: ['string', 'null'] },
  uses: { type: 'integer', description: 'How many uses it allows in all.' },
  usesLeft: { type: 'integer' },
  revokedAt: { type: 'string', format: 'date-time' },
  usedBy: { type: 'array', items: use, description: 'Who used it and when; pending uses are marked.' },
} as const;

const inviteRequired = ['id', 'kind', 'state', 'createdBy', 'createdAt', 'expires', 'roles', 'groups', 'note', 'uses', 'usesLeft', 'usedBy'];

export const inviteSchema = {
  type: 'object',
  required: inviteRequired,
  properties: inviteProperties,
} as const;

export const createdInviteSchema = {
  type: 'object',
  description: 'The invite made. `uri` and `landingUrl` carry its token: they are shown this once, never again.',
  required: [...inviteRequired, 'uri', 'landingUrl'],
  properties: {
    ...inviteProperties,
    uri: { type: 'string', description: 'The `xmpp:` invite link (XEP-0401).' },
    landingUrl: { type: ['string', 'null'], description: 'The web page of the invite (null only where the service has no PUBLIC_URL).' },
  },
} as const;

export const createInviteBody = {
  type: 'object',
  additionalProperties: false,
  required: ['kind'],
  properties: {
    kind: { type: 'string', enum: API_KINDS, description: '`account`: a new account; `account-contact`: refused for API keys (a key is no account to become the contact); `reset`: a new password for `username`.' },
    username: { type: 'string', minLength: 1, maxLength: 1023, description: 'account: bind the invite to this username (then `uses` must be 1); reset: required, the account to reset.' },
    roles: { type: 'array', maxItems: ROLE_NAMES.length, items: { type: 'string', enum: ROLE_NAMES }, description: 'account only: roles the new account gets.' },
    groups: { type: 'array', maxItems: MAX_INVITE_GROUPS, items: { type: 'string', minLength: 1, maxLength: MAX_GROUP_NAME }, description: 'Groups (existing, by name) the new account joins; account kinds only.' },
    uses: { type: 'integer', minimum: 1, maximum: MAX_USES_LIMIT, description: 'account only: how many accounts it may make (default 1).' },
    expiresAfter: {
      description: 'Lifetime: `30m`, `1h`, `2d`, `4w`, `never`, or seconds. Default INVITE_EXPIRY (RESET_EXPIRY for a reset); at most ten years.',
      anyOf: [
        { type: 'string', pattern: '^(never|[0-9]{1,6}[smhdw])$' },
        { type: 'integer', minimum: 1, maximum: MAX_LIFETIME_SECONDS },
      ],
    },
    ttl: { type: 'integer', minimum: 1, maximum: MAX_LIFETIME_SECONDS, description: 'The lifetime in seconds, as Prosody\'s mod_http_admin_api names it: the same as `expiresAfter` (give one of the two).' },
    note: { type: 'string', maxLength: MAX_NOTE, description: 'Shown in lists, never to the invitee.' },
  },
} as const;

export const listInvitesQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    state: { type: 'string', enum: API_STATES, description: 'Only invites in this state now (ended invites stay listed about a day before they are archived).' },
    createdBy: { type: 'string', minLength: 1, maxLength: 1100, description: 'Only those of this creator (a JID, `cli`, `api:KEYNAME`).' },
    limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: 20, description: 'Invites per page, at most (a page filtered by state may hold fewer).' },
    after: { type: 'string', minLength: 1, maxLength: 200, description: 'The `next` of the page before.' },
  },
} as const;

export const inviteListSchema = {
  type: 'object',
  required: ['invites'],
  properties: {
    invites: { type: 'array', items: inviteSchema },
    next: { type: 'string', description: 'Absent on the last page; pass it as `after` for the next one.' },
  },
} as const;

export const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', maxLength: 64, description: 'The invite\'s id.' } },
} as const;

export const groupSchema = {
  type: 'object',
  required: ['name', 'room', 'members', 'createdAt', 'createdBy'],
  properties: {
    name: { type: 'string' },
    room: { type: ['string', 'null'], description: 'The group\'s chat room (bare JID), bookmarked for each new member.' },
    members: { type: 'array', items: { type: 'string' }, description: 'Bare JIDs, in the order they joined.' },
    createdAt: { type: 'string', format: 'date-time' },
    createdBy: { type: 'string' },
  },
} as const;

export const groupListSchema = {
  type: 'object',
  required: ['groups'],
  properties: { groups: { type: 'array', items: groupSchema } },
} as const;

export const createGroupBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: MAX_GROUP_NAME, description: 'Unique without regard to case; also the roster group members see each other under.' },
    room: { type: 'string', maxLength: 1023, description: 'A chat room\'s bare JID (`room@conference.example.org`).' },
  },
} as const;

export const groupParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', description: 'The group\'s name, URL-encoded; any case.' } },
} as const;

export const memberParams = {
  type: 'object',
  required: ['name', 'jid'],
  properties: {
    name: { type: 'string', description: 'The group\'s name, URL-encoded.' },
    jid: { type: 'string', description: 'The member: `alice` or `alice@DOMAIN`, URL-encoded.' },
  },
} as const;

export const membersSchema = {
  type: 'object',
  required: ['members'],
  properties: { members: { type: 'array', items: { type: 'string' } } },
} as const;

export const addMemberBody = {
  type: 'object',
  additionalProperties: false,
  required: ['jid'],
  properties: { jid: { type: 'string', minLength: 1, maxLength: 3071, description: 'A local account: `alice` or `alice@DOMAIN`.' } },
} as const;

export const memberAddedSchema = {
  type: 'object',
  required: ['group', 'jid'],
  properties: { group: { type: 'string' }, jid: { type: 'string' } },
} as const;

export const dropInQuery = {
  type: 'object',
  properties: {
    key: { type: 'string', description: 'The API key, when no `Authorization: Bearer` header is sent (as Prosody\'s mod_invites_api takes it).' },
    redirect: { type: 'string', description: 'Present (any value, as in Prosody): answer 303 to the invite page instead of 201.' },
  },
} as const;

/** The document's frame: the paths come from the routes. */
export function openapiInfo(publicUrl: string) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'xmpp-invites HTTP API',
      version: '1',
      description: `Invites and groups over JSON. Every route but this document needs \`Authorization: Bearer KEY\` (\`npm run invites -- api-key create NAME --scope SCOPE\`); scopes: ${SCOPES.join(', ')} (a write scope implies its read scope). Errors are \`{error, message}\`.`,
    },
    servers: [{ url: new URL(publicUrl).origin }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An API key, `ID.SECRET`.' },
        queryKey: { type: 'apiKey', in: 'query', name: 'key', description: 'The API key in the query, for the Prosody-compatible endpoint only.' },
      },
    },
    tags: [
      { name: 'invites', description: 'Scopes invites:read, invites:write; invites:admin for reset invites and the admin role (it also writes and reads).' },
      { name: 'groups', description: 'Scopes groups:read, groups:write.' },
      { name: 'prosody', description: 'Drop-in for Prosody\'s mod_invites_api (scope invites:write).' },
    ],
  };
}
