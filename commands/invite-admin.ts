import type { Command } from '../src/bot/command.js';
import { createAndDescribe } from './created.js';

export const inviteAdmin: Command = {
  name: 'invite admin',
  key: 'inviteAdmin',
  usage: 'invite admin',
  who: 'admin',
  args: [0, 0],
  run: (ctx) => createAndDescribe(ctx, { kind: 'account', roles: ['admin'] }),
};
