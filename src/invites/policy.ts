// Who may create which invite: Prosody's table (mod_invites_adhoc), as pure functions.
import type { InviteKind } from './types.js';

export interface PolicySettings {
  domain: string;
  allowUserInvites: boolean;
  allowContactInvites: boolean;
  maxInvitesPerUser: number;
  /** Invites a non-admin may create in 24 hours, revoked and used ones included (unset: no such limit). */
  maxInvitesPerDay?: number;
}

export interface Subject {
  /** Bare JID, or null for the local operator (CLI). */
  jid: string | null;
  admin: boolean;
  /** Invites this subject holds that can still be used. */
  pending: number;
  /** Invites this subject created in the last 24 hours, whatever became of them. */
  createdToday?: number;
}

export type RefusalCode =
  | 'foreign-domain' | 'not-admin' | 'contact-invites-disabled' | 'quota'
  | 'bad-username' | 'bad-uses' | 'not-found' | 'not-yours';

export type Decision = { ok: true } | { ok: false; code: RefusalCode; message: string };

export const allow: Decision = { ok: true };
export function refuse(code: RefusalCode, message: string): Decision & { ok: false } {
  return { ok: false, code, message };
}

export function isLocal(jid: string, domain: string): boolean {
  const [local, host, extra] = jid.split('@');
  return Boolean(local) && host === domain && extra === undefined;
}

/** Admins always may; otherwise what ALLOW_USER_INVITES says (Prosody's may_invite_new_users). */
export function mayInviteNewUsers(s: Subject, p: PolicySettings): boolean {
  return s.admin || p.allowUserInvites;
}

/** The kind a plain "invite" gives: a contact invite that also registers when allowed. */
export function contactKindFor(s: Subject, p: PolicySettings): 'contact' | 'account-contact' {
  return mayInviteNewUsers(s, p) ? 'account-contact' : 'contact';
}

export function mayCreate(kind: InviteKind, s: Subject, p: PolicySettings): Decision {
  if (s.jid === null) return kind === 'contact' || kind === 'account-contact'
    ? refuse('not-admin', 'Contact invites belong to an account; create them from that account.')
    : allow;
  if (!isLocal(s.jid, p.domain)) return refuse('foreign-domain', `Only accounts on ${p.domain} can create invites.`);
  if (s.admin) return allow;
  switch (kind) {
    case 'account':
    case 'reset':
      return refuse('not-admin', 'Only administrators can create account and password-reset invites.');
    case 'account-contact':
      if (!p.allowUserInvites) return refuse('not-admin', `Only administrators can invite new people to ${p.domain}.`);
    // falls through: account+contact invites are contact invites too
    case 'contact':
      if (!p.allowContactInvites) return refuse('contact-invites-disabled', 'Contact invites are turned off on this server.');
      if (s.pending >= p.maxInvitesPerUser) {
        return refuse('quota', `You already have ${s.pending} unused invites, the most allowed; revoke one first.`);
      }
      // Revoking does not give the place back here: create-and-revoke cannot grow the store.
      if (p.maxInvitesPerDay !== undefined && (s.createdToday ?? 0) >= p.maxInvitesPerDay) {
        return refuse('quota', `You have created ${s.createdToday} invites in the last 24 hours, the most allowed; try again tomorrow.`);
      }
      return allow;
  }
}
