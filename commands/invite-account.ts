import type { Command } from '../src/bot/command.js';
import { createAndDescribe } from './created.js';

export const inviteAccount: Command = {
  name: 'invite account',
  usage: 'invite account [USERNAME]',
  summary: 'an invite to create one account, optionally only with that username',
  who: 'admin',
  args: [0, 1],
  run: (ctx) => createAndDescribe(ctx, { kind: 'account', username: ctx.args[0] }),
};
