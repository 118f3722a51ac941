// Human sentences about invites, shared by every front end that shows text.
import { formatDistanceStrict } from 'date-fns';
import type { CreatedInvite, UsedEvent } from './service.js';
import type { Invite, InviteKind } from './types.js';

export const KIND_LABEL: Record<InviteKind, string> = {
  account: 'account',
  contact: 'contact',
  'account-contact': 'account+contact',
  reset: 'password reset',
};

/** "2026-11-28 14:03 UTC (in 7 days)" */
export function formatExpiry(expiresAt: string | Date, now: Date): string {
  const at = new Date(expiresAt);
  const utc = `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return `${utc} (${formatDistanceStrict(at, now, { addSuffix: true })})`;
}

function what(inv: Invite, domain: string): string {
  switch (inv.kind) {
    case 'account': {
      const who = inv.username ? ` for the username "${inv.username}"` : '';
      const admin = inv.roles.includes('admin') ? ', for a new administrator'
        : inv.roles.length > 0 ? `, with the role${inv.roles.length > 1 ? 's' : ''} ${inv.roles.join(', ')}` : '';
      return `Account invite${who}${admin}: it creates an account on ${domain}`;
    }
    case 'contact':
      return `Contact invite: whoever opens it becomes your contact`;
    case 'account-contact':
      return `Contact invite: it creates an account on ${domain} if needed, and makes its owner your contact`;
    case 'reset':
      return `Password reset invite for ${inv.username}@${domain}: it sets a new password`;
  }
}

function uses(inv: Invite): string {
  return inv.maxUses === 1 ? 'single use' : `${inv.uses.length}/${inv.maxUses} uses`;
}

/** The reply to a created invite: the URI alone on its own line. */
export function describeCreated(c: CreatedInvite, domain: string, now: Date): string {
  const inv = c.invite;
  return [
    `${what(inv, domain)}. Valid until ${formatExpiry(inv.expiresAt, now)}, ${uses(inv)}.`,
    c.uri,
    ...(c.landingUrl ? [`Or open it on the web: ${c.landingUrl}`] : []),
    `Share it only with the person you invite. Id ${inv.id}: "revoke ${inv.id}" cancels it.`,
  ].join('\n');
}

/** One line of an invite listing; never includes the token (the store has only its hash). */
export function describeListed(inv: Invite, now: Date): string {
  const extra = [
    inv.username && `user ${inv.username}`,
    inv.roles.length > 0 && `roles ${inv.roles.join(',')}`,
    inv.createdBy,
  ].filter(Boolean).join(', ');
  return `${inv.id}  ${KIND_LABEL[inv.kind]}  expires ${formatExpiry(inv.expiresAt, now)}  ${uses(inv)}  (${extra})`;
}

/** What the inviter is told when their invite was used. */
export function describeUse(e: UsedEvent, contactsMade = true): string {
  const { invite: inv, usedBy } = e;
  const id = `invite ${inv.id}`;
  if (e.purpose === 'roster') return `${usedBy} added you as a contact with your ${id}.`;
  switch (inv.kind) {
    case 'reset':
      return `The password of ${usedBy} was reset with ${id}.`;
    case 'account-contact':
      return contactsMade
        ? `${usedBy} joined with your ${id}; you are now contacts.`
        : `${usedBy} joined with your ${id}, but could not be added to your contacts: add them yourself.`;
    default: {
      const admin = inv.roles.includes('admin') ? ' They are an administrator now.' : '';
      return `${usedBy} joined with your ${id}.${admin}`;
    }
  }
}

/** Who hears about a use: the inviter, or the admin who made the invite (never the CLI). */
export function toldOfUse(inv: Invite): string | undefined {
  const who = inv.inviter ?? inv.createdBy;
  return who.includes('@') ? who : undefined;
}
