import type { Command } from '../src/bot/command.js';
import { createAndDescribe, typedUsername } from './created.js';

export const inviteReset: Command = {
  name: 'invite reset',
  key: 'inviteReset',
  usage: 'invite reset USERNAME',
  who: 'admin',
  args: [1, 1],
  run: (ctx) => createAndDescribe(ctx, { kind: 'reset', username: typedUsername(ctx.args[0]!, ctx.service.domain) }),
};
