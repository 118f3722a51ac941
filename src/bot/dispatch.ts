// Text in, reply out: finds the command, checks who may run it, runs it.
// Knows nothing of XMPP, so every refusal is testable without a server.
import { parseArgs } from 'node:util';
import { GroupService } from '../groups/service.js';
import { type Lang, LANGUAGES, translator } from '../i18n/i18n.js';
import { isLocal } from '../invites/policy.js';
import { type InviteService, printable } from '../invites/service.js';
import { log } from '../log.js';
import type { Command, CommandContext } from './command.js';

/** How long, and for how many senders, a command's kept value (a list's place) lasts. */
const KEPT_MS = 15 * 60_000;
const KEPT_MAX = 10_000;

/** A sender not heard from for this long is new again: an unknown first message gets the help text. */
const SEEN_MS = 6 * 3_600_000;
const SEEN_MAX = 10_000;

/** Longer than any command could be: answered without parsing. */
export const MAX_COMMAND_CHARS = 1000;

/** One line of words: invisible formatting characters removed (so "in\u200bvite" is "invite"), control characters and runs of space made one space. */
export function normalizeText(text: string): string {
  return text.normalize('NFC').replace(/\p{Cf}/gu, '').replace(/[\p{Cc}\p{Z}]+/gu, ' ').trim();
}

/** Each opening quote and the marks that may close it: ASCII, and the curly ones phones type in each language. */
// Straight and curly quotes close each other: text pasted between apps mixes them.
const DOUBLE = '"“”„';
const SINGLE = "'‘’‚";
const QUOTES: ReadonlyMap<string, string> = new Map([
  ...[...DOUBLE].map((q) => [q, '"“”'] as [string, string]),
  ...[...SINGLE].map((q) => [q, "'‘’"] as [string, string]),
  ['«', '»'], ['»', '«»'], ['‹', '›'], ['›', '‹›'],
]);

/** An em or en dash where an option starts: phones turn a typed `--` into `—` (iOS smart punctuation). */
const DASHED = /^[—–](?=\p{L})/u;

/** Words as splitWords found them, and whether a quote that opened a word was never closed. */
export type Words = string[] & { unclosed?: boolean };

/**
 * Words as a shell splits them, over normalized text: a word that opens with a quote
 * ("double", 'single', “curly”, „German“, « French », or after `--note=`) runs to the
 * matching closing quote that ends a word, spaces and all; a quote inside a word (an
 * apostrophe: "bob's") is a character of it. A quote that opens a word and is never
 * closed is marked (`unclosed`): the command is refused rather than read some other way.
 */
export function splitWords(text: string): Words {
  const words: Words = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] === ' ') {
      i++;
      continue;
    }
    // The start of a word, or the value of a --name=: where a quote may open.
    const eq = /^(?:--|[—–])[\w-]+=/.exec(text.slice(i));
    const at = eq ? i + eq[0].length : i;
    const closers = QUOTES.get(text[at] ?? '');
    if (closers) {
      let j = at + 1;
      while (j < text.length && !(closers.includes(text[j]!) && (j + 1 === text.length || text[j + 1] === ' '))) j++;
      if (j < text.length) {
        words.push(text.slice(i, at).replace(DASHED, '--') + text.slice(at + 1, j).trim());
        i = j + 1;
        continue;
      }
      words.unclosed = true;
    }
    const end = text.indexOf(' ', i);
    words.push(text.slice(i, end < 0 ? text.length : end).replace(DASHED, '--'));
    i = end < 0 ? text.length : end;
  }
  return words;
}

/**
 * `--name value` as `--name=value` for the command's options that take a value, so a
 * value that starts with a dash (`--note "- buy milk"`, `--uses -1`) is read as the value
 * and judged as one, not taken for another option.
 */
export function joinValues(words: readonly string[], options: Command['options'] = {}): string[] {
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const m = /^--([\w-]+)$/.exec(words[i]!);
    if (m && options[m[1]!]?.type === 'string' && i + 1 < words.length) {
      out.push(`--${m[1]}=${words[i + 1]}`);
      i++;
    } else out.push(words[i]!);
  }
  return out;
}

/** The first words each language may use instead of the English ones ("einladen" for "invite", "hilfe" for "help"). */
export const ALIASES: ReadonlyMap<string, string> = new Map(LANGUAGES.flatMap((l) => {
  const t = translator(l);
  return ['invite', 'help'].map((word) => [t(`bot.alias.${word}`).toLowerCase(), word] as [string, string]);
}).filter(([alias, word]) => alias !== word));

/** A message's words without the punctuation around them: "Invite." is "invite", "¿ayuda?" is "ayuda". */
export function stripPunctuation(text: string): string {
  return text.replace(/^[\p{Ps}\p{Pi}¡¿/]+/u, '').replace(/[\p{Pe}\p{Pf}\p{Po}]+$/u, '').trim();
}

/** The command whose name matches the most leading words, and the words after it. */
export function parseCommand(text: string, commands: readonly Command[]): { command: Command; args: Words } | undefined {
  const words = splitWords(normalizeText(text));
  const lower = words.map((w) => w.toLowerCase());
  if (lower[0] !== undefined) lower[0] = ALIASES.get(lower[0]) ?? lower[0];
  let best: Command | undefined;
  let bestLen = 0;
  for (const c of commands) {
    const name = c.name.split(' ');
    if (name.length > bestLen && name.every((w, i) => lower[i] === w)) {
      best = c;
      bestLen = name.length;
    }
  }
  if (!best) return undefined;
  const args: Words = words.slice(bestLen);
  if (words.unclosed) args.unclosed = true;
  return { command: best, args };
}

/** Words that open a conversation, in any of our languages (with the words that may follow them). */
const GREETINGS: ReadonlySet<string> = new Set([
  'hi', 'hello', 'hey', 'hiya', 'howdy', 'yo', 'greetings', 'good', 'start', 'ciao',
  'hallo', 'moin', 'servus', 'guten', 'grüß', 'grüezi', 'huhu',
  'bonjour', 'bonsoir', 'salut', 'coucou', 'allo', 'allô',
  'hola', 'buenas', 'buenos', 'buen', 'saludos', 'qué', 'que',
]);

/** A greeting ("hi", "Hallo!", "buenos días", "?"), or nothing but emoji and punctuation. */
export function isGreeting(text: string): boolean {
  const words = stripPunctuation(text).toLowerCase().split(' ').filter(Boolean);
  if (words.every((w) => !/[\p{L}\p{N}]/u.test(w))) return true;
  return words.length <= 3 && GREETINGS.has(words[0]!.replace(/[^\p{L}]/gu, ''));
}

export class Dispatcher {
  /** Per sender and command, oldest first (so the cap drops the oldest). */
  private readonly kept = new Map<string, { value: unknown; at: number }>();
  /** When each sender last wrote, oldest first (so the cap drops the oldest). */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly service: InviteService,
    private readonly commands: readonly Command[],
    private readonly now: () => Date = () => new Date(),
    /** The language of replies when the message names none (DEFAULT_LANGUAGE). */
    readonly language: Lang = 'en',
    /** The groups the group commands manage: by default the core's (the app sets service.groups to its GroupService). */
    private readonly groups: GroupService | undefined = service.groups instanceof GroupService ? service.groups : undefined,
  ) {}

  /** Was `sender` heard from lately? Remembers this message either way. */
  private heardBefore(sender: string): boolean {
    const at = this.now().getTime();
    const last = this.seen.get(sender);
    this.seen.delete(sender);
    this.seen.set(sender, at);
    if (this.seen.size > SEEN_MAX) this.seen.delete(this.seen.keys().next().value!);
    return last !== undefined && at - last <= SEEN_MS;
  }

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

  private refusal(c: Command, sender: string, lang: Lang): string {
    const t = translator(lang);
    if (!isLocal(sender, this.service.domain)) return t('bot.foreign', { domain: this.service.domain });
    return t('bot.adminOnly', { command: c.name });
  }

  /** Is the sender an admin (asking the server when its answer is not fresh)? */
  async isAdmin(sender: string): Promise<boolean> {
    await this.service.refreshAdmin(sender);
    return this.service.isAdmin(sender);
  }

  /** The reply to `body`, in `lang`; `attach` receives the URLs a command wants sent after it. */
  async handle(sender: string, body: string, attach: (url: string) => void = () => {}, lang: Lang = this.language): Promise<string> {
    const t = translator(lang);
    const known = this.heardBefore(sender);
    if (body.length > MAX_COMMAND_CHARS) return t('bot.tooLong');
    // As typed first: "invite reset alice." is about "alice.", never about another account
    // "alice"; only a message that is no command as typed ("Invite.", "help?") is read without its punctuation.
    // A lone mark at the end ("Aide ?", French spacing) is no word of the command.
    // (Not a closing quote: `--note "!"` keeps its note.)
    const typed = normalizeText(body).replace(/(?<=\S) +(?:(?!["'“”„‘’‚«»‹›])\p{P})+$/u, '');
    const parsed = parseCommand(typed, this.commands) ?? parseCommand(stripPunctuation(typed), this.commands);
    if (!parsed) {
      const shown = normalizeText(body);
      if (!shown) return t('bot.hint');
      // A first message, or a greeting, is met with what the bot can do rather than a refusal.
      if (!known || isGreeting(shown)) return this.welcome(sender, lang, attach);
      return t('bot.unknown', { text: printable(shown) });
    }
    return this.run(sender, parsed.command, parsed.args, lang, attach);
  }

  /** A greeting and the help text, or only the greeting where there is no help command. */
  private async welcome(sender: string, lang: Lang, attach: (url: string) => void): Promise<string> {
    const t = translator(lang);
    const hello = t('bot.greeting', { domain: this.service.domain });
    const help = this.commands.find((c) => c.name === 'help');
    return help ? `${hello}\n\n${await this.run(sender, help, [], lang, attach)}` : `${hello} ${t('bot.hint')}`;
  }

  private async run(sender: string, command: Command, words: string[], lang: Lang, attach: (url: string) => void): Promise<string> {
    const t = translator(lang);
    const admin = await this.isAdmin(sender);
    if (!this.allowed(command, sender, admin)) return this.refusal(command, sender, lang);
    const usage = t(`bot.commands.${command.key}.wrong`);
    let args: string[];
    let options: Record<string, string | boolean | string[] | undefined>;
    if ((words as Words).unclosed) return `${t('bot.unclosedQuote')} ${usage}`;
    try {
      const read = parseArgs({ args: joinValues(words, command.options), options: command.options ?? {}, allowPositionals: true, strict: true });
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
        sender, admin, args, options, service: this.service, groups: this.groups, now: this.now(), available, attach,
        kept: this.recall(key), keep: (value) => this.keep(key, value), lang, t,
      });
    } catch (e) {
      log.error(`command "${command.name}" from ${sender} failed: ${(e as Error).stack ?? e}`);
      return t('common.failed');
    }
  }
}
