// Open the store and the invite core from configuration: the service and the
// CLI (under the writer lock) build them the same way.
import type { Config } from './config.js';
import { InviteService } from './invites/service.js';
import { openStore } from './store/open-store.js';
import type { InviteStore } from './store/store.js';

export async function openCore(config: Config): Promise<{ store: InviteStore; service: InviteService }> {
  const store = await openStore(config);
  const service = new InviteService(store, {
    domain: config.xmppDomain,
    admins: config.admins,
    allowUserInvites: config.allowUserInvites,
    allowContactInvites: config.allowContactInvites,
    maxInvitesPerUser: config.maxInvitesPerUser,
    maxInvitesPerDay: config.maxInvitesPerDay,
    inviteExpiry: config.inviteExpiry,
    resetExpiry: config.resetExpiry,
    publicUrl: config.publicUrl,
    registrationInviteOnly: config.registrationInviteOnly,
  });
  return { store, service };
}
