// A real InviteService over a real store file in a temp dir, with a settable clock.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type InviteSettings, InviteService } from '../../src/invites/service.js';
import { LowdbStore } from '../../src/store/lowdb/lowdb-store.js';

export const baseSettings: InviteSettings = {
  domain: 'example.org',
  admins: ['boss@example.org'],
  allowUserInvites: false,
  allowContactInvites: true,
  maxInvitesPerUser: 3,
  inviteExpiry: 7 * 86400,
  resetExpiry: 86400,
};

export interface Core {
  dir: string;
  file: string;
  store: LowdbStore;
  service: InviteService;
  clock: { now: Date };
  reopen(): Promise<Core>;
  cleanup(): Promise<void>;
}

export async function makeCore(settings: Partial<InviteSettings> = {}, dir?: string): Promise<Core> {
  dir ??= await mkdtemp(join(tmpdir(), 'invites-unit-'));
  const file = join(dir, 'invites.json');
  const store = await LowdbStore.open(file);
  const clock = { now: new Date('2026-11-21T12:00:00Z') };
  const service = new InviteService(store, { ...baseSettings, ...settings }, () => clock.now);
  const core: Core = {
    dir, file, store, service, clock,
    async reopen() {
      service.close();
      await store.close();
      return makeCore(settings, dir);
    },
    async cleanup() {
      service.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return core;
}
