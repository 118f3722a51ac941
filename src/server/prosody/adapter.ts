// Prosody with mod_invites_bridge: the bridge answers for accounts, contacts and
// roles (13: primary and secondary roles; 0.12: the account's role set).
import { sortRoles } from '../../invites/roles.js';
import type { Role } from '../../invites/types.js';
import { BridgedServer } from '../bridged.js';
import type { StepOutcome } from '../server.js';

/** Prosody's names of the core's roles, the primary one first (as the bridge's `register` answer carries them). */
export function prosodyRoleNames(roles: readonly Role[]): string[] {
  return sortRoles([...roles]).map((r) => `prosody:${r}`);
}

export class ProsodyServer extends BridgedServer {
  readonly kind = 'prosody' as const;
  readonly grantsRoles = true;
  protected readonly mustConfirmReset = false;

  async grantRoles(jid: string, roles: readonly Role[]): Promise<StepOutcome> {
    if (roles.length === 0) return { outcome: 'done' };
    const names = prosodyRoleNames(roles);
    return this.bridge.grant(this.domain, jid, names).then(
      () => ({ outcome: 'done' as const }),
      (e: Error) => ({ outcome: 'failed' as const, why: `giving ${names.join(' ')} failed (is mod_invites_bridge loaded?): ${e.message}` }),
    );
  }
}
