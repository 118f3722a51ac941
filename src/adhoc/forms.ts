// The data forms of the invite commands: what is asked, and what is answered.
import { describeListed, KIND_LABEL } from '../invites/describe.js';
import type { CreatedInvite } from '../invites/service.js';
import type { Invite } from '../invites/types.js';
import { dataForm, dateTime, formTypeField } from '../xmpp/forms.js';
import type { Element } from '../xmpp/stanzas.js';

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
export const ROLE_CHOICES = [
  { value: 'none', label: 'Ordinary account' },
  { value: 'admin', label: 'Administrator (of the server and of invites)' },
  { value: 'member', label: 'Member' },
  { value: 'registered', label: 'Registered user' },
  { value: 'guest', label: 'Guest (limited)' },
] as const;
export type RoleChoice = (typeof ROLE_CHOICES)[number]['value'];

/**
 * Readable both by XEP-0401 v0.6 clients (FORM_TYPE, typed fields) and by those
 * written against Prosody (same vars `uri`, `landing-url`, `expire`).
 */
export function invitationResult(c: CreatedInvite): Element {
  return dataForm('result', {
    title: 'Your invite has been created',
    fields: [
      formTypeField(NS_INVITATION),
      { var: 'uri', type: 'text-single', label: 'Invite URI', values: [c.uri] },
      ...(c.landingUrl ? [{ var: 'landing-url', type: 'text-single' as const, label: 'Invite web page', values: [c.landingUrl] }] : []),
      { var: 'expire', type: 'text-single', label: 'Invite valid until', values: [dateTime(c.invite.expiresAt)] },
    ],
  });
}

export interface AccountFormValues {
  username?: string;
  rosterSubscription?: boolean;
  role?: string;
}

export function createAccountForm(v: AccountFormValues = {}): Element {
  return dataForm('form', {
    title: 'Create new account invite',
    instructions: 'Leave the username empty to let the invited person choose one.',
    fields: [
      { var: FIELD.username, type: 'text-single', label: 'Username', desc: 'The invite can only create this account.', values: echo(v.username) },
      {
        var: FIELD.rosterSubscription, type: 'boolean', label: 'Add the new account to my contacts',
        desc: 'Not with a username or a role.', values: [v.rosterSubscription ? '1' : '0'],
      },
      { var: FIELD.role, type: 'list-single', label: 'Role', values: [v.role ?? 'none'], options: ROLE_CHOICES },
    ],
  });
}

export function resetForm(accountJid?: string): Element {
  return dataForm('form', {
    title: 'Create password reset invite',
    instructions: 'The invite lets whoever opens it set a new password for this account.',
    fields: [{ var: FIELD.accountJid, type: 'jid-single', label: 'Account', required: true, values: echo(accountJid) }],
  });
}

export function listChoiceForm(): Element {
  return dataForm('form', {
    title: 'List pending invites',
    fields: [{ var: FIELD.all, type: 'boolean', label: "Everyone's invites, not only mine", values: ['0'] }],
  });
}

const COLUMNS = [
  { var: 'id', label: 'Id' },
  { var: 'kind', label: 'Kind' },
  { var: 'expire', label: 'Valid until' },
  { var: 'uses', label: 'Uses' },
  { var: 'username', label: 'Username' },
  { var: 'roles', label: 'Roles' },
  { var: 'created-by', label: 'Created by' },
] as const;

/** One row per invite (XEP-0004 reported/item table); never a token, the store has none. */
export function inviteTable(invites: readonly Invite[]): Element {
  return dataForm('result', {
    title: 'Pending invites',
    reported: COLUMNS.map((c) => ({ ...c, type: 'text-single' as const })),
    items: invites.map((i) => ({
      id: i.id,
      kind: KIND_LABEL[i.kind],
      expire: dateTime(i.expiresAt),
      uses: `${i.uses.length}/${i.maxUses}`,
      username: i.username,
      roles: i.roles.join(','),
      'created-by': i.createdBy,
    })),
  });
}

/** A choice of the invites, or (undefined: too many to list) a field to type the id in. */
export function revokeForm(invites: readonly Invite[] | undefined, now: Date): Element {
  if (!invites) {
    return dataForm('form', {
      title: 'Revoke an invite',
      instructions: 'Type the id of the invite to revoke ("List pending invites" shows them).',
      fields: [{ var: FIELD.id, type: 'text-single', label: 'Invite id', required: true }],
    });
  }
  return dataForm('form', {
    title: 'Revoke an invite',
    fields: [{
      var: FIELD.id, type: 'list-single', label: 'Invite', required: true,
      options: invites.map((i) => ({ value: i.id, label: describeListed(i, now) })),
    }],
  });
}
