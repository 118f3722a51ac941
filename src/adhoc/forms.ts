// The data forms of the invite commands: what is asked, and what is answered.
// Titles, labels and instructions are in the asker's language; vars, FORM_TYPE
// and option values never change (clients depend on them).
import type { Lang, T } from '../i18n/i18n.js';
import { describeListed, kindLabel } from '../invites/describe.js';
import type { CreatedInvite } from '../invites/service.js';
import type { Invite } from '../invites/types.js';
import { dataForm, dateTime, formTypeField } from '../xmpp/forms.js';
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
} as const;

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
}

/** `serverRoles` false: the server gives no roles (ejabberd, no bridge), so "admin" is of invites only. */
export function createAccountForm(t: T, v: AccountFormValues = {}, serverRoles = true): Element {
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
    ],
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
  { var: 'username', key: 'username' },
  { var: 'roles', key: 'roles' },
  { var: 'created-by', key: 'createdBy' },
] as const;

/**
 * One row per invite (XEP-0004 reported/item table); never a token, the store has none.
 * The same list as plain text in the instructions, one line per invite, for clients
 * that draw no tables (profanity, poezio).
 */
export function inviteTable(invites: readonly Invite[], now: Date, lang: Lang, t: T, viewer?: string): Element {
  return dataForm('result', {
    title: t('adhoc.form.list.result'),
    instructions: invites.map((i) => describeListed(i, now, lang, viewer)).join('\n'),
    reported: COLUMNS.map((c) => ({ var: c.var, label: t(`adhoc.form.column.${c.key}`), type: 'text-single' as const })),
    items: invites.map((i) => ({
      id: i.id,
      kind: kindLabel(i.kind, lang),
      expire: dateTime(i.expiresAt),
      uses: `${i.uses.length}/${i.maxUses}`,
      username: i.username,
      roles: i.roles.join(','),
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
