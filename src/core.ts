// Open the store and the invite core from configuration: the service and the
// CLI (under the writer lock) build them the same way.
import { ApiKeys } from './api/keys.js';
import type { Config } from './config.js';
import { GroupService } from './groups/service.js';
import { InviteService } from './invites/service.js';
import { openStore } from './store/open-store.js';
import type { InviteStore } from './store/store.js';

export interface Core {
  store: InviteStore;
  service: InviteService;
  groups: GroupService;
  apiKeys: ApiKeys;
}

export async function openCore(config: Config): Promise<Core> {
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
  const groups = new GroupService(store, config.xmppDomain, (jid) => service.isAdmin(jid));
  service.groups = groups;
  return { store, service, groups, apiKeys: new ApiKeys(store) };
}
