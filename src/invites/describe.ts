// Human sentences about invites, shared by every front end that shows text, in
// the reader's language (the catalogues' `common.invite`, `common.use`).
import { formatExpiry, type Lang, translator } from '../i18n/i18n.js';
import type { CreatedInvite, UsedEvent } from './service.js';
import type { Invite, InviteKind } from './types.js';

/** The catalogue key of each kind's name (`common.kind.*`). */
export const KIND_KEY: Record<InviteKind, string> = {
  account: 'account',
  contact: 'contact',
  'account-contact': 'accountContact',
  reset: 'reset',
};

/** "account", "contact", "account+contact", "password reset", in `lang`. */
export function kindLabel(kind: InviteKind, lang: Lang): string {
  return translator(lang)(`common.kind.${KIND_KEY[kind]}`);
}

function what(inv: Invite, domain: string, lang: Lang): string {
  const t = translator(lang);
  switch (inv.kind) {
    case 'account': {
      const user = inv.username ? 'User' : '';
      const vars = { domain, username: inv.username ?? '' };
      if (inv.roles.includes('admin')) return t(`common.invite.account${user}Admin`, vars);
      if (inv.roles.length > 0) return t(`common.invite.account${user}Roles`, { ...vars, roles: inv.roles.map((r) => roleName(r, lang)).join(', '), count: inv.roles.length });
      return t(`common.invite.account${user}`, vars);
    }
    case 'contact':
      return t('common.invite.contact');
    case 'account-contact':
      return t('common.invite.accountContact', { domain });
    case 'reset':
      return t('common.invite.reset', { jid: `${inv.username}@${domain}` });
  }
}

function uses(inv: Invite, lang: Lang): string {
  const t = translator(lang);
  return inv.maxUses === 1 ? t('common.invite.singleUse') : t('common.invite.uses', { used: inv.uses.length, max: inv.maxUses });
}

/** The reply to a created invite: the URI alone on its own line. */
export function describeCreated(c: CreatedInvite, domain: string, now: Date, lang: Lang): string {
  const t = translator(lang);
  const inv = c.invite;
  return [
    t('common.invite.created', { what: what(inv, domain, lang), expiry: formatExpiry(inv.expiresAt, now, lang), uses: uses(inv, lang) }),
    c.uri,
    ...(c.landingUrl ? [t('common.invite.web', { url: c.landingUrl })] : []),
    t('common.invite.share', { id: inv.id }),
  ].join('\n');
}

/** A role in words ("Mitglied"); one the catalogues do not name, as it is. */
export function roleName(role: string, lang: Lang): string {
  return translator(lang)(`common.role.${role}`, { defaultValue: role });
}

/**
 * One line of an invite listing; never includes the token (the store has only its hash).
 * Its creator is named unless that is `viewer` (a list of one's own invites, which needs no name on each line).
 */
export function describeListed(inv: Invite, now: Date, lang: Lang, viewer?: string): string {
  const t = translator(lang);
  const extra = [
    inv.username && t('common.invite.user', { username: inv.username }),
    // As --role takes them: a list is for the admins who type them.
    inv.roles.length > 0 && t('common.invite.roles', { roles: inv.roles.join(',') }),
    inv.createdBy !== viewer && inv.createdBy,
  ].filter(Boolean).join(', ');
  const line = t('common.invite.listed', { id: inv.id, kind: kindLabel(inv.kind, lang), expiry: formatExpiry(inv.expiresAt, now, lang), uses: uses(inv, lang) });
  return extra ? `${line}  (${extra})` : line;
}

/**
 * What the inviter is told when their invite was used. `contactsMade`: false when the
 * server did not (or cannot) make them contacts; `rolesOnServer`: false when the roles
 * are this service's only (no bridge, or ejabberd, whose admins are in its config).
 */
export function describeUse(e: UsedEvent, contactsMade = true, lang: Lang = 'en', rolesOnServer = true): string {
  const t = translator(lang);
  const { invite: inv, usedBy } = e;
  const vars = { jid: usedBy, id: inv.id };
  if (e.purpose === 'roster') return t('common.use.roster', vars);
  switch (inv.kind) {
    case 'reset':
      return t('common.use.reset', vars);
    case 'account-contact':
      return t(contactsMade ? 'common.use.joinedContacts' : 'common.use.joinedNoContacts', vars);
    default:
      if (!inv.roles.includes('admin')) return t('common.use.joined', vars);
      return t(rolesOnServer ? 'common.use.joinedAdmin' : 'common.use.joinedAdminHere', vars);
  }
}

/** Who hears about a use: the inviter, or the admin who made the invite (never the CLI). */
export function toldOfUse(inv: Invite): string | undefined {
  const who = inv.inviter ?? inv.createdBy;
  return who.includes('@') ? who : undefined;
}
