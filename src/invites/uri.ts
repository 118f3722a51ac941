// XEP-0401 / XEP-0379 invite URIs (RFC 5122 xmpp: scheme).
import type { Invite } from './types.js';

// Percent-encoding more than RFC 5122 requires is still equivalent for every client.
function jidPath(bare: string): string {
  const at = bare.lastIndexOf('@');
  return at < 0 ? bare : `${encodeURIComponent(bare.slice(0, at))}@${bare.slice(at + 1)}`;
}

export function inviteUri(invite: Pick<Invite, 'kind' | 'username' | 'inviter'>, token: string, domain: string): string {
  switch (invite.kind) {
    case 'account':
    case 'reset': {
      const target = invite.username ? `${invite.username}@${domain}` : domain;
      return `xmpp:${jidPath(target)}?register;preauth=${token}`;
    }
    case 'contact':
      return `xmpp:${jidPath(invite.inviter!)}?roster;preauth=${token}`;
    case 'account-contact':
      return `xmpp:${jidPath(invite.inviter!)}?roster;preauth=${token};ibr=y`;
  }
}
