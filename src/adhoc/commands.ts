// The invite commands offered over XEP-0050: each one turns form values into
// calls on the invite core and the core's answers into forms and notes.
import { formatExpiry, KIND_LABEL } from '../invites/describe.js';
import { allow, type Decision, isLocal, refuse } from '../invites/policy.js';
import { type CreatedInvite, type CreateRequest, type InviteService, printable, type Result } from '../invites/service.js';
import { parseRole, type Role } from '../invites/roles.js';
import { stanzaError } from '../xmpp/errors.js';
import { booleanValue, singleValue } from '../xmpp/forms.js';
import type { Element } from '../xmpp/stanzas.js';
import { splitBareJid } from '../xmpp/bare-jid.js';
import {
  type AccountFormValues, createAccountForm, FIELD, inviteTable, invitationResult,
  listChoiceForm, resetForm, revokeForm, ROLE_CHOICES,
} from './forms.js';
import type { Note } from './stanzas.js';

export interface AskerContext {
  /** Bare JID, lower case. */
  asker: string;
  service: InviteService;
  now: Date;
}

export type Values = Map<string, string[]>;

/** What one stage gives: the end, another form to fill in (with its state), or an IQ error. */
export type Step =
  | { status: 'completed'; form?: Element; notes?: Note[] }
  | { status: 'executing'; form: Element; notes?: Note[]; state?: unknown; canGoOn?: boolean }
  | { status: 'error'; error: Element };

export interface AdhocCommand {
  node: string;
  name: string;
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
const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export const forbidden = (message: string): Step => ({ status: 'error', error: stanzaError('auth', 'forbidden', message) });
const info = (text: string): Note => ({ type: 'info', text });
const problem = (text: string): Note => ({ type: 'error', text });
/** The same form again, with what to fix. */
const retry = (form: Element, message: string, state?: unknown): Step => ({ status: 'executing', form, notes: [problem(message)], state });

function created(ctx: AskerContext, result: Result<CreatedInvite>, again: (message: string) => Step): Step {
  if (!result.ok) return FORBIDDING.has(result.code) ? forbidden(result.message) : again(result.message);
  const inv = result.invite;
  return {
    status: 'completed',
    form: invitationResult(result),
    notes: [info(`${capitalize(KIND_LABEL[inv.kind])} invite ${inv.id}, valid until ${formatExpiry(inv.expiresAt, ctx.now)}. `
      + 'Share it only with the person you invite.')],
  };
}

const localOnly = (ctx: AskerContext): Decision => isLocal(ctx.asker, ctx.service.domain)
  ? allow
  : refuse('foreign-domain', `Only accounts on ${ctx.service.domain} can manage invites here.`);

export const inviteCommand: AdhocCommand = {
  node: NODE.invite,
  name: 'Create new contact invite',
  access: async (ctx) => ctx.service.mayCreate(actor(ctx), await ctx.service.defaultContactKind(actor(ctx))),
  async start(ctx) {
    const kind = await ctx.service.defaultContactKind(actor(ctx));
    // Single stage: a refusal such as the quota ends the command with its reason.
    return created(ctx, await ctx.service.create(actor(ctx), { kind }), (m) => ({ status: 'completed', notes: [problem(m)] }));
  },
};

function accountRequest(v: AccountFormValues): CreateRequest | string {
  if (v.rosterSubscription && (v.username !== undefined || v.role !== 'none')) {
    // An account+contact invite is a roster URI: it has no place for a username, and the core grants roles to account invites only.
    return 'An invite that also adds the new account to your contacts cannot be bound to a username or give a role: '
      + 'clear the username and choose "Ordinary account", or do not add it to your contacts.';
  }
  if (v.rosterSubscription) return { kind: 'account-contact' };
  const role = v.role === undefined || v.role === 'none' ? undefined : parseRole(v.role);
  const roles: Role[] = role ? [role] : [];
  return { kind: 'account', username: v.username, roles };
}

export const createAccountCommand: AdhocCommand = {
  node: NODE.createAccount,
  name: 'Create new account invite',
  access: (ctx) => ctx.service.mayCreate(actor(ctx), 'account'),
  start: () => ({ status: 'executing', form: createAccountForm() }),
  async submit(ctx, values) {
    const roster = booleanValue(values, FIELD.rosterSubscription);
    const v: AccountFormValues = {
      username: singleValue(values, FIELD.username),
      rosterSubscription: roster ?? false,
      role: singleValue(values, FIELD.role) ?? 'none',
    };
    const again = (message: string) => retry(createAccountForm(v), message);
    if (roster === undefined && singleValue(values, FIELD.rosterSubscription) !== undefined) {
      return again('"Add the new account to my contacts" must be yes or no.');
    }
    if (!ROLE_CHOICES.some((c) => c.value === v.role)) {
      return again(`"${printable(v.role!)}" is not a role; choose one from the list.`);
    }
    const req = accountRequest(v);
    if (typeof req === 'string') return again(req);
    return created(ctx, await ctx.service.create(actor(ctx), req), again);
  },
};

/** The username of a local bare JID, or the sentence saying what to enter instead. */
function localUsername(value: string | undefined, domain: string): { username: string } | { message: string } {
  const example = `as user@${domain}`;
  if (value === undefined) return { message: `Enter the account whose password is to be reset, ${example}.` };
  const jid = splitBareJid(value);
  if (!jid) return { message: `"${printable(value)}" is not an address; enter the account ${example}.` };
  if (jid.domain.toLowerCase() !== domain) return { message: `"${printable(value)}" is not an account on ${domain}; enter one ${example}.` };
  return { username: jid.local };
}

export const resetCommand: AdhocCommand = {
  node: NODE.reset,
  name: 'Create password reset invite',
  access: (ctx) => ctx.service.mayCreate(actor(ctx), 'reset'),
  start: () => ({ status: 'executing', form: resetForm() }),
  async submit(ctx, values) {
    const value = singleValue(values, FIELD.accountJid);
    const again = (message: string) => retry(resetForm(value), message);
    const target = localUsername(value, ctx.service.domain);
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
  if (!result.ok) return FORBIDDING.has(result.code) ? forbidden(result.message) : { status: 'completed', notes: [problem(result.message)] };
  const n = result.invites.length;
  const shown = from?.shown ?? 0;
  if (n === 0 && !from) return { status: 'completed', notes: [info(all ? 'There are no pending invites.' : 'You have no pending invites.')] };
  const range = `${shown + 1}–${shown + n}`;
  if (result.next) {
    // One page at a time: a long list is never built whole, here or in the client.
    return {
      status: 'executing', form: inviteTable(result.invites), canGoOn: true,
      state: { all, next: result.next, shown: shown + n } satisfies ListState,
      notes: [info(`Pending invites ${range}; "next" shows more.`)],
    };
  }
  const total = shown + n;
  const text = from ? `Pending invites ${range}, the last of ${total}.` : `${n} pending invite${n === 1 ? '' : 's'}.`;
  return { status: 'completed', form: inviteTable(result.invites), notes: [info(text)] };
}

export const listCommand: AdhocCommand = {
  node: NODE.list,
  name: 'List pending invites',
  access: localOnly,
  // Only admins have a choice to make; everyone else gets their list at once.
  start: (ctx) => (ctx.service.isAdmin(ctx.asker) ? { status: 'executing', form: listChoiceForm() } : listing(ctx, false)),
  submit(ctx, values, state, action) {
    if (!isListState(state)) return listing(ctx, booleanValue(values, FIELD.all) ?? false);
    if (action === 'complete') return { status: 'completed', notes: [info(`${state.shown} pending invites shown.`)] };
    return listing(ctx, state.all, state);
  },
};

/** The revoke form over what the asker may revoke now (admins: everyone's), or the end when there is nothing. */
async function revokeStage(ctx: AskerContext, notes: Note[] = []): Promise<Step> {
  const result = await ctx.service.listPending(actor(ctx), { all: ctx.service.isAdmin(ctx.asker), limit: REVOKE_CHOICES });
  if (!result.ok) return forbidden(result.message);
  if (result.invites.length === 0) {
    return { status: 'completed', notes: [...notes, info('You have no invites that can be revoked.')] };
  }
  // Too many to choose from: the id is typed instead (the list command shows them).
  if (result.next) return { status: 'executing', form: revokeForm(undefined, ctx.now), notes };
  return { status: 'executing', form: revokeForm(result.invites, ctx.now), notes };
}

export const revokeCommand: AdhocCommand = {
  node: NODE.revoke,
  name: 'Revoke an invite',
  access: localOnly,
  start: (ctx) => revokeStage(ctx),
  async submit(ctx, values) {
    const id = singleValue(values, FIELD.id);
    if (id === undefined) return revokeStage(ctx, [problem('Choose the invite to revoke.')]);
    const result = await ctx.service.revoke(actor(ctx), id);
    if (!result.ok) return revokeStage(ctx, [problem(result.message)]);
    return { status: 'completed', notes: [info(`Invite ${result.invite.id} is revoked: it can no longer be used.`)] };
  },
};

/** In the order disco#items lists them. */
export const INVITE_COMMANDS: readonly AdhocCommand[] = [inviteCommand, createAccountCommand, resetCommand, listCommand, revokeCommand];
