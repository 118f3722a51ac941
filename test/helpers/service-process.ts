// Our service as a child process (src/main.ts under tsx), configured for a
// given server (Prosody or ejabberd), with its whole output kept. Stopped by its PID only.
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { LocalXmppServer } from '../../src/server/local-xmpp-server.js';
import { spawnScript } from './scripts.js';

export interface ServiceVars {
  server: LocalXmppServer;
  botJid: string;
  botPassword: string;
  componentDomain: string;
  componentSecret: string;
  admins: string[];
  /** The directory of the store (and the process's working directory). */
  dir: string;
  extra?: Record<string, string>;
}

export function serviceEnv(v: ServiceVars): Record<string, string> {
  return {
    XMPP_SERVICE: v.server.service,
    BOT_JID: v.botJid,
    BOT_PASSWORD: v.botPassword,
    COMPONENT_DOMAIN: v.componentDomain,
    COMPONENT_SERVICE: v.server.componentService,
    COMPONENT_SECRET: v.componentSecret,
    ADMINS: v.admins.join(','),
    STORE_FILE: join(v.dir, 'invites.json'),
    // Every invitee of the tests comes from loopback (see stack.ts).
    PREAUTH_LIMIT_EXEMPT: '127.0.0.1,::1',
    ...v.extra,
  };
}

export class ServiceProcess {
  stdout = '';
  stderr = '';
  readonly proc: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly watchers = new Set<() => void>();

  constructor(readonly dir: string, readonly env: Record<string, string>, nodeArgs: string[] = []) {
    this.proc = spawnScript('src/main.ts', [], { cwd: dir, vars: env, nodeArgs });
    this.proc.stdout!.on('data', (d) => { this.stdout += d; this.poke(); });
    this.proc.stderr!.on('data', (d) => { this.stderr += d; this.poke(); });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => { resolve({ code, signal }); this.poke(); }));
  }

  static start(v: ServiceVars): ServiceProcess {
    return new ServiceProcess(v.dir, serviceEnv(v));
  }

  get pid(): number {
    return this.proc.pid!;
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Everything it printed, both streams. */
  get output(): string {
    return `${this.stdout}\n${this.stderr}`;
  }

  private poke(): void {
    for (const w of [...this.watchers]) w();
  }

  /** Resolves when its output (both streams) matches `re` `count` times; rejects if it exits first. */
  waitFor(re: RegExp, count = 1): Promise<void> {
    const global = new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`);
    return new Promise((resolve, reject) => {
      const check = () => {
        if ((this.output.match(global)?.length ?? 0) >= count) {
          this.watchers.delete(check);
          resolve();
        } else if (!this.running) {
          this.watchers.delete(check);
          reject(new Error(`the service exited before printing ${re}:\n${this.output.slice(-3000)}`));
        }
      };
      this.watchers.add(check);
      check();
    });
  }

  /** Both the bot and the component have come online `times` times since it started. */
  ready(times = 1): Promise<void> {
    return Promise.all([this.waitFor(/bot online as /, times), this.waitFor(/component online as /, times)]).then(() => undefined);
  }

  /** SIGKILL by PID: no handler runs, nothing is flushed. */
  async kill9(): Promise<void> {
    if (this.running) process.kill(this.pid, 'SIGKILL');
    await this.exited;
  }

  /** SIGTERM (a clean stop); SIGKILL if it is not gone when the caller gives up. Idempotent. */
  async stop(): Promise<void> {
    if (!this.running) return;
    process.kill(this.pid, 'SIGTERM');
    const timer = setTimeout(() => { if (this.running) process.kill(this.pid, 'SIGKILL'); }, 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}
