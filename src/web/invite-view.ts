// What the web pages say about an invite, to the person invited (describe.ts
// speaks to the inviter). Plain strings: the templates escape everything.
import { formatExpiry, type Lang, type T } from '../i18n/i18n.js';
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

/** "This account will be an administrator of DOMAIN", or the roles it gets; undefined for a plain account. */
export function rolesText(invite: Invite, domain: string, t: T): string | undefined {
  if (invite.kind === 'reset' || invite.kind === 'contact') return undefined;
  const roles = invite.roles ?? [];
  if (roles.includes('admin')) return t('web.invite.roleAdmin', { domain });
  const named = roles.filter((r) => r !== 'registered').map((r) => t(`common.role.${r}`));
  if (!named.length) return undefined;
  return t('web.invite.roles', { domain, roles: named.join(', ') });
}

export function inviteText(invite: Invite, domain: string, t: T): InviteText {
  const inviter = invite.inviter ?? '';
  const roles = rolesText(invite, domain, t);
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
          t('web.invite.accountContact.does', { inviter, domain }),
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

/** The one wording of an expiry (i18n.ts), in the page's language. */
export function validUntil(invite: Invite, now: Date, lang: Lang): string {
  return formatExpiry(invite.expiresAt, now, lang);
}
