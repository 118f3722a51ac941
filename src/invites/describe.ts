// Human sentences about invites, shared by every front end that shows text, in
// the reader's language (the catalogues' `common.invite`, `common.use`).
import { formatDuration, formatExpiry, isNever, type Lang, translator } from '../i18n/i18n.js';
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

/** At creation: "single use", "usable 3 times". */
function uses(inv: Invite, lang: Lang): string {
  const t = translator(lang);
  return inv.maxUses === 1 ? t('common.invite.singleUse') : t('common.invite.usesMax', { count: inv.maxUses });
}

/** In a list: "single use", "3 of 5 uses left" (a pending use counts as used: it holds its place). */
function usesLeft(inv: Invite, lang: Lang): string {
  const t = translator(lang);
  if (inv.maxUses === 1) return t('common.invite.singleUse');
  return t('common.invite.usesLeft', { count: Math.max(0, inv.maxUses - inv.uses.length), max: inv.maxUses });
}

/** The reply to a created invite: the URI alone on its own line. */
export function describeCreated(c: CreatedInvite, domain: string, now: Date, lang: Lang): string {
  const t = translator(lang);
  const inv = c.invite;
  const never = isNever(inv.expiresAt);
  const sentence = t(never ? 'common.invite.createdNever' : 'common.invite.created', {
    what: what(inv, domain, lang), expiry: formatExpiry(inv.expiresAt, now, lang), uses: uses(inv, lang),
  });
  // The lifetime a user asked for was longer than they may give: say what it is.
  const lifetime = Math.round((Date.parse(inv.expiresAt) - Date.parse(inv.createdAt)) / 1000);
  const more = [
    inv.groups?.length ? t('common.invite.joinsGroups', { groups: inv.groups.join(', '), count: inv.groups.length }) : '',
    inv.note ? t('common.invite.noteCreated', { note: inv.note }) : '',
    c.capped && !never ? t('common.invite.capped', { lifetime: formatDuration(lifetime, lang) }) : '',
  ].filter(Boolean);
  return [
    [sentence, ...more].join(' '),
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
    inv.groups?.length && t('common.invite.groups', { groups: inv.groups.join(', '), count: inv.groups.length }),
    inv.createdBy !== viewer && inv.createdBy,
  ].filter(Boolean).join(', ');
  const vars = { id: inv.id, kind: kindLabel(inv.kind, lang), expiry: formatExpiry(inv.expiresAt, now, lang), uses: usesLeft(inv, lang) };
  const line = t(isNever(inv.expiresAt) ? 'common.invite.listedNever' : 'common.invite.listed', vars);
  // The note last: it is free text (commas and all). Lists are for the creator and admins, never the invitee.
  const note = inv.note ? `  ${t('common.invite.note', { note: inv.note })}` : '';
  return `${extra ? `${line}  (${extra})` : line}${note}`;
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
