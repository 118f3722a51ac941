// Any XMPP server, or Prosody / ejabberd without our bridge: accounts are made and
// passwords set with XEP-0133, run by the bot (a server admin). Nothing here can
// make contacts, add bookmarks or give roles on the server: said so, never tried.
import type { AdminCommands } from '../../xmpp/admin-commands.js';
import { describeSoftware } from '../identify.js';
import { changeExistingPassword } from '../reset-guard.js';
import type { AdminResult, Software, StepOutcome, XmppServer } from '../server.js';
import { type ExistenceProbe, existenceProbe } from './existence.js';

export class Xep0133Server implements XmppServer {
  readonly kind = 'xep0133' as const;
  readonly makesContacts = false;
  readonly grantsRoles = false;
  readonly bookmarks = false;
  private readonly exists: ExistenceProbe;

  constructor(
    private readonly admin: AdminCommands,
    readonly software: Software | undefined,
    /** The server's disco#info features (see existence.ts). */
    features: readonly string[] = [],
  ) {
    this.exists = existenceProbe(admin, software, features);
  }

  /** `admin` is always false: XEP-0133 cannot ask who the server's admins are (ADMINS names them here). */
  async account(jid: string): Promise<{ exists: boolean; admin: boolean } | undefined> {
    const exists = await this.exists(jid).catch(() => undefined);
    return exists === undefined ? undefined : { exists, admin: false };
  }

  addUser(username: string, password: string): Promise<AdminResult> {
    return this.admin.addUser(username, password);
  }

  changePassword(username: string, password: string): Promise<AdminResult> {
    return changeExistingPassword(this, `${username}@${this.admin.domain}`, () => this.admin.changePassword(username, password),
      this.software?.name === 'ejabberd');
  }

  async makeContacts(): Promise<StepOutcome> {
    return { outcome: 'unsupported', why: `${describeSoftware(this.software)} without mod_invites_bridge cannot make two accounts contacts` };
  }

  async addBookmark(): Promise<StepOutcome> {
    return { outcome: 'unsupported', why: `${describeSoftware(this.software)} without mod_invites_bridge cannot add a room to an account's bookmarks` };
  }

  async grantRoles(): Promise<StepOutcome> {
    return { outcome: 'unsupported', why: `${describeSoftware(this.software)} without mod_invites_bridge cannot give an account roles` };
  }
}
