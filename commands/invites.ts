import type { Command } from '../src/bot/command.js';
import { describeListed } from '../src/invites/describe.js';

export const invites: Command = {
  name: 'invites',
  usage: 'invites [all]',
  summary: 'your invites that can still be used ("all": everyone\'s, for administrators)',
  who: 'local',
  args: [0, 1],
  async run(ctx) {
    const all = ctx.args[0]?.toLowerCase() === 'all';
    if (ctx.args.length > 0 && !all) return `Type "invites" for yours${ctx.admin ? ' or "invites all" for everyone\'s' : ''}.`;
    const result = ctx.service.listPending({ jid: ctx.sender }, { all });
    if (!result.ok) return `${result.message} Type "invites" for yours.`;
    if (result.invites.length === 0) return all ? 'There are no pending invites.' : 'You have no pending invites. Type "invite" to create one.';
    const lines = result.invites.map((i) => describeListed(i, ctx.now));
    return `${lines.length} pending invite${lines.length === 1 ? '' : 's'}:\n${lines.join('\n')}`;
  },
};
