// Text in, reply out: finds the command, checks who may run it, runs it.
// Knows nothing of XMPP, so every refusal is testable without a server.
import { parseArgs } from 'node:util';
import { isLocal } from '../invites/policy.js';
import { type InviteService, printable } from '../invites/service.js';
import { log } from '../log.js';
import type { Command, CommandContext } from './command.js';

/** How long, and for how many senders, a command's kept value (a list's place) lasts. */
const KEPT_MS = 15 * 60_000;
const KEPT_MAX = 10_000;

/** Longer than any command could be: answered without parsing. */
export const MAX_COMMAND_CHARS = 1000;

/** One line of words: invisible formatting characters removed (so "in\u200bvite" is "invite"), control characters and runs of space made one space. */
export function normalizeText(text: string): string {
  return text.normalize('NFC').replace(/\p{Cf}/gu, '').replace(/[\p{Cc}\p{Z}]+/gu, ' ').trim();
}

/** The command whose name matches the most leading words, and the words after it. */
export function parseCommand(text: string, commands: readonly Command[]): { command: Command; args: string[] } | undefined {
  const words = normalizeText(text).split(' ').filter(Boolean);
  const lower = words.map((w) => w.toLowerCase());
  let best: Command | undefined;
  let bestLen = 0;
  for (const c of commands) {
    const name = c.name.split(' ');
    if (name.length > bestLen && name.every((w, i) => lower[i] === w)) {
      best = c;
      bestLen = name.length;
    }
  }
  return best && { command: best, args: words.slice(bestLen) };
}

export class Dispatcher {
  /** Per sender and command, oldest first (so the cap drops the oldest). */
  private readonly kept = new Map<string, { value: unknown; at: number }>();

  constructor(
    private readonly service: InviteService,
    private readonly commands: readonly Command[],
    private readonly now: () => Date = () => new Date(),
  ) {}

  private recall(key: string): unknown {
    const k = this.kept.get(key);
    if (!k) return undefined;
    if (this.now().getTime() - k.at > KEPT_MS) {
      this.kept.delete(key);
      return undefined;
    }
    return k.value;
  }

  private keep(key: string, value: unknown): void {
    this.kept.delete(key);
    if (value === undefined) return;
    this.kept.set(key, { value, at: this.now().getTime() });
    if (this.kept.size > KEPT_MAX) this.kept.delete(this.kept.keys().next().value!);
  }

  private allowed(c: Command, sender: string, admin: boolean): boolean {
    if (c.who === 'admin') return admin;
    if (c.who === 'local') return isLocal(sender, this.service.domain);
    return true;
  }

  private refusal(c: Command, sender: string): string {
    if (!isLocal(sender, this.service.domain)) return `Only accounts on ${this.service.domain} can create invites here. Type "help" for what you can do.`;
    return `Only administrators can use "${c.name}". Type "help" to see the commands you can use.`;
  }

  /** Is the sender an admin (asking the server when its answer is not fresh)? */
  async isAdmin(sender: string): Promise<boolean> {
    await this.service.refreshAdmin(sender);
    return this.service.isAdmin(sender);
  }

  /** The reply to `body`; `attach` receives the URLs a command wants sent after it. */
  async handle(sender: string, body: string, attach: (url: string) => void = () => {}): Promise<string> {
    if (body.length > MAX_COMMAND_CHARS) return 'That message is too long to be a command. Type "help" to see the commands.';
    const parsed = parseCommand(body, this.commands);
    if (!parsed) {
      const text = normalizeText(body);
      return text ? `I don't know the command "${printable(text)}". Type "help" to see the commands you can use.` : 'Type "help" to see the commands you can use.';
    }
    const { command } = parsed;
    const admin = await this.isAdmin(sender);
    if (!this.allowed(command, sender, admin)) return this.refusal(command, sender);
    const usage = `Usage: ${command.usage} (${command.summary}).`;
    let args: string[];
    let options: Record<string, string | boolean | string[] | undefined>;
    try {
      const read = parseArgs({ args: parsed.args, options: command.options ?? {}, allowPositionals: true, strict: true });
      args = read.positionals;
      options = read.values as CommandContext['options'];
    } catch {
      return usage; // an unknown --option, or one without its value
    }
    const [min, max] = command.args;
    if (args.length < min || args.length > max) return usage;
    const available = this.commands.filter((c) => this.allowed(c, sender, admin));
    try {
      const key = `${sender} ${command.name}`;
      return await command.run({
        sender, admin, args, options, service: this.service, now: this.now(), available, attach,
        kept: this.recall(key), keep: (value) => this.keep(key, value),
      });
    } catch (e) {
      log.error(`command "${command.name}" from ${sender} failed: ${(e as Error).stack ?? e}`);
      return 'Something went wrong on our side; please try again later.';
    }
  }
}
