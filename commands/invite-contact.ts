import type { Command } from '../src/bot/command.js';
import { createAndDescribe } from './created.js';

export const inviteContact: Command = {
  name: 'invite contact',
  key: 'inviteContact',
  usage: 'invite contact',
  who: 'local',
  args: [0, 0],
  run: (ctx) => createAndDescribe(ctx, { kind: 'contact' }),
};
