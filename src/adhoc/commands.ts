// The invite commands offered over XEP-0050: each one turns form values into
// calls on the invite core and the core's answers into forms and notes.
import type { GroupService } from '../groups/service.js';
import { formatDuration, formatExpiry, isNever, type Lang, type T, translator } from '../i18n/i18n.js';
import { KIND_KEY } from '../invites/describe.js';
import { lifetimeText } from '../invites/lifetime.js';
import { allow, type Decision, isLocal, localize, refuse } from '../invites/policy.js';
import { type CreatedInvite, type CreateRequest, type InviteOptions, type InviteService, MAX_USES_LIMIT, printable, type Refusal, type Result } from '../invites/service.js';
import { parseRole, type Role } from '../invites/roles.js';
import { stanzaError } from '../xmpp/errors.js';
import { booleanValue, singleValue } from '../xmpp/forms.js';
import type { Element } from '../xmpp/stanzas.js';
import { splitBareJid } from '../xmpp/bare-jid.js';
import {
  type AccountFormChoices, type AccountFormValues, contactInviteForm, createAccountForm, FIELD, groupCreateForm, groupMemberForm, groupTable,
  inviteTable, invitationResult, lifetimeChoices, lifetimeValue, listChoiceForm, resetForm, revokeForm, ROLE_CHOICES, withReason,
} from './forms.js';
import type { Note } from './stanzas.js';

export interface AskerContext {
  /** Bare JID, lower case. */
  asker: string;
  service: InviteService;
  /** The groups, where the service has them (the group commands are listed only then). */
  groups?: GroupService;
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
  /** A contact invite with a lifetime and a note (urn:xmpp:invite#invite stays one stage, as apps expect). */
  inviteOptions: 'urn:xmpp-invites:invite',
  groups: 'urn:xmpp-invites:groups',
  groupCreate: 'urn:xmpp-invites:group-create',
  groupAdd: 'urn:xmpp-invites:group-add',
  groupRemove: 'urn:xmpp-invites:group-remove',
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
  const never = isNever(inv.expiresAt);
  const lifetime = Math.round((Date.parse(inv.expiresAt) - Date.parse(inv.createdAt)) / 1000);
  return {
    status: 'completed',
    form: invitationResult(result, ctx.t),
    notes: [
      info(ctx.t(`adhoc.${never ? 'createdNever' : 'created'}.${KIND_KEY[inv.kind]}`, { id: inv.id, expiry: formatExpiry(inv.expiresAt, ctx.now, ctx.lang) })),
      // A user's lifetime is at most INVITE_EXPIRY: the core cut it, say so.
      ...(result.capped && !never ? [info(ctx.t('common.invite.capped', { lifetime: formatDuration(lifetime, ctx.lang) }))] : []),
    ],
  };
}

/** The lifetimes this asker may choose (a user's up to INVITE_EXPIRY; admins' up to never), and the default. */
function lifetimesFor(ctx: AskerContext, fallback = ctx.service.settings.inviteExpiry): { lifetimes: ReturnType<typeof lifetimeChoices>; defaultLifetime: string } {
  const admin = ctx.service.isAdmin(ctx.asker);
  return {
    lifetimes: lifetimeChoices(ctx.t, ctx.lang, fallback, admin ? { never: true } : { max: ctx.service.settings.inviteExpiry }),
    defaultLifetime: lifetimeText(fallback),
  };
}

/** The lifetime and note of a submitted form, or the sentence saying what is wrong. */
function lifetimeAndNote(ctx: AskerContext, values: Values): InviteOptions | string {
  const typed = singleValue(values, FIELD.expiresAfter);
  const out: InviteOptions = {};
  if (typed !== undefined) {
    const l = lifetimeValue(typed);
    if (l === undefined) return ctx.t('common.refusal.badLifetime');
    out.expiresAfter = l;
  }
  const note = singleValue(values, FIELD.note);
  if (note !== undefined) out.note = note;
  return out;
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
  const uses = v.uses === undefined ? undefined : Number(v.uses);
  if (v.uses !== undefined && !/^\d{1,6}$/.test(v.uses)) return t('common.refusal.badUses', { max: MAX_USES_LIMIT });
  const options: InviteOptions = {
    ...(v.expiresAfter !== undefined ? { expiresAfter: lifetimeValue(v.expiresAfter)! } : {}),
    ...(v.note !== undefined ? { note: v.note } : {}),
    ...(v.groups?.length ? { groups: v.groups } : {}),
  };
  // More than one use is for account invites: the core says so of an account+contact one.
  if (v.rosterSubscription) return { kind: 'account-contact', ...options, ...(uses !== undefined && uses !== 1 ? { maxUses: uses } : {}) } as CreateRequest;
  const role = v.role === undefined || v.role === 'none' ? undefined : parseRole(v.role);
  const roles: Role[] = role ? [role] : [];
  return { kind: 'account', username: v.username, roles, ...(uses !== undefined ? { maxUses: uses } : {}), ...options };
}

async function accountChoices(ctx: AskerContext): Promise<AccountFormChoices> {
  return { ...lifetimesFor(ctx), groups: ctx.groups ? await ctx.groups.list() : [] };
}

export const createAccountCommand: AdhocCommand = {
  node: NODE.createAccount,
  name: 'Create new account invite',
  key: 'createAccount',
  access: (ctx) => ctx.service.mayCreate(actor(ctx), 'account'),
  start: async (ctx) => ({ status: 'executing', form: createAccountForm(ctx.t, {}, serverGivesRoles(ctx), await accountChoices(ctx)) }),
  async submit(ctx, values) {
    const roster = booleanValue(values, FIELD.rosterSubscription);
    const v: AccountFormValues = {
      username: singleValue(values, FIELD.username),
      rosterSubscription: roster ?? false,
      role: singleValue(values, FIELD.role) ?? 'none',
      expiresAfter: singleValue(values, FIELD.expiresAfter),
      uses: singleValue(values, FIELD.uses),
      note: singleValue(values, FIELD.note),
      groups: (values.get(FIELD.groups) ?? []).map((g) => g.trim()).filter(Boolean),
    };
    const choices = await accountChoices(ctx);
    const again = (message: string) => retry(createAccountForm(ctx.t, v, serverGivesRoles(ctx), choices), message);
    if (roster === undefined && singleValue(values, FIELD.rosterSubscription) !== undefined) {
      return again(ctx.t('adhoc.rosterBoolean'));
    }
    if (!(ROLE_CHOICES as readonly string[]).includes(v.role!)) {
      return again(ctx.t('adhoc.badRole', { role: printable(v.role!) }));
    }
    if (v.expiresAfter !== undefined && lifetimeValue(v.expiresAfter) === undefined) return again(ctx.t('common.refusal.badLifetime'));
    const req = accountRequest(ctx.t, v);
    if (typeof req === 'string') return again(req);
    return created(ctx, await ctx.service.create(actor(ctx), req), again);
  },
};

/** The contact invite with a form: its lifetime (a user's up to INVITE_EXPIRY) and a note. */
export const inviteOptionsCommand: AdhocCommand = {
  node: NODE.inviteOptions,
  name: 'Create contact invite with options',
  key: 'inviteOptions',
  access: async (ctx) => ctx.service.mayCreate(actor(ctx), await ctx.service.defaultContactKind(actor(ctx))),
  start(ctx) {
    const { lifetimes, defaultLifetime } = lifetimesFor(ctx);
    return { status: 'executing', form: contactInviteForm(ctx.t, lifetimes, { expiresAfter: defaultLifetime }) };
  },
  async submit(ctx, values) {
    const { lifetimes, defaultLifetime } = lifetimesFor(ctx);
    const v = { expiresAfter: singleValue(values, FIELD.expiresAfter) ?? defaultLifetime, note: singleValue(values, FIELD.note) };
    const again = (message: string) => retry(contactInviteForm(ctx.t, lifetimes, v), message);
    const options = lifetimeAndNote(ctx, values);
    if (typeof options === 'string') return again(options);
    const kind = await ctx.service.defaultContactKind(actor(ctx));
    return created(ctx, await ctx.service.create(actor(ctx), { kind, ...options }), again);
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

/** Groups are for administrators, and only where the service has them. */
function groupsAccess(ctx: AskerContext): Decision {
  if (!isLocal(ctx.asker, ctx.service.domain)) return localOnly(ctx);
  if (!ctx.groups || !ctx.service.isAdmin(ctx.asker)) return refuse('not-admin', 'refusal.groupsAdmin');
  return allow;
}

/** A group refusal (or a success) ends the stage; `again` gives the form back with the reason. */
export const groupsCommand: AdhocCommand = {
  node: NODE.groups,
  name: 'List groups',
  key: 'groups',
  access: groupsAccess,
  async start(ctx) {
    const all = await ctx.groups!.list();
    if (all.length === 0) return { status: 'completed', notes: [info(ctx.t('adhoc.groups.none'))] };
    return { status: 'completed', form: groupTable(all, ctx.t), notes: [info(ctx.t('adhoc.groups.count', { count: all.length }))] };
  },
};

export const groupCreateCommand: AdhocCommand = {
  node: NODE.groupCreate,
  name: 'Create a group',
  key: 'groupCreate',
  access: groupsAccess,
  start: (ctx) => ({ status: 'executing', form: groupCreateForm(ctx.t) }),
  async submit(ctx, values) {
    const v = { name: singleValue(values, FIELD.name), room: singleValue(values, FIELD.room) };
    const again = (message: string) => retry(groupCreateForm(ctx.t, v), message);
    if (v.name === undefined) return again(ctx.t('adhoc.groups.needName'));
    const r = await ctx.groups!.create(actor(ctx), v.name, v.room);
    if (!r.ok) return again(localize(r, ctx.t));
    const text = ctx.t(r.group.room ? 'adhoc.groups.createdRoom' : 'adhoc.groups.created', { name: r.group.name, room: r.group.room ?? '' });
    return { status: 'completed', notes: [info(text)] };
  },
};

function memberCommand(which: 'add' | 'remove'): AdhocCommand {
  const stage = async (ctx: AskerContext, v: { group?: string; jid?: string } = {}, reason?: string): Promise<Step> => {
    const all = await ctx.groups!.list();
    if (all.length === 0) return { status: 'completed', notes: [info(ctx.t('adhoc.groups.none'))] };
    const form = groupMemberForm(ctx.t, which, all, v);
    return reason ? retry(form, reason) : { status: 'executing', form };
  };
  return {
    node: which === 'add' ? NODE.groupAdd : NODE.groupRemove,
    name: which === 'add' ? 'Add a member to a group' : 'Remove a member from a group',
    key: which === 'add' ? 'groupAdd' : 'groupRemove',
    access: groupsAccess,
    start: (ctx) => stage(ctx),
    async submit(ctx, values) {
      const v = { group: singleValue(values, FIELD.group), jid: singleValue(values, FIELD.jid) };
      if (v.group === undefined) return stage(ctx, v, ctx.t('adhoc.groups.chooseGroup'));
      if (v.jid === undefined) return stage(ctx, v, ctx.t('adhoc.groups.enterJid', { domain: ctx.service.domain }));
      const r = which === 'add' ? await ctx.groups!.add(actor(ctx), v.group, v.jid) : await ctx.groups!.remove(actor(ctx), v.group, v.jid);
      if (!r.ok) return stage(ctx, v, localize(r, ctx.t));
      return { status: 'completed', notes: [info(ctx.t(`adhoc.groups.${which === 'add' ? 'added' : 'removed'}`, { name: r.group.name, jid: r.jid }))] };
    },
  };
}

export const groupAddCommand = memberCommand('add');
export const groupRemoveCommand = memberCommand('remove');

/** In the order disco#items lists them. */
export const INVITE_COMMANDS: readonly AdhocCommand[] = [
  inviteCommand, inviteOptionsCommand, createAccountCommand, resetCommand, listCommand, revokeCommand,
  groupsCommand, groupCreateCommand, groupAddCommand, groupRemoveCommand,
];
