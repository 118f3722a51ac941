// The one seam between the service and the XMPP server: everything the service
// asks of a server goes through an XmppServer. One adapter per server kind:
// prosody/adapter.ts and ejabberd/adapter.ts (our bridge loaded), xep0133/adapter.ts
// (any server, or one of those without the bridge). The invite core decides; an
// adapter only says what the server did.
import type { ServerAccounts } from '../invites/service.js';
import type { Role } from '../invites/types.js';

/** Which adapter speaks for the server. */
export type AdapterKind = 'prosody' | 'ejabberd' | 'xep0133';

/** The server software, as it said (bridge `info`, XEP-0092 or its disco#info identity). */
export interface Software {
  /** Lower case: 'prosody', 'ejabberd', or what another server calls itself. */
  name: string;
  version?: string;
  /** Where it was learnt. */
  source: 'bridge' | 'xep0092' | 'disco';
}

/**
 * How an account change ended. `message` is the server's own words (safe to log and
 * show: never contains the password). `forbidden`: the bot may not do this (not an
 * admin of the server); `unavailable`: no answer, nothing known to have changed.
 */
export type AdminResult =
  | { ok: true }
  | { ok: false; reason: 'exists' | 'no-such-user' | 'forbidden' | 'refused' | 'unavailable'; message: string };

/** What the web form needs from the server: a new account, or a new password for an existing one. */
export interface AccountAdmin {
  addUser(username: string, password: string): Promise<AdminResult>;
  /** Refused (no-such-user) without sending the password when the account is known not to exist. */
  changePassword(username: string, password: string): Promise<AdminResult>;
}

/** A follow-up step on the server. 'unsupported': this server (through this adapter) cannot do it, so nothing was tried; `why` says so for the log. */
export type StepOutcome = { outcome: 'done' } | { outcome: 'failed' | 'unsupported'; why: string };

export interface XmppServer extends ServerAccounts, AccountAdmin {
  readonly kind: AdapterKind;
  readonly software?: Software;
  /** Whether makeContacts() can work here (a bridge is loaded). */
  readonly makesContacts: boolean;
  /** Whether grantRoles() gives roles on the server itself (Prosody's bridge only). */
  readonly grantsRoles: boolean;
  /** Whether addBookmark() can work here (a bridge is loaded; the server's PEP is then asked). */
  readonly bookmarks: boolean;
  /**
   * Make two local users (bare JIDs) mutual contacts. With `group`, each is in the other's
   * roster under that roster group as well (added to the groups the item has).
   */
  makeContacts(a: string, b: string, group?: string): Promise<StepOutcome>;
  /**
   * Add a chat room (bare JID) to a local account's bookmarks (XEP-0402, autojoin), named
   * `name`. A bookmark of that room the account has already is left as it is ('done').
   */
  addBookmark(jid: string, room: string, name: string): Promise<StepOutcome>;
  /** Give an existing account the invite's roles on the server. */
  grantRoles(jid: string, roles: readonly Role[]): Promise<StepOutcome>;
}
