import type { Command } from '../src/bot/command.js';
import { createAndDescribe } from './created.js';

export const inviteAdmin: Command = {
  name: 'invite admin',
  usage: 'invite admin',
  summary: 'an invite to create an account that becomes an administrator',
  who: 'admin',
  args: [0, 0],
  run: (ctx) => createAndDescribe(ctx, { kind: 'account', roles: ['admin'] }),
};
