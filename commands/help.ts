import type { Command } from '../src/bot/command.js';

export const help: Command = {
  name: 'help',
  usage: 'help',
  summary: 'this list',
  who: 'anyone',
  args: [0, 0],
  async run(ctx) {
    const width = Math.max(...ctx.available.map((c) => c.usage.length));
    const lines = ctx.available.map((c) => `${c.usage.padEnd(width)}  ${c.summary}`);
    return `Commands you can use:\n${lines.join('\n')}`;
  },
};
