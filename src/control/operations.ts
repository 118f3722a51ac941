// What the CLI can ask for. Run by the service when it is up (over the control
// socket) or by the CLI itself under the writer lock: one implementation.
import { describeCreated, describeListed } from '../invites/describe.js';
import type { CreateRequest, InviteService } from '../invites/service.js';

export type Operation =
  | { op: 'create'; request: CreateRequest }
  | { op: 'list' }
  | { op: 'revoke'; id: string };

export interface Outcome {
  ok: boolean;
  text: string;
}

const CLI = { system: 'cli' } as const;

export async function runOperation(service: InviteService, operation: Operation, now = new Date()): Promise<Outcome> {
  switch (operation.op) {
    case 'create': {
      const r = await service.create(CLI, operation.request);
      return r.ok ? { ok: true, text: describeCreated(r, service.domain, now) } : { ok: false, text: r.message };
    }
    case 'list': {
      const lines: string[] = [];
      for await (const page of service.eachPending(CLI, { all: true })) for (const i of page) lines.push(describeListed(i, now));
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
