import type { Command } from '../src/bot/command.js';
import { describeListed } from '../src/invites/describe.js';
import { localize } from '../src/invites/policy.js';

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
  key: 'invites',
  usage: 'invites [all | next]',
  who: 'local',
  args: [0, 1],
  async run(ctx) {
    const { t } = ctx;
    const word = ctx.args[0]?.toLowerCase();
    const again = t(ctx.admin ? 'bot.invites.againAdmin' : 'bot.invites.again');
    if (word !== undefined && word !== 'all' && word !== 'next') return again;
    const place = ctx.kept as Place | undefined;
    if (word === 'next' && !place) return `${t('bot.invites.noList')} ${again}`;
    const all = word === 'next' ? place!.all : word === 'all';
    const from = word === 'next' ? place : undefined;
    const result = await ctx.service.listPending({ jid: ctx.sender }, { all, after: from?.next, limit: PAGE });
    if (!result.ok) return `${localize(result, t)} ${again}`;
    const shown = from?.shown ?? 0;
    const n = result.invites.length;
    ctx.keep(result.next ? { all, next: result.next, shown: shown + n } satisfies Place : undefined);
    if (n === 0 && !from) return t(all ? 'bot.invites.none' : 'bot.invites.noneMine');
    if (n === 0) return t('bot.invites.noMore');
    const lines = result.invites.map((i) => describeListed(i, ctx.now, ctx.lang, all ? undefined : ctx.sender));
    const range = { from: shown + 1, to: shown + n };
    if (result.next) return `${t('bot.invites.page', range)}\n${lines.join('\n')}\n${t('bot.invites.more')}`;
    if (from) return `${t('bot.invites.last', range)}\n${lines.join('\n')}`;
    return `${t('bot.invites.count', { count: n })}\n${lines.join('\n')}`;
  },
};
