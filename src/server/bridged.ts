// What the Prosody and ejabberd adapters share: our bridge (through the
// component) answers account, nodeprep and befriend; accounts and passwords
// are still made with XEP-0133 by the bot (the bridge has no such call).
import type { Component } from '../component/component.js';
import type { Role } from '../invites/types.js';
import type { AdminCommands } from '../xmpp/admin-commands.js';
import { changeExistingPassword } from './reset-guard.js';
import type { AdapterKind, AdminResult, Software, StepOutcome, XmppServer } from './server.js';

export type BridgeCalls = Pick<Component, 'account' | 'nodeprep' | 'grant' | 'befriend'>;

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

  makeContacts(a: string, b: string): Promise<StepOutcome> {
    return this.bridge.befriend(this.domain, a, b).then(
      () => ({ outcome: 'done' as const }),
      (e: Error) => ({ outcome: 'failed' as const, why: `the bridge's befriend failed (is mod_invites_bridge loaded?): ${e.message}` }),
    );
  }

  abstract grantRoles(jid: string, roles: readonly Role[]): Promise<StepOutcome>;
}
