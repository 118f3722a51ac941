// The invite commands offered over XEP-0050: each one turns form values into
// calls on the invite core and the core's answers into forms and notes.
import { formatExpiry, type Lang, type T, translator } from '../i18n/i18n.js';
import { KIND_KEY } from '../invites/describe.js';
import { allow, type Decision, isLocal, localize } from '../invites/policy.js';
import { type CreatedInvite, type CreateRequest, type InviteService, printable, type Refusal, type Result } from '../invites/service.js';
import { parseRole, type Role } from '../invites/roles.js';
import { stanzaError } from '../xmpp/errors.js';
import { booleanValue, singleValue } from '../xmpp/forms.js';
import type { Element } from '../xmpp/stanzas.js';
import { splitBareJid } from '../xmpp/bare-jid.js';
import {
  type AccountFormValues, createAccountForm, FIELD, inviteTable, invitationResult,
  listChoiceForm, resetForm, revokeForm, ROLE_CHOICES, withReason,
} from './forms.js';
import type { Note } from './stanzas.js';

export interface AskerContext {
  /** Bare JID, lower case. */
  asker: string;
  service: InviteService;
  now: Date;
  /** The language of the request (its xml:lang, else DEFAULT_LANGUAGE), and its catalogue. */
  lang: Lang;
  t: T;
}

export type Values = Map<string, string[]>;

/** What one stage gives: the end, another form to fill in (with its state), or an IQ error. */
export type Step =
  | { status: 'completed'; form?: Element; notes?: Note[] }
  | { status: 'executing'; form: Element; notes?: Note[]; state?: unknown; canGoOn?: boolean }
  | { status: 'error'; error: Element };

export interface AdhocCommand {
  node: string;
  /** The English name; `key` names it in other languages (`adhoc.name.KEY`). */
  name: string;
  key?: string;
  /** Who may run it, decided by the core; refusals about quota still let them in (the note says why nothing was made). */
  access(ctx: AskerContext): Decision | Promise<Decision>;
  start(ctx: AskerContext): Promise<Step> | Step;
  /** The submitted form of the stage `start` (or an earlier `submit`) returned. */
  submit?(ctx: AskerContext, values: Values, state: unknown, action: 'execute' | 'next' | 'complete'): Promise<Step> | Step;
}

/** Refusals that are about who the asker is: answered with `forbidden` and the command is not listed. */
export const FORBIDDING: ReadonlySet<string> = new Set(['foreign-domain', 'not-admin', 'contact-invites-disabled']);

export const NODE = {
  invite: 'urn:xmpp:invite#invite',
  createAccount: 'urn:xmpp:invite#create-account',
  reset: 'urn:xmpp-invites:reset',
  list: 'urn:xmpp-invites:list',
  revoke: 'urn:xmpp-invites:revoke',
} as const;

const actor = (ctx: AskerContext) => ({ jid: ctx.asker });

export const forbidden = (message: string): Step => ({ status: 'error', error: stanzaError('auth', 'forbidden', message) });
const info = (text: string): Note => ({ type: 'info', text });
const problem = (text: string): Note => ({ type: 'error', text });
/** The same form again, with what to fix: in an error note, and as the first line of its instructions. */
const retry = (form: Element, message: string, state?: unknown): Step =>
  ({ status: 'executing', form: withReason(form, message), notes: [problem(message)], state });

/** A refusal of the core in the asker's language; a taken name points to this side's own reset command. */
function refusalText(ctx: AskerContext, r: Refusal): string {
  if (r.code === 'username-taken' && r.vars?.jid) return ctx.t('adhoc.accountExists', { jid: r.vars.jid });
  return localize(r, ctx.t);
}

function created(ctx: AskerContext, result: Result<CreatedInvite>, again: (message: string) => Step): Step {
  if (!result.ok) return FORBIDDING.has(result.code) ? forbidden(refusalText(ctx, result)) : again(refusalText(ctx, result));
  const inv = result.invite;
  return {
    status: 'completed',
    form: invitationResult(result, ctx.t),
    notes: [info(ctx.t(`adhoc.created.${KIND_KEY[inv.kind]}`, { id: inv.id, expiry: formatExpiry(inv.expiresAt, ctx.now, ctx.lang) }))],
  };
}

/** Whether the server gives an invite's roles (the seam says; unknown: as if it does). */
const serverGivesRoles = (ctx: AskerContext): boolean => (ctx.service.server as { grantsRoles?: boolean } | undefined)?.grantsRoles !== false;

const localOnly = (ctx: AskerContext): Decision => isLocal(ctx.asker, ctx.service.domain)
  ? allow
  : { ok: false, code: 'foreign-domain', message: translator('en')('adhoc.foreignDomain', { domain: ctx.service.domain }), key: 'adhoc.foreignDomain', vars: { domain: ctx.service.domain } };

export const inviteCommand: AdhocCommand = {
  node: NODE.invite,
  name: 'Create new contact invite',
  key: 'invite',
  access: async (ctx) => ctx.service.mayCreate(actor(ctx), await ctx.service.defaultContactKind(actor(ctx))),
  async start(ctx) {
    const kind = await ctx.service.defaultContactKind(actor(ctx));
    // Single stage: a refusal such as the quota ends the command with its reason.
    return created(ctx, await ctx.service.create(actor(ctx), { kind }), (m) => ({ status: 'completed', notes: [problem(m)] }));
  },
};

function accountRequest(t: T, v: AccountFormValues): CreateRequest | string {
  if (v.rosterSubscription && (v.username !== undefined || v.role !== 'none')) {
    // An account+contact invite is a roster URI: it has no place for a username, and the core grants roles to account invites only.
    return t('adhoc.rosterConflict');
  }
  if (v.rosterSubscription) return { kind: 'account-contact' };
  const role = v.role === undefined || v.role === 'none' ? undefined : parseRole(v.role);
  const roles: Role[] = role ? [role] : [];
  return { kind: 'account', username: v.username, roles };
}

export const createAccountCommand: AdhocCommand = {
  node: NODE.createAccount,
  name: 'Create new account invite',
  key: 'createAccount',
  access: (ctx) => ctx.service.mayCreate(actor(ctx), 'account'),
  start: (ctx) => ({ status: 'executing', form: createAccountForm(ctx.t, {}, serverGivesRoles(ctx)) }),
  async submit(ctx, values) {
    const roster = booleanValue(values, FIELD.rosterSubscription);
    const v: AccountFormValues = {
      username: singleValue(values, FIELD.username),
      rosterSubscription: roster ?? false,
      role: singleValue(values, FIELD.role) ?? 'none',
    };
    const again = (message: string) => retry(createAccountForm(ctx.t, v, serverGivesRoles(ctx)), message);
    if (roster === undefined && singleValue(values, FIELD.rosterSubscription) !== undefined) {
      return again(ctx.t('adhoc.rosterBoolean'));
    }
    if (!(ROLE_CHOICES as readonly string[]).includes(v.role!)) {
      return again(ctx.t('adhoc.badRole', { role: printable(v.role!) }));
    }
    const req = accountRequest(ctx.t, v);
    if (typeof req === 'string') return again(req);
    return created(ctx, await ctx.service.create(actor(ctx), req), again);
  },
};

/** The username of a local bare JID, or the sentence saying what to enter instead. */
function localUsername(t: T, value: string | undefined, domain: string): { username: string } | { message: string } {
  if (value === undefined) return { message: t('adhoc.enterAccount', { domain }) };
  // A bare username ("alice") is an account of this server, as the bot's "invite reset alice" takes it.
  if (!/[@/]/.test(value) && value.trim().toLowerCase() !== domain) return { username: value.trim() };
  const jid = splitBareJid(value);
  if (!jid) return { message: t('adhoc.notAddress', { value: printable(value), domain }) };
  if (jid.domain.toLowerCase() !== domain) return { message: t('adhoc.notLocal', { value: printable(value), domain }) };
  return { username: jid.local };
}

export const resetCommand: AdhocCommand = {
  node: NODE.reset,
  name: 'Create password reset invite',
  key: 'reset',
  access: (ctx) => ctx.service.mayCreate(actor(ctx), 'reset'),
  start: (ctx) => ({ status: 'executing', form: resetForm(ctx.t) }),
  async submit(ctx, values) {
    const value = singleValue(values, FIELD.accountJid);
    const again = (message: string) => retry(resetForm(ctx.t, value), message);
    const target = localUsername(ctx.t, value, ctx.service.domain);
    if ('message' in target) return again(target.message);
    return created(ctx, await ctx.service.create(actor(ctx), { kind: 'reset', username: target.username }), again);
  },
};

/** Invites per page of the list command, and most listed as choices by the revoke command. */
const LIST_PAGE = 20;
const REVOKE_CHOICES = 100;

/** Where a list shown page by page has got to. */
interface ListState {
  all: boolean;
  next: string;
  shown: number;
}

function isListState(s: unknown): s is ListState {
  return typeof (s as ListState | undefined)?.next === 'string';
}

async function listing(ctx: AskerContext, all: boolean, from?: ListState): Promise<Step> {
  const result = await ctx.service.listPending(actor(ctx), { all, after: from?.next, limit: LIST_PAGE });
  const { t } = ctx;
  if (!result.ok) return FORBIDDING.has(result.code) ? forbidden(localize(result, t)) : { status: 'completed', notes: [problem(localize(result, t))] };
  const n = result.invites.length;
  const shown = from?.shown ?? 0;
  if (n === 0 && !from) return { status: 'completed', notes: [info(t(all ? 'adhoc.list.none' : 'adhoc.list.noneMine'))] };
  const range = { from: shown + 1, to: shown + n };
  const table = inviteTable(result.invites, ctx.now, ctx.lang, t, all ? undefined : ctx.asker);
  if (result.next) {
    // One page at a time: a long list is never built whole, here or in the client.
    return {
      status: 'executing', form: table, canGoOn: true,
      state: { all, next: result.next, shown: shown + n } satisfies ListState,
      notes: [info(t('adhoc.list.page', range))],
    };
  }
  const text = from ? t('adhoc.list.last', { ...range, total: shown + n }) : t('adhoc.list.count', { count: n });
  return { status: 'completed', form: table, notes: [info(text)] };
}

export const listCommand: AdhocCommand = {
  node: NODE.list,
  name: 'List pending invites',
  key: 'list',
  access: localOnly,
  // Only admins have a choice to make; everyone else gets their list at once.
  start: (ctx) => (ctx.service.isAdmin(ctx.asker) ? { status: 'executing', form: listChoiceForm(ctx.t) } : listing(ctx, false)),
  submit(ctx, values, state, action) {
    if (!isListState(state)) return listing(ctx, booleanValue(values, FIELD.all) ?? false);
    if (action === 'complete') return { status: 'completed', notes: [info(ctx.t('adhoc.list.shown', { count: state.shown }))] };
    return listing(ctx, state.all, state);
  },
};

/** The revoke form over what the asker may revoke now (admins: everyone's), or the end when there is nothing; `reason`: why it is shown again. */
async function revokeStage(ctx: AskerContext, reason?: string): Promise<Step> {
  const all = ctx.service.isAdmin(ctx.asker);
  const result = await ctx.service.listPending(actor(ctx), { all, limit: REVOKE_CHOICES });
  if (!result.ok) return forbidden(localize(result, ctx.t));
  const notes = reason ? [problem(reason)] : [];
  if (result.invites.length === 0) {
    return { status: 'completed', notes: [...notes, info(ctx.t('adhoc.revoke.nothing'))] };
  }
  // Too many to choose from: the id is typed instead (the list command shows them).
  const form = revokeForm(result.next ? undefined : result.invites, ctx.now, ctx.lang, ctx.t, all ? undefined : ctx.asker);
  return { status: 'executing', form: reason ? withReason(form, reason) : form, notes };
}

export const revokeCommand: AdhocCommand = {
  node: NODE.revoke,
  name: 'Revoke an invite',
  key: 'revoke',
  access: localOnly,
  start: (ctx) => revokeStage(ctx),
  async submit(ctx, values) {
    const id = singleValue(values, FIELD.id);
    if (id === undefined) return revokeStage(ctx, ctx.t('adhoc.revoke.choose'));
    const result = await ctx.service.revoke(actor(ctx), id);
    if (!result.ok) return revokeStage(ctx, localize(result, ctx.t));
    return { status: 'completed', notes: [info(ctx.t('common.revoked', { id: result.invite.id }))] };
  },
};

/** In the order disco#items lists them. */
export const INVITE_COMMANDS: readonly AdhocCommand[] = [inviteCommand, createAccountCommand, resetCommand, listCommand, revokeCommand];
