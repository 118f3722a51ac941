// Who may create which invite: Prosody's table (mod_invites_adhoc), as pure functions.
import { type T, translator } from '../i18n/i18n.js';
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

/** A refusal's sentence: `message` in English (logs, CLI), `key` and `vars` to say it in the person's language. */
export interface Said {
  message: string;
  key: string;
  vars?: Record<string, string | number>;
}

export type Decision = { ok: true } | ({ ok: false; code: RefusalCode } & Said);

export const allow: Decision = { ok: true };

/** A sentence of the catalogue's `common` section, with its English wording. */
export function said(key: string, vars?: Record<string, string | number>): Said {
  return { message: translator('en')(`common.${key}`, vars), key: `common.${key}`, ...(vars ? { vars } : {}) };
}

export function refuse(code: RefusalCode, key: string, vars?: Record<string, string | number>): Decision & { ok: false } {
  return { ok: false, code, ...said(key, vars) };
}

/** A refusal (or any Said) in `lang`. */
export function localize(s: Said, t: T): string {
  return t(s.key, s.vars);
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
    ? refuse('not-admin', 'refusal.contactNeedsAccount')
    : allow;
  if (!isLocal(s.jid, p.domain)) return refuse('foreign-domain', 'refusal.foreignDomain', { domain: p.domain });
  if (s.admin) return allow;
  switch (kind) {
    case 'account':
    case 'reset':
      return refuse('not-admin', 'refusal.adminKinds');
    case 'account-contact':
      if (!p.allowUserInvites) return refuse('not-admin', 'refusal.newPeople', { domain: p.domain });
    // falls through: account+contact invites are contact invites too
    case 'contact':
      if (!p.allowContactInvites) return refuse('contact-invites-disabled', 'refusal.contactDisabled');
      // A limit of 0 turns users' invites off: say so, not "you already have 0".
      if (p.maxInvitesPerUser === 0 || p.maxInvitesPerDay === 0) return refuse('contact-invites-disabled', 'refusal.userInvitesOff');
      if (s.pending >= p.maxInvitesPerUser) {
        return refuse('quota', 'refusal.quotaPending', { count: s.pending });
      }
      // Revoking does not give the place back here: create-and-revoke cannot grow the store.
      if (p.maxInvitesPerDay !== undefined && (s.createdToday ?? 0) >= p.maxInvitesPerDay) {
        return refuse('quota', 'refusal.quotaDay', { count: s.createdToday ?? 0 });
      }
      return allow;
  }
}
