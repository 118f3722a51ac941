import type { Command } from '../src/bot/command.js';
import { describeListed } from '../src/invites/describe.js';

/** Invites per reply: a long list comes a page at a time ("invites next"). */
const PAGE = 20;

/** Where the sender's last list got to. */
interface Place {
  all: boolean;
  next: string;
  shown: number;
}

export const invites: Command = {
  name: 'invites',
  usage: 'invites [all | next]',
  summary: 'your invites that can still be used ("all": everyone\'s, for administrators; "next": the next page)',
  who: 'local',
  args: [0, 1],
  async run(ctx) {
    const word = ctx.args[0]?.toLowerCase();
    const again = `Type "invites" for yours${ctx.admin ? ' or "invites all" for everyone\'s' : ''}.`;
    if (word !== undefined && word !== 'all' && word !== 'next') return again;
    const place = ctx.kept as Place | undefined;
    if (word === 'next' && !place) return `There is no list to go on with. ${again}`;
    const all = word === 'next' ? place!.all : word === 'all';
    const from = word === 'next' ? place : undefined;
    const result = await ctx.service.listPending({ jid: ctx.sender }, { all, after: from?.next, limit: PAGE });
    if (!result.ok) return `${result.message} ${again}`;
    const shown = from?.shown ?? 0;
    const n = result.invites.length;
    ctx.keep(result.next ? { all, next: result.next, shown: shown + n } satisfies Place : undefined);
    if (n === 0 && !from) return all ? 'There are no pending invites.' : 'You have no pending invites. Type "invite" to create one.';
    if (n === 0) return 'There are no more pending invites.';
    const lines = result.invites.map((i) => describeListed(i, ctx.now));
    if (result.next) return `Pending invites ${shown + 1}–${shown + n}:\n${lines.join('\n')}\nType "invites next" for more.`;
    if (from) return `Pending invites ${shown + 1}–${shown + n}, the last ones:\n${lines.join('\n')}`;
    return `${n} pending invite${n === 1 ? '' : 's'}:\n${lines.join('\n')}`;
  },
};
