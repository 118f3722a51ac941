import type { Role } from './roles.js';

export type { Role } from './roles.js';

/** What using an invite does (the kinds of DESIGN.md). */
export type InviteKind = 'account' | 'contact' | 'account-contact' | 'reset';

export interface InviteUse {
  /** Bare JID of the account that used the invite. */
  jid: string;
  /** ISO 8601 UTC. */
  at: string;
  /**
   * Written before the server makes the account (or approves the contact), and
   * cleared once it confirms. A pending use counts as a use: if anything is lost
   * in between, the token stays spent until the account's existence is checked.
   */
  pending?: 'register' | 'roster';
  /** While pending: the reservation holding it, so any instance can find this use. */
  ref?: string;
  /** While pending, on a shared store: the instance that holds it (see InviteService.instance). */
  by?: string;
}

export interface Invite {
  /** Short public id, for listing and revoking; never enough to use the invite. */
  id: string;
  /** SHA-256 of the token (base64url); the token itself is never stored. */
  tokenHash: string;
  kind: InviteKind;
  /** Bare JID of whoever created it, or "cli" / "first-run" for the local operator. */
  createdBy: string;
  /** contact / account-contact: the local user who becomes the contact. */
  inviter?: string;
  /** account: the username it is bound to, if any; reset: the account to reset. */
  username?: string;
  /** Roles the new account receives, here and on the server (most powerful first). */
  roles: Role[];
  maxUses: number;
  uses: InviteUse[];
  /** Shown to whoever lists invites (admins, the creator), never to the invitee. */
  note?: string;
  /** Names of the groups the new account joins (account kinds). */
  groups?: string[];
  createdAt: string;
  /** ISO 8601 UTC; NEVER for an invite that does not expire. */
  expiresAt: string;
  revokedAt?: string;
}

/** Why an invite cannot be used; distinguished internally, told to users with care. */
export type InviteState = 'valid' | 'unknown' | 'expired' | 'used' | 'revoked';

/** Who is asking: an XMPP account, or the local operator (the CLI, or npm start's first-run invite), who may do everything. */
export type Actor = { jid: string } | { system: 'cli' | 'first-run' } | { system: 'api'; key: string };

/** The expiry of an invite that never expires: a time every store keeps, and every front end says as "never". */
export const NEVER = '9999-12-31T23:59:59.999Z';
