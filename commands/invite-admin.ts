import type { Command } from '../src/bot/command.js';
import { createWithOptions, GROUP, LIFETIME_NOTE, USES } from './created.js';

export const inviteAdmin: Command = {
  name: 'invite admin',
  key: 'inviteAdmin',
  usage: 'invite admin',
  who: 'admin',
  args: [0, 0],
  options: { ...USES, ...LIFETIME_NOTE, ...GROUP },
  run: (ctx) => createWithOptions(ctx, (o) => ({ kind: 'account', roles: ['admin'], ...o })),
};
