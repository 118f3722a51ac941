// What the Prosody and ejabberd adapters share: our bridge (through the
// component) answers account, nodeprep, befriend and bookmark; accounts and passwords
// are still made with XEP-0133 by the bot (the bridge has no such call).
import type { Component } from '../component/component.js';
import type { Role } from '../invites/types.js';
import type { AdminCommands } from '../xmpp/admin-commands.js';
import { changeExistingPassword } from './reset-guard.js';
import type { AdapterKind, AdminResult, Software, StepOutcome, XmppServer } from './server.js';

/** `bookmark` is optional: a bridge without it (a stand-in in tests) bookmarks nothing. */
export type BridgeCalls = Pick<Component, 'account' | 'nodeprep' | 'grant' | 'befriend'> & Partial<Pick<Component, 'bookmark'>>;

/** The stanza error condition of a failed bridge call, if it was one. */
function conditionOf(e: unknown): string | undefined {
  const c = (e as { condition?: unknown }).condition;
  return typeof c === 'string' ? c : undefined;
}

export abstract class BridgedServer implements XmppServer {
  abstract readonly kind: AdapterKind;
  abstract readonly grantsRoles: boolean;
  readonly makesContacts = true;

  constructor(
    protected readonly bridge: BridgeCalls,
    protected readonly admin: AdminCommands,
    readonly software: Software | undefined,
  ) {}

  protected get domain(): string {
    return this.admin.domain;
  }

  // Asked on every command too (is the sender a server admin?): a short wait.
  account(jid: string): Promise<{ exists: boolean; admin: boolean } | undefined> {
    return this.bridge.account(this.domain, jid, 3_000);
  }

  nodeprep(username: string): Promise<string | null | undefined> {
    return this.bridge.nodeprep(this.domain, username);
  }

  addUser(username: string, password: string): Promise<AdminResult> {
    return this.admin.addUser(username, password);
  }

  changePassword(username: string, password: string): Promise<AdminResult> {
    return changeExistingPassword(this, `${username}@${this.domain}`, () => this.admin.changePassword(username, password), this.mustConfirmReset);
  }

  /** Whether a reset waits for the bridge to confirm the account (ejabberd logs the password of a failed one). */
  protected abstract readonly mustConfirmReset: boolean;

  get bookmarks(): boolean {
    return typeof this.bridge.bookmark === 'function';
  }

  makeContacts(a: string, b: string, group?: string): Promise<StepOutcome> {
    return this.bridge.befriend(this.domain, a, b, group).then(
      () => ({ outcome: 'done' as const }),
      (e: Error) => ({ outcome: 'failed' as const, why: `the bridge's befriend failed (is mod_invites_bridge loaded?): ${e.message}` }),
    );
  }

  async addBookmark(jid: string, room: string, name: string): Promise<StepOutcome> {
    if (!this.bridge.bookmark) return { outcome: 'unsupported', why: 'this bridge connection cannot add bookmarks' };
    try {
      await this.bridge.bookmark(this.domain, jid, room, name);
      return { outcome: 'done' };
    } catch (e) {
      // An older bridge (ejabberd's "Unknown bridge request", Prosody's service-unavailable), or no
      // PEP on the host: the server cannot, nothing was changed.
      const condition = conditionOf(e);
      if (condition === 'feature-not-implemented' || condition === 'service-unavailable') {
        return { outcome: 'unsupported', why: `the server cannot add bookmarks (an older mod_invites_bridge, or no PEP on the host): ${(e as Error).message}` };
      }
      return { outcome: 'failed', why: `the bridge's bookmark failed: ${(e as Error).message}` };
    }
  }

  abstract grantRoles(jid: string, roles: readonly Role[]): Promise<StepOutcome>;
}
