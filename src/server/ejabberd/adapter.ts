// ejabberd with mod_invites_bridge: the bridge answers for accounts and contacts.
// ejabberd has no per-account roles at run time (its administrators are `acl:
// admin` in ejabberd.yml), so an invite's roles stay this service's: not asked of
// the server, and said so.
import { BridgedServer } from '../bridged.js';
import type { StepOutcome } from '../server.js';

export const EJABBERD_ROLES_WHY = 'ejabberd has no per-account roles: its administrators are listed under acl: admin in ejabberd.yml';

export class EjabberdServer extends BridgedServer {
  readonly kind = 'ejabberd' as const;
  readonly grantsRoles = false;
  protected readonly mustConfirmReset = true;

  async grantRoles(): Promise<StepOutcome> {
    return { outcome: 'unsupported', why: EJABBERD_ROLES_WHY };
  }
}
