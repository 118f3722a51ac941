// What the CLI can ask for. Run by the service when it is up (over the control
// socket) or by the CLI itself under the writer lock: one implementation.
import { describeCreated, describeListed } from '../invites/describe.js';
import type { Core } from '../core.js';
import type { CreateRequest, Refusal } from '../invites/service.js';

export type Operation =
  | { op: 'create'; request: CreateRequest }
  | { op: 'list' }
  | { op: 'revoke'; id: string };

export interface Outcome {
  ok: boolean;
  text: string;
}

const CLI = { system: 'cli' } as const;

/** The core's sentence, with the CLI's own way to reset a password where it names one. The CLI speaks English (an operator's tool; its output is read by scripts too). */
function refusalText(r: Refusal): string {
  if (r.code === 'username-taken' && r.vars?.jid) {
    return `The account ${r.vars.jid} already exists; choose another username, or create a password reset invite with "npm run invites -- create reset ${r.vars.username}".`;
  }
  return r.message;
}

export async function runOperation(core: Pick<Core, 'service' | 'groups' | 'apiKeys'>, operation: Operation, now = new Date()): Promise<Outcome> {
  const { service } = core;
  switch (operation.op) {
    case 'create': {
      const r = await service.create(CLI, operation.request);
      return r.ok ? { ok: true, text: describeCreated(r, service.domain, now, 'en') } : { ok: false, text: refusalText(r) };
    }
    case 'list': {
      const lines: string[] = [];
      for await (const page of service.eachPending(CLI, { all: true })) for (const i of page) lines.push(describeListed(i, now, 'en'));
      return { ok: true, text: lines.length ? lines.join('\n') : 'No pending invites.' };
    }
    case 'revoke': {
      const r = await service.revoke(CLI, operation.id);
      return r.ok ? { ok: true, text: `Invite ${r.invite.id} revoked.` } : { ok: false, text: r.message };
    }
    default:
      return { ok: false, text: 'Unknown operation.' };
  }
}
