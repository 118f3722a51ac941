// What the CLI can ask for. Run by the service when it is up (over the control
// socket) or by the CLI itself under the writer lock: one implementation.
import { parseScopes, type Scope } from '../api/keys.js';
import { describeCreated, describeListed } from '../invites/describe.js';
import type { Core } from '../core.js';
import type { Group } from '../groups/types.js';
import { type CreateRequest, printable, type Refusal } from '../invites/service.js';
import type { Invite } from '../invites/types.js';

export type Operation =
  | { op: 'create'; request: CreateRequest }
  | { op: 'list' }
  | { op: 'revoke'; id: string }
  | { op: 'groups' }
  | { op: 'group-create'; name: string; room?: string }
  | { op: 'group-delete'; name: string }
  | { op: 'group-add'; name: string; jid: string }
  | { op: 'group-remove'; name: string; jid: string }
  | { op: 'api-key-create'; name: string; scopes: Scope[] }
  | { op: 'api-key-list' }
  | { op: 'api-key-revoke'; id: string }
  /** Invites read from Prosody's store (src/import/from-prosody.ts), and what the reading skipped, by reason. */
  | { op: 'import'; invites: Invite[]; skipped: { reason: string; count: number }[] };

export interface Outcome {
  ok: boolean;
  text: string;
  /** An import's counts, so that the CLI can add up an import sent in parts. */
  imported?: { imported: number; skipped: number; unknownGroups?: string[] };
}

const CLI = { system: 'cli' } as const;

/** The core's sentence, with the CLI's own way to reset a password where it names one. The CLI speaks English (an operator's tool; its output is read by scripts too). */
function refusalText(r: Refusal): string {
  if (r.code === 'username-taken' && r.vars?.jid) {
    return `The account ${r.vars.jid} already exists; choose another username, or create a password reset invite with "npm run invites -- create reset ${r.vars.username}".`;
  }
  return r.message;
}

/** A group name as it is typed back on a command line: quoted when it has spaces. */
const shellName = (name: string) => (/\s/.test(name) ? `"${name}"` : name);

function groupLine(g: Group): string {
  const room = g.room ? `room ${g.room}` : 'no room';
  const members = g.members.length ? `${g.members.length} member${g.members.length === 1 ? '' : 's'}: ${g.members.join(', ')}` : 'no members';
  return `${shellName(g.name)}  ${room}  ${members}`;
}

export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** "Imported 3 invites; skipped 2 (1 already here; 1 expired)." */
export function importText(r: { imported: number; skipped: number; unknownGroups?: string[] }, read: readonly { reason: string; count: number }[]): string {
  const reasons = read.filter((s) => s.count > 0);
  const why = [...(r.skipped ? [`${r.skipped} already here`] : []), ...reasons.map((s) => `${s.count} ${s.reason}`)];
  const total = r.skipped + reasons.reduce((n, s) => n + s.count, 0);
  const groups = r.unknownGroups?.length
    ? ` Left out of the invites that named them, as no such group is here: ${r.unknownGroups.join(', ')} (create groups with "npm run invites -- group create NAME" before importing).`
    : '';
  return `Imported ${plural(r.imported, 'invite')}; skipped ${total}${why.length ? ` (${why.join('; ')})` : ''}.${groups}`;
}

export async function runOperation(core: Pick<Core, 'service' | 'groups' | 'apiKeys'>, operation: Operation, now = new Date()): Promise<Outcome> {
  const { service, groups, apiKeys } = core;
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
    case 'groups': {
      const all = await groups.list();
      return { ok: true, text: all.length ? all.map(groupLine).join('\n') : 'No groups.' };
    }
    case 'group-create': {
      const r = await groups.create(CLI, operation.name, operation.room);
      if (!r.ok) return { ok: false, text: r.message };
      const room = r.group.room ? `, with the room ${r.group.room}` : '';
      return { ok: true, text: `Group "${r.group.name}" created${room}. Add members with "npm run invites -- group add ${shellName(r.group.name)} JID", or invite new people into it with "--group ${shellName(r.group.name)}".` };
    }
    case 'group-delete': {
      const r = await groups.delete(CLI, operation.name);
      return r.ok ? { ok: true, text: `Group "${r.group.name}" deleted.` } : { ok: false, text: r.message };
    }
    case 'group-add': {
      const r = await groups.add(CLI, operation.name, operation.jid);
      return r.ok ? { ok: true, text: `${r.jid} is now in the group "${r.group.name}".` } : { ok: false, text: r.message };
    }
    case 'group-remove': {
      const r = await groups.remove(CLI, operation.name, operation.jid);
      return r.ok ? { ok: true, text: `${r.jid} is no longer in the group "${r.group.name}".` } : { ok: false, text: r.message };
    }
    case 'api-key-create': {
      // Checked again here: the request may come over the socket.
      const scopes = parseScopes(operation.scopes ?? []);
      if ('message' in scopes) return { ok: false, text: scopes.message };
      const r = await apiKeys.create(String(operation.name ?? ''), scopes.scopes);
      if (!r.ok) return { ok: false, text: r.message };
      // The key alone on the last line, so that `| tail -1` takes it.
      return {
        ok: true,
        text: `API key ${r.key.id} "${r.key.name}" created, with the scopes ${r.key.scopes.join(', ')}. `
          + 'It is shown only this once (only its hash is kept): store it now. The key is the next line.\n'
          + r.secret,
      };
    }
    case 'api-key-list': {
      const keys = await apiKeys.list();
      if (keys.length === 0) return { ok: true, text: 'No API keys.' };
      // Never the key or its hash.
      const lines = keys.map((k) => `${k.id}  ${k.name}  ${k.scopes.join(',')}  created ${k.createdAt}  ${k.revokedAt ? `revoked ${k.revokedAt}` : 'active'}`);
      return { ok: true, text: lines.join('\n') };
    }
    case 'api-key-revoke': {
      const k = await apiKeys.revoke(String(operation.id ?? ''));
      return k ? { ok: true, text: `API key ${k.id} "${k.name}" revoked: it no longer works.` } : { ok: false, text: `There is no active API key with the id "${printable(String(operation.id ?? ''))}"; "npm run invites -- api-key list" lists them.` };
    }
    case 'import': {
      const r = await service.importInvites(operation.invites ?? []);
      return { ok: true, text: importText(r, operation.skipped ?? []), imported: r };
    }
    default:
      return { ok: false, text: 'Unknown operation.' };
  }
}
