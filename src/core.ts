// Open the store and the invite core from configuration: the service and the
// CLI (under the writer lock) build them the same way.
import type { Config } from './config.js';
import { InviteService } from './invites/service.js';
import { InviteStore } from './store/invite-store.js';

export async function openCore(config: Config): Promise<{ store: InviteStore; service: InviteService }> {
  const store = await InviteStore.open(config.storeFile, { fsync: config.storeFsync });
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
