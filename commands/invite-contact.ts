import type { Command } from '../src/bot/command.js';
import { createAndDescribe } from './created.js';

export const inviteContact: Command = {
  name: 'invite contact',
  usage: 'invite contact',
  summary: 'an invite that only makes an existing account your contact',
  who: 'local',
  args: [0, 0],
  run: (ctx) => createAndDescribe(ctx, { kind: 'contact' }),
};
