// Which adapter speaks for the server, chosen by asking it: a bridge that
// answers `info` (or, an older one, `account`) picks that server's bridged
// adapter; no bridge, the XEP-0133 one. Asked again whenever the component
// connects (a bridge may have been loaded or removed meanwhile), so no setting
// is needed to say which server runs.
import type { Client } from '@xmpp/client';
import type { Component } from '../component/component.js';
import type { Role } from '../invites/types.js';
import { log } from '../log.js';
import type { AdminCommands } from '../xmpp/admin-commands.js';
import { type BridgeCalls } from './bridged.js';
import { EJABBERD_ROLES_WHY, EjabberdServer } from './ejabberd/adapter.js';
import { describeSoftware, identify, type ServerFacts, softwareName } from './identify.js';
import { ProsodyServer } from './prosody/adapter.js';
import type { AdapterKind, AdminResult, Software, StepOutcome, XmppServer } from './server.js';
import { Xep0133Server } from './xep0133/adapter.js';

type IqCaller = Pick<Client['iqCaller'], 'request'>;

export interface ChooseDeps {
  /** XEP-0133 over the bot's connection. */
  admin: AdminCommands;
  /** The bot's IQs (software and features of the server). */
  iq: IqCaller;
  /** The component, when one is configured: the way to the bridge. */
  bridge?: BridgeCalls & Pick<Component, 'info' | 'online'>;
  /** An account surely on the server (the bot's): an older bridge without `info` is found by asking about it. */
  botJid: string;
}

export interface Detection {
  adapter: XmppServer;
  facts: ServerFacts;
  /** What the bridge said of itself; undefined: no bridge answered. */
  bridge?: { server: string; version?: string; via: 'info' | 'account' };
}

/** Ask the server which adapter fits it. Never rejects. */
export async function detect(deps: ChooseDeps): Promise<Detection> {
  const facts = await identify(deps.iq, deps.admin.domain).catch((): ServerFacts => ({ features: [] }));
  let bridge: Detection['bridge'];
  if (deps.bridge?.online) {
    const info = await deps.bridge.info(deps.admin.domain).catch(() => undefined);
    if (info) bridge = { server: softwareName(info.server), ...(info.version ? { version: info.version } : {}), via: 'info' };
    else if (await deps.bridge.account(deps.admin.domain, deps.botJid, 3_000).catch(() => undefined)) {
      // A bridge from before `info`: only Prosody's existed then.
      bridge = { server: facts.software?.name ?? 'prosody', via: 'account' };
    }
  }
  if (bridge) {
    const software: Software = bridge.via === 'info'
      ? { name: bridge.server, ...(bridge.version ? { version: bridge.version } : {}), source: 'bridge' }
      : facts.software ?? { name: bridge.server, source: 'bridge' };
    const adapter = bridge.server === 'ejabberd'
      ? new EjabberdServer(deps.bridge!, deps.admin, software)
      : new ProsodyServer(deps.bridge!, deps.admin, software);
    return { adapter, facts, bridge };
  }
  return { adapter: new Xep0133Server(deps.admin, facts.software, facts.features), facts };
}

/** The log line that says, once per choice, what this server will and will not do. */
export function choiceText(d: Pick<Detection, 'adapter'>): string {
  const a = d.adapter;
  const name = describeSoftware(a.software);
  switch (a.kind) {
    case 'prosody':
      return `server: ${name} with mod_invites_bridge: accounts, contacts and roles are made on the server`;
    case 'ejabberd':
      return `server: ${name} with mod_invites_bridge: accounts and contacts are made on the server; the roles of invites stay this service's (${EJABBERD_ROLES_WHY})`;
    default:
      return `server: ${name} without mod_invites_bridge: accounts and passwords through XEP-0133 only; `
        + 'contacts of account+contact invites are not made and the roles of invites stay this service\'s (load the bridge for both)';
  }
}

/**
 * The adapter in use, behind a reference that stays the same (the core and the web
 * hold it). Until the first choice is made, calls wait for it.
 */
export class ChosenServer implements XmppServer {
  private current?: XmppServer;
  private choosing?: Promise<XmppServer>;
  private lastText?: string;

  constructor(private readonly deps: ChooseDeps) {}

  /** Ask the server again (at start, and whenever the component connects). */
  choose(): Promise<XmppServer> {
    this.choosing ??= detect(this.deps).then((d) => {
      this.current = d.adapter;
      const text = choiceText(d);
      if (text !== this.lastText) log.info(text);
      this.lastText = text;
      return d.adapter;
    }).finally(() => { this.choosing = undefined; });
    return this.choosing;
  }

  private adapter(): Promise<XmppServer> {
    return this.current ? Promise.resolve(this.current) : this.choose();
  }

  get kind(): AdapterKind {
    return this.current?.kind ?? 'xep0133';
  }

  get software(): Software | undefined {
    return this.current?.software;
  }

  get makesContacts(): boolean {
    return this.current?.makesContacts ?? false;
  }

  get grantsRoles(): boolean {
    return this.current?.grantsRoles ?? false;
  }

  get bookmarks(): boolean {
    return this.current?.bookmarks ?? false;
  }

  async account(jid: string): Promise<{ exists: boolean; admin: boolean } | undefined> {
    return (await this.adapter()).account(jid);
  }

  async nodeprep(username: string): Promise<string | null | undefined> {
    const a = await this.adapter();
    return a.nodeprep ? a.nodeprep(username) : undefined;
  }

  async addUser(username: string, password: string): Promise<AdminResult> {
    return (await this.adapter()).addUser(username, password);
  }

  async changePassword(username: string, password: string): Promise<AdminResult> {
    return (await this.adapter()).changePassword(username, password);
  }

  async makeContacts(a: string, b: string, group?: string): Promise<StepOutcome> {
    return (await this.adapter()).makeContacts(a, b, group);
  }

  async addBookmark(jid: string, room: string, name: string): Promise<StepOutcome> {
    return (await this.adapter()).addBookmark(jid, room, name);
  }

  async grantRoles(jid: string, roles: readonly Role[]): Promise<StepOutcome> {
    return (await this.adapter()).grantRoles(jid, roles);
  }
}
