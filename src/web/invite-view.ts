// What the web pages say about an invite, to the person invited (describe.ts
// speaks to the inviter). Plain strings: the templates escape everything.
import { formatExpiry, isNever, type Lang, type T, translator } from '../i18n/i18n.js';
import type { Invite, InviteState } from '../invites/types.js';

export interface InviteText {
  title: string;
  /** Paragraphs under the title. */
  lead: string[];
  /** What the new account will be (admin, roles), when the invite says. */
  roles?: string;
  /** Label of the link to the web form, when the invite has one. */
  formLabel?: string;
}

/** What the server can do for an invite, as the server seam knows it (undefined: the usual wording). */
export interface ServerCan {
  makesContacts?: boolean;
  grantsRoles?: boolean;
}

/**
 * "This account will be an administrator of DOMAIN", or the roles it gets; undefined for a plain
 * account. Where the server cannot give roles (no bridge, or ejabberd) they are the invite
 * service's only, and it says so.
 */
export function rolesText(invite: Invite, domain: string, t: T, can: ServerCan = {}): string | undefined {
  if (invite.kind === 'reset' || invite.kind === 'contact') return undefined;
  const roles = invite.roles ?? [];
  const named = roles.filter((r) => r !== 'registered').map((r) => t(`common.role.${r}`));
  if (!named.length) return undefined;
  if (can.grantsRoles === false) return t('web.invite.rolesHere', { domain, roles: named.join(', ') });
  if (roles.includes('admin')) return t('web.invite.roleAdmin', { domain });
  return t('web.invite.roles', { domain, roles: named.join(', ') });
}

export function inviteText(invite: Invite, domain: string, t: T, can: ServerCan = {}): InviteText {
  const inviter = invite.inviter ?? '';
  const roles = rolesText(invite, domain, t, can);
  const withRoles = (x: InviteText): InviteText => (roles ? { ...x, roles } : x);
  switch (invite.kind) {
    case 'account':
      return withRoles({
        title: t('web.invite.account.title', { domain }),
        lead: [
          t('web.invite.aboutServer', { domain }),
          invite.username
            ? t('web.invite.account.bound', { jid: `${invite.username}@${domain}` })
            : t('web.invite.account.free', { domain }),
        ],
        formLabel: t('web.invite.formLabel'),
      });
    case 'account-contact':
      return withRoles({
        title: t('web.invite.contact.title', { inviter }),
        lead: [
          t('web.invite.accountContact.about', { inviter, domain }),
          // Without a bridge nothing can make the contacts: the page does not promise them.
          t(can.makesContacts === false ? 'web.invite.accountContact.doesNoContacts' : 'web.invite.accountContact.does', { inviter, domain }),
        ],
        formLabel: t('web.invite.formLabel'),
      });
    case 'contact':
      return {
        title: t('web.invite.contact.title', { inviter }),
        lead: [t('web.invite.contact.about', { inviter }), t('web.invite.contact.does', { inviter })],
      };
    case 'reset':
      return {
        title: t('web.invite.reset.title'),
        lead: [t('web.invite.reset.does', { jid: `${invite.username}@${domain}` })],
        formLabel: t('web.invite.reset.formLabel'),
      };
  }
}

/** The HTTP status of the page for a token that cannot be used (its words: web.state.STATE). */
export const STATE_PAGE: Record<Exclude<InviteState, 'valid'>, { status: number }> = {
  unknown: { status: 404 },
  expired: { status: 410 },
  used: { status: 410 },
  revoked: { status: 410 },
};

/**
 * The page's sentence about the expiry (i18n.ts's one wording of it), in the page's language:
 * "Valid until 1 December 2026, 15:00 UTC (in 7 days)." or, for an invite that never
 * expires, its own sentence. The templates put it whole into `web.landing.validUntil`.
 */
export function validUntil(invite: Invite, now: Date, lang: Lang): string {
  const t = translator(lang);
  if (isNever(invite.expiresAt)) return t('web.landing.neverExpires');
  return t('web.landing.validUntilDate', { date: formatExpiry(invite.expiresAt, now, lang) });
}
