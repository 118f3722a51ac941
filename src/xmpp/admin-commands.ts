// XEP-0133 service administration, run by the bot (a server admin) over its own
// connection: create an account, set a user's password, ask about an account.
// Servers say "no" differently: Prosody completes the command with a
// <note type='error'>, ejabberd answers an IQ error (conflict, item-not-found,
// forbidden). Both are read here into one AdminResult.
import type { Client } from '@xmpp/client';
import type { AdminResult } from '../server/server.js';
import { type Element, xml } from './stanzas.js';

const NS_COMMANDS = 'http://jabber.org/protocol/commands';
export const NS_ADMIN = 'http://jabber.org/protocol/admin';
const NS_DATA = 'jabber:x:data';
export const ADD_USER = `${NS_ADMIN}#add-user`;
export const CHANGE_USER_PASSWORD = `${NS_ADMIN}#change-user-password`;
export const USER_STATS = `${NS_ADMIN}#user-stats`;
export const GET_USER_LASTLOGIN = `${NS_ADMIN}#get-user-lastlogin`;

export type { AdminResult };
type Failure = Extract<AdminResult, { ok: false }>;

/** A completed command and its result form's values, or why it failed. */
export type CommandResult = { ok: true; values: Record<string, string> } | Failure;

type IqCaller = Pick<Client['iqCaller'], 'request'>;

function command(node: string, attrs: Record<string, string>, ...children: Element[]): Element {
  return xml('command', { xmlns: NS_COMMANDS, node, ...attrs }, ...children);
}

function submitForm(values: Record<string, string>): Element {
  return xml('x', { xmlns: NS_DATA, type: 'submit' },
    xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, NS_ADMIN)),
    ...Object.entries(values).map(([name, value]) => xml('field', { var: name }, xml('value', {}, value))));
}

/** The words of the first error note, if the command reported one. */
function errorNote(cmd: Element): string | undefined {
  const note = cmd.getChildren('note').find((n) => n.attrs.type === 'error');
  return note ? note.text().trim() || 'The server refused the request.' : undefined;
}

/** A result form's fields (first value each). */
function formValues(cmd: Element): Record<string, string> {
  const form = cmd.getChild('x', NS_DATA);
  const out: Record<string, string> = {};
  for (const f of form?.getChildren('field') ?? []) {
    if (typeof f.attrs.var === 'string') out[f.attrs.var] = f.getChild('value')?.text() ?? '';
  }
  return out;
}

/** Prosody's words in a note (mod_admin_adhoc, 0.12 and 13): "Account already exists", "User does not exist". */
export function classifyNote(message: string): Failure {
  if (/already exists/i.test(message)) return { ok: false, reason: 'exists', message };
  if (/does not exist|no such user/i.test(message)) return { ok: false, reason: 'no-such-user', message };
  if (/permission|not allowed|forbidden/i.test(message)) return { ok: false, reason: 'forbidden', message };
  return { ok: false, reason: 'refused', message };
}

/**
 * An IQ error (or no answer) to a command, read by its condition. `step`: ejabberd answers
 * item-not-found "No hook has processed this command" on complete for a missing account (and
 * for a foreign domain), so only change-user-password reads it as "no such user"; on execute
 * it means the server has no such command.
 */
export function classifyError(e: unknown, node: string, step: 'execute' | 'complete'): Failure {
  const err = e as { condition?: string; text?: string; message?: string; name?: string };
  const words = err.text || err.message || String(e);
  const message = err.condition ? `${err.condition}${err.text ? `: ${err.text}` : ''}` : words;
  switch (err.condition) {
    case 'conflict':
      return { ok: false, reason: 'exists', message };
    case 'item-not-found':
      if (step === 'complete' && node === CHANGE_USER_PASSWORD) return { ok: false, reason: 'no-such-user', message };
      return { ok: false, reason: 'refused', message: step === 'execute' ? `the server has no command ${node} (${message})` : message };
    case 'forbidden': case 'not-authorized': case 'not-allowed':
      return { ok: false, reason: 'forbidden', message };
    case 'service-unavailable': case 'feature-not-implemented':
      // Answered by the server itself: it runs, but has no such command (Prosody without mod_admin_adhoc).
      return { ok: false, reason: 'refused', message: `the server has no command ${node} (${message})` };
    case 'bad-request': case 'not-acceptable': case 'jid-malformed':
      return { ok: false, reason: 'refused', message };
    default:
      // No answer in time, the connection down, a bounce on the way (remote-server-timeout, …).
      return { ok: false, reason: 'unavailable', message };
  }
}

export class AdminCommands {
  constructor(
    private readonly iq: IqCaller,
    /** The server's domain: commands go to it, accounts are made on it. */
    readonly domain: string,
    private readonly timeoutMs = 15_000,
  ) {}

  async addUser(username: string, password: string): Promise<AdminResult> {
    const r = await this.run(ADD_USER, { accountjid: `${username}@${this.domain}`, password, 'password-verify': password });
    return r.ok ? { ok: true } : r;
  }

  /** Sent as asked: callers check first that the account exists (ejabberd logs the password of a failed change). */
  async changePassword(username: string, password: string): Promise<AdminResult> {
    const r = await this.run(CHANGE_USER_PASSWORD, { accountjid: `${username}@${this.domain}`, password });
    return r.ok ? { ok: true } : r;
  }

  /** execute → the server's form (with a session id) → complete with our values; `timeoutMs` per step. */
  async run(node: string, values: Record<string, string>, timeoutMs = this.timeoutMs): Promise<CommandResult> {
    let first: Element;
    try {
      first = await this.call(command(node, { action: 'execute' }), timeoutMs);
    } catch (e) {
      return classifyError(e, node, 'execute');
    }
    const early = errorNote(first);
    if (early) return classifyNote(early);
    const sessionid = first.attrs.sessionid;
    if (first.attrs.status !== 'executing' || typeof sessionid !== 'string') {
      return { ok: false, reason: 'refused', message: `Unexpected answer to ${node}: status ${first.attrs.status ?? 'missing'}.` };
    }
    let cmd: Element;
    try {
      cmd = await this.call(command(node, { sessionid, action: 'complete' }, submitForm(values)), timeoutMs);
    } catch (e) {
      return classifyError(e, node, 'complete');
    }
    const refused = errorNote(cmd);
    if (refused) return classifyNote(refused);
    if (cmd.attrs.status !== 'completed') return { ok: false, reason: 'refused', message: `The command ended as ${cmd.attrs.status ?? 'unknown'}.` };
    return { ok: true, values: formValues(cmd) };
  }

  /** The command nodes the server lists for the bot (disco#items), or the IQ error. */
  async list(): Promise<{ ok: true; nodes: string[] } | Failure> {
    try {
      const res = await this.iq.request(xml('iq', { type: 'get', to: this.domain },
        xml('query', { xmlns: 'http://jabber.org/protocol/disco#items', node: NS_COMMANDS })), this.timeoutMs);
      const items = res.getChild('query')?.getChildren('item') ?? [];
      return { ok: true, nodes: items.map((i: Element) => String(i.attrs.node ?? '')).filter(Boolean) };
    } catch (e) {
      return classifyError(e, NS_COMMANDS, 'execute');
    }
  }

  private async call(child: Element, timeoutMs: number): Promise<Element> {
    const res = await this.iq.request(xml('iq', { type: 'set', to: this.domain }, child), timeoutMs);
    const cmd = res.getChild('command', NS_COMMANDS);
    if (!cmd) throw new Error('The server answered without a command.');
    return cmd;
  }
}
