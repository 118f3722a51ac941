// The data forms of the invite commands: what is asked, and what is answered.
// Titles, labels and instructions are in the asker's language; vars, FORM_TYPE
// and option values never change (clients depend on them).
import type { Group } from '../groups/types.js';
import { formatDuration, isNever, type Lang, type T } from '../i18n/i18n.js';
import { describeListed, kindLabel } from '../invites/describe.js';
import { type Lifetime, lifetimeText, parseLifetime } from '../invites/lifetime.js';
import type { CreatedInvite } from '../invites/service.js';
import type { Invite } from '../invites/types.js';
import { dataForm, dateTime, type Field, formTypeField } from '../xmpp/forms.js';
import { type Element, xml } from '../xmpp/stanzas.js';

/** XEP-0401 v0.6: the registered FORM_TYPE of an invitation result. */
export const NS_INVITATION = 'urn:xmpp:invite#invitation';

/** Echoed values stay within what a username or JID can be. */
const MAX_ECHO = 1023;
const echo = (v: string | undefined) => (v === undefined ? [] : [v.slice(0, MAX_ECHO)]);

/** Field names (vars) of our forms. */
export const FIELD = {
  username: 'username',
  rosterSubscription: 'roster-subscription',
  role: 'role',
  accountJid: 'accountjid',
  all: 'all',
  id: 'id',
  /** The per-invite options, named as the bot's and the CLI's --expires-after, --uses, --note, --group. */
  expiresAfter: 'expires-after',
  uses: 'uses',
  note: 'note',
  groups: 'groups',
  /** The group commands. */
  name: 'name',
  room: 'room',
  group: 'group',
  jid: 'jid',
} as const;

/** The lifetimes offered (list-single: Gajim and Conversations draw a menu); admins also get `never`. */
export const LIFETIME_CHOICES = ['1h', '1d', '1w', '4w'] as const;

export interface LifetimeChoice {
  /** As parseLifetime reads it: `1d`, `never`. */
  value: string;
  label: string;
}

/**
 * The lifetimes to choose from, in words, with `fallback` (INVITE_EXPIRY, or RESET_EXPIRY)
 * among them: the choices that are no longer than `max` (a user's cap), then `never` for admins.
 */
export function lifetimeChoices(t: T, lang: Lang, fallback: number, opts: { max?: number; never?: boolean } = {}): LifetimeChoice[] {
  const seconds = new Set<number>([...LIFETIME_CHOICES.map((c) => parseLifetime(c) as number), fallback]);
  const ordered = [...seconds].filter((s) => opts.max === undefined || s <= opts.max).sort((a, b) => a - b);
  return [
    ...ordered.map((s) => ({ value: lifetimeText(s), label: formatDuration(s, lang) })),
    ...(opts.never ? [{ value: 'never', label: t('adhoc.form.lifetime.never') }] : []),
  ];
}

/** The lifetime field: a menu of choices, `value` chosen (as parseLifetime writes it). */
function lifetimeField(t: T, choices: readonly LifetimeChoice[], value: string): Field {
  return {
    var: FIELD.expiresAfter, type: 'list-single', label: t('adhoc.form.lifetime.label'), desc: t('adhoc.form.lifetime.desc'),
    values: [value], options: choices.map((c) => ({ value: c.value, label: c.label })),
  };
}

function noteField(t: T, note?: string): Field {
  return { var: FIELD.note, type: 'text-single', label: t('adhoc.form.note.label'), desc: t('adhoc.form.note.desc'), values: echo(note) };
}

/** A lifetime as typed or chosen; undefined when it is no lifetime. */
export function lifetimeValue(text: string | undefined): Lifetime | undefined {
  return text === undefined ? undefined : parseLifetime(text);
}

// `none` leaves the server's default role; the others are given on the server too.
export const ROLE_CHOICES = ['none', 'admin', 'member', 'registered', 'guest'] as const;
export type RoleChoice = (typeof ROLE_CHOICES)[number];

/**
 * Readable both by XEP-0401 v0.6 clients (FORM_TYPE, typed fields) and by those
 * written against Prosody (same vars `uri`, `landing-url`, `expire`).
 */
export function invitationResult(c: CreatedInvite, t: T): Element {
  return dataForm('result', {
    title: t('adhoc.form.invitation.title'),
    fields: [
      formTypeField(NS_INVITATION),
      { var: 'uri', type: 'text-single', label: t('adhoc.form.invitation.uri'), values: [c.uri] },
      ...(c.landingUrl ? [{ var: 'landing-url', type: 'text-single' as const, label: t('adhoc.form.invitation.landing'), values: [c.landingUrl] }] : []),
      { var: 'expire', type: 'text-single', label: t('adhoc.form.invitation.expire'), values: [dateTime(c.invite.expiresAt)] },
    ],
  });
}

export interface AccountFormValues {
  username?: string;
  rosterSubscription?: boolean;
  role?: string;
  expiresAfter?: string;
  uses?: string;
  note?: string;
  groups?: string[];
}

/** What the account form offers besides roles: the lifetimes, and the groups there are. */
export interface AccountFormChoices {
  lifetimes: readonly LifetimeChoice[];
  /** The lifetime chosen unless another is: INVITE_EXPIRY. */
  defaultLifetime: string;
  groups: readonly Group[];
}

/** `serverRoles` false: the server gives no roles (ejabberd, no bridge), so "admin" is of invites only. */
export function createAccountForm(t: T, v: AccountFormValues = {}, serverRoles = true, choices?: AccountFormChoices): Element {
  return dataForm('form', {
    title: t('adhoc.form.account.title'),
    instructions: t('adhoc.form.account.instructions'),
    fields: [
      { var: FIELD.username, type: 'text-single', label: t('adhoc.form.account.username'), desc: t('adhoc.form.account.usernameDesc'), values: echo(v.username) },
      {
        var: FIELD.rosterSubscription, type: 'boolean', label: t('adhoc.form.account.roster'),
        desc: t('adhoc.form.account.rosterDesc'), values: [v.rosterSubscription ? '1' : '0'],
      },
      {
        var: FIELD.role, type: 'list-single', label: t('adhoc.form.account.role'), values: [v.role ?? 'none'],
        options: ROLE_CHOICES.map((value) => ({ value, label: t(value === 'admin' && !serverRoles ? 'adhoc.form.role.adminHere' : `adhoc.form.role.${value}`) })),
      },
      ...(choices ? [
        lifetimeField(t, choices.lifetimes, v.expiresAfter ?? choices.defaultLifetime),
        { var: FIELD.uses, type: 'text-single' as const, label: t('adhoc.form.uses.label'), desc: t('adhoc.form.uses.desc'), values: [v.uses?.slice(0, 10) ?? '1'] },
        noteField(t, v.note),
        ...(choices.groups.length ? [{
          var: FIELD.groups, type: 'list-multi' as const, label: t('adhoc.form.groups.label'), desc: t('adhoc.form.groups.desc'),
          // Only values still offered: a group deleted meanwhile is not shown chosen.
          values: (v.groups ?? []).filter((g) => choices.groups.some((c) => c.name === g)), options: choices.groups.map((g) => ({ value: g.name, label: g.name })),
        }] : []),
      ] : []),
    ],
  });
}

/** The contact invite with options: how long it lasts, and a note for oneself. */
export function contactInviteForm(t: T, lifetimes: readonly LifetimeChoice[], v: { expiresAfter: string; note?: string }): Element {
  return dataForm('form', {
    title: t('adhoc.form.contact.title'),
    instructions: t('adhoc.form.contact.instructions'),
    fields: [lifetimeField(t, lifetimes, v.expiresAfter), noteField(t, v.note)],
  });
}

export function groupCreateForm(t: T, v: { name?: string; room?: string } = {}): Element {
  return dataForm('form', {
    title: t('adhoc.form.groupCreate.title'),
    instructions: t('adhoc.form.groupCreate.instructions'),
    fields: [
      { var: FIELD.name, type: 'text-single', label: t('adhoc.form.groupCreate.name'), required: true, values: echo(v.name) },
      { var: FIELD.room, type: 'jid-single', label: t('adhoc.form.groupCreate.room'), desc: t('adhoc.form.groupCreate.roomDesc'), values: echo(v.room) },
    ],
  });
}

/** Add (or remove) a member: which group, which account. */
export function groupMemberForm(t: T, which: 'add' | 'remove', groups: readonly Group[], v: { group?: string; jid?: string } = {}): Element {
  return dataForm('form', {
    title: t(`adhoc.form.group.${which}Title`),
    fields: [
      {
        var: FIELD.group, type: 'list-single', label: t('adhoc.form.group.group'), required: true, values: echo(v.group),
        options: groups.map((g) => ({ value: g.name, label: g.members.length ? `${g.name} (${g.members.length})` : g.name })),
      },
      { var: FIELD.jid, type: 'jid-single', label: t('adhoc.form.group.jid'), required: true, values: echo(v.jid) },
    ],
  });
}

const GROUP_COLUMNS = ['name', 'room', 'count', 'members'] as const;

/** The groups as a table, and as text lines in the instructions (for clients that draw no tables). */
export function groupTable(groups: readonly Group[], t: T): Element {
  return dataForm('result', {
    title: t('adhoc.form.groups.result'),
    instructions: groups.map((g) => `${g.name}  ${g.room ?? '-'}  ${t('adhoc.groups.members', { count: g.members.length })}${g.members.length ? `: ${g.members.join(', ')}` : ''}`).join('\n'),
    reported: GROUP_COLUMNS.map((c) => ({ var: c, label: t(`adhoc.form.groups.column.${c}`), type: 'text-single' as const })),
    items: groups.map((g) => ({ name: g.name, room: g.room ?? '', count: String(g.members.length), members: g.members.join(', ') })),
  });
}

export function resetForm(t: T, accountJid?: string): Element {
  return dataForm('form', {
    title: t('adhoc.form.reset.title'),
    instructions: t('adhoc.form.reset.instructions'),
    fields: [{ var: FIELD.accountJid, type: 'jid-single', label: t('adhoc.form.reset.account'), required: true, values: echo(accountJid) }],
  });
}

export function listChoiceForm(t: T): Element {
  return dataForm('form', {
    title: t('adhoc.form.list.title'),
    fields: [{ var: FIELD.all, type: 'boolean', label: t('adhoc.form.list.all'), values: ['0'] }],
  });
}

const COLUMNS = [
  { var: 'id', key: 'id' },
  { var: 'kind', key: 'kind' },
  { var: 'expire', key: 'expire' },
  { var: 'uses', key: 'uses' },
  { var: 'uses-left', key: 'usesLeft' },
  { var: 'username', key: 'username' },
  { var: 'roles', key: 'roles' },
  { var: 'groups', key: 'groups' },
  { var: 'note', key: 'note' },
  { var: 'created-by', key: 'createdBy' },
] as const;

/**
 * One row per invite (XEP-0004 reported/item table); never a token, the store has none.
 * The same list as plain text in the instructions, one line per invite, for clients
 * that draw no tables (profanity, poezio). An invite that never expires says so in words.
 */
export function inviteTable(invites: readonly Invite[], now: Date, lang: Lang, t: T, viewer?: string): Element {
  return dataForm('result', {
    title: t('adhoc.form.list.result'),
    instructions: invites.map((i) => describeListed(i, now, lang, viewer)).join('\n'),
    reported: COLUMNS.map((c) => ({ var: c.var, label: t(`adhoc.form.column.${c.key}`), type: 'text-single' as const })),
    items: invites.map((i) => ({
      id: i.id,
      kind: kindLabel(i.kind, lang),
      expire: isNever(i.expiresAt) ? t('common.neverExpires') : dateTime(i.expiresAt),
      uses: `${i.uses.length}/${i.maxUses}`,
      'uses-left': String(Math.max(0, i.maxUses - i.uses.length)),
      username: i.username,
      roles: i.roles.join(','),
      groups: (i.groups ?? []).join(', '),
      note: i.note ?? '',
      'created-by': i.createdBy,
    })),
  });
}

/** A choice of the invites, or (undefined: too many to list) a field to type the id in. */
export function revokeForm(invites: readonly Invite[] | undefined, now: Date, lang: Lang, t: T, viewer?: string): Element {
  if (!invites) {
    return dataForm('form', {
      title: t('adhoc.form.revoke.title'),
      instructions: t('adhoc.form.revoke.typeId'),
      fields: [{ var: FIELD.id, type: 'text-single', label: t('adhoc.form.revoke.id'), required: true }],
    });
  }
  return dataForm('form', {
    title: t('adhoc.form.revoke.title'),
    fields: [{
      var: FIELD.id, type: 'list-single', label: t('adhoc.form.revoke.choice'), required: true,
      options: invites.map((i) => ({ value: i.id, label: describeListed(i, now, lang, viewer) })),
    }],
  });
}

/**
 * A form given back because of `reason`: the reason also becomes the first line of its
 * instructions, for clients that show no notes.
 */
export function withReason(form: Element, reason: string): Element {
  const old = form.getChild('instructions');
  const text = old?.text() ? `${reason}\n${old.text()}` : reason;
  if (old) form.remove(old);
  const el = xml('instructions', {}, text);
  const title = form.getChild('title');
  form.children.splice(title ? form.children.indexOf(title) + 1 : 0, 0, el);
  (el as Element & { parent?: Element }).parent = form;
  return form;
}
