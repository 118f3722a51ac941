import type { Command } from '../src/bot/command.js';
import { createAndDescribe } from './created.js';

export const inviteReset: Command = {
  name: 'invite reset',
  usage: 'invite reset USERNAME',
  summary: "an invite to set a new password for USERNAME's account",
  who: 'admin',
  args: [1, 1],
  run: (ctx) => createAndDescribe(ctx, { kind: 'reset', username: ctx.args[0]! }),
};
