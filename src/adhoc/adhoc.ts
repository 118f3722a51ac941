// XEP-0050 for the invite commands, independent of the transport: a <command/>
// and the asker's bare JID in, the <command/> reply or an <error/> out.
// Who may run what is the core's decision; this module keeps sessions and stages.
import { randomUUID } from 'node:crypto';
import { GroupService } from '../groups/service.js';
import { type Lang, translator } from '../i18n/i18n.js';
import { type Decision, localize } from '../invites/policy.js';
import { type InviteService, printable } from '../invites/service.js';
import { log } from '../log.js';
import { type SenderLimit, tooFast } from '../rate-limit.js';
import { stanzaError } from '../xmpp/errors.js';
import { formValues } from '../xmpp/forms.js';
import type { Element } from '../xmpp/stanzas.js';
import { type AdhocCommand, type AskerContext, FORBIDDING, forbidden, INVITE_COMMANDS, type Step } from './commands.js';
import { DEFAULT_SESSION_LIMITS, type Session, type SessionLimits, Sessions } from './sessions.js';
import { commandError, commandReply } from './stanzas.js';

export interface AdhocOptions {
  sessions?: Partial<SessionLimits>;
  /** Requests per asker (every <command/>: a form takes two); share one between the bot's and the component's. */
  limit?: SenderLimit;
  /** The limit applies to admins too (default: they are exempt). */
  limitAdmins?: boolean;
  now?: () => Date;
  commands?: readonly AdhocCommand[];
  /** The language of replies to requests that name none (DEFAULT_LANGUAGE). */
  language?: Lang;
  /** The groups the group commands manage: by default the core's (the app sets service.groups to its GroupService). */
  groups?: GroupService;
}

const ACTIONS: ReadonlySet<string> = new Set(['execute', 'next', 'prev', 'complete', 'cancel']);

export class Adhoc {
  readonly commands: readonly AdhocCommand[];
  private readonly sessions: Sessions<unknown>;
  private readonly now: () => Date;
  private readonly limit?: SenderLimit;
  private readonly limitAdmins: boolean;
  readonly language: Lang;
  readonly groups?: GroupService;

  constructor(readonly service: InviteService, opts: AdhocOptions = {}) {
    this.groups = opts.groups ?? (service.groups instanceof GroupService ? service.groups : undefined);
    this.commands = opts.commands ?? INVITE_COMMANDS;
    this.limit = opts.limit;
    this.limitAdmins = opts.limitAdmins ?? false;
    this.language = opts.language ?? 'en';
    const now = opts.now ?? (() => new Date());
    this.now = now;
    this.sessions = new Sessions({ ...DEFAULT_SESSION_LIMITS, ...opts.sessions }, () => now().getTime());
  }

  /** Sessions open now (expired ones are not counted). */
  get openSessions(): number {
    return this.sessions.size;
  }

  find(node: string): AdhocCommand | undefined {
    return this.commands.find((c) => c.node === node);
  }

  private context(asker: string, lang: Lang = this.language): AskerContext {
    return { asker: asker.toLowerCase(), service: this.service, groups: this.groups, now: this.now(), lang, t: translator(lang) };
  }

  /** A command's name in `lang`, for disco. */
  nameOf(command: AdhocCommand, lang: Lang = this.language): string {
    return command.key ? translator(lang)(`adhoc.name.${command.key}`) : command.name;
  }

  /** Why this asker may not run the command, or undefined when they may (a quota refusal is told by the command itself). */
  async refusal(asker: string, command: AdhocCommand): Promise<(Decision & { ok: false }) | undefined> {
    const d = await command.access(this.context(asker));
    return !d.ok && FORBIDDING.has(d.code) ? d : undefined;
  }

  /** The commands this asker may run, for disco#items. */
  async available(asker: string): Promise<AdhocCommand[]> {
    const refused = await Promise.all(this.commands.map((c) => this.refusal(asker, c)));
    return this.commands.filter((_, i) => !refused[i]);
  }

  /** Answer one <command/> from `asker` (bare JID), in `lang`: a <command/> reply, or an <error/> for the IQ. */
  async execute(asker: string, command: Element, lang: Lang = this.language): Promise<Element> {
    return inLanguage(await this.answer(asker, command, lang), lang);
  }

  private async answer(asker: string, command: Element, lang: Lang): Promise<Element> {
    try {
      const who = asker.toLowerCase();
      await this.service.refreshAdmin(who);
      if (this.limit && (this.limitAdmins || !this.service.isAdmin(who))) {
        const a = await this.limit.take(who);
        if (!a.ok) return stanzaError('wait', 'resource-constraint', tooFast(a.seconds, lang));
      }
      return await this.run(this.context(asker, lang), command);
    } catch (e) {
      log.error(`ad-hoc command ${printable(String(command.attrs.node ?? ''))} from ${asker} failed: ${(e as Error).stack ?? e}`);
      return stanzaError('cancel', 'internal-server-error', translator(lang)('common.failed'));
    }
  }

  private async run(ctx: AskerContext, el: Element): Promise<Element> {
    const node = el.attrs.node;
    const command = typeof node === 'string' ? this.find(node) : undefined;
    if (!command) return stanzaError('cancel', 'item-not-found', ctx.t('adhoc.error.noCommand'));
    const action = String(el.attrs.action ?? 'execute');
    if (!ACTIONS.has(action)) return commandError('modify', 'bad-request', 'malformed-action', ctx.t('adhoc.error.badAction', { action: printable(action) }));
    const sessionid = el.attrs.sessionid;

    if (sessionid === undefined) {
      // Nothing started yet: any action starts the command, except cancelling it.
      if (action === 'cancel') return commandReply({ node: command.node, sessionid: randomUUID(), status: 'canceled' });
      const refused = await this.refusal(ctx.asker, command);
      if (refused) return this.reply(ctx, command, forbidden(localize(refused, ctx.t)));
      return this.reply(ctx, command, await command.start(ctx));
    }

    const session = this.sessions.get(String(sessionid));
    // Someone else's session is answered exactly like an unknown one: nothing is learnt from guessing.
    if (!session || session.owner !== ctx.asker || session.node !== command.node) {
      return commandError('modify', 'bad-request', 'bad-sessionid', ctx.t('adhoc.error.badSession'));
    }
    const x = el.getChild('x', 'jabber:x:data');
    if (action === 'cancel' || x?.attrs.type === 'cancel') {
      this.sessions.close(session.id);
      return commandReply({ node: command.node, sessionid: session.id, status: 'canceled' });
    }
    if (action === 'prev' || !command.submit) {
      return commandError('modify', 'bad-request', 'bad-action', ctx.t('adhoc.error.noPrev'));
    }
    // Rights are checked at every stage: an admin may have lost the role meanwhile.
    const refused = await this.refusal(ctx.asker, command);
    if (refused) return this.reply(ctx, command, forbidden(localize(refused, ctx.t)), session);
    return this.reply(ctx, command, await command.submit(ctx, formValues(x), session.state, action as 'execute' | 'next' | 'complete'), session);
  }

  private reply(ctx: AskerContext, command: AdhocCommand, step: Step, session?: Session<unknown>): Element {
    if (step.status === 'executing') {
      if (session) this.sessions.touch(session, step.state);
      else {
        session = this.sessions.open(ctx.asker, command.node, step.state, this.service.isAdmin(ctx.asker) ? 'admin' : 'user');
        if (!session) return stanzaError('wait', 'resource-constraint', ctx.t('adhoc.error.busy'));
      }
      return commandReply({ node: command.node, sessionid: session.id, status: 'executing', notes: step.notes, form: step.form, canGoOn: step.canGoOn });
    }
    if (session) this.sessions.close(session.id);
    if (step.status === 'error') return step.error;
    // A one-stage command still gets a sessionid: some clients expect one on every reply.
    return commandReply({ node: command.node, sessionid: session?.id ?? randomUUID(), status: 'completed', notes: step.notes, form: step.form });
  }

  /** Forget every session (shutdown). */
  close(): void {
    this.sessions.clear();
  }
}

/** An <error/>'s sentence is marked with the language it is in. */
export function inLanguage(el: Element, lang: Lang): Element {
  if (el.name === 'error') for (const text of el.getChildren('text')) text.attrs['xml:lang'] = lang;
  return el;
}
