// What the web pages say about an invite, to the person invited (describe.ts
// speaks to the inviter). Plain strings: the templates escape everything.
import type { Invite, InviteState } from '../invites/types.js';
import { formatExpiry } from '../invites/describe.js';

export interface InviteText {
  title: string;
  /** Paragraphs under the title. */
  lead: string[];
  /** Label of the link to the web form, when the invite has one. */
  formLabel?: string;
}

export function inviteText(invite: Invite, domain: string): InviteText {
  const inviter = invite.inviter;
  switch (invite.kind) {
    case 'account':
      return {
        title: `You are invited to join ${domain}`,
        lead: [
          `${domain} is a chat server on XMPP, the open network of chat services that talk to each other, like email.`,
          invite.username
            ? `This invite creates your account ${invite.username}@${domain}.`
            : `This invite lets you create your own account on ${domain}.`,
        ],
        formLabel: 'Create your account here',
      };
    case 'account-contact':
      return {
        title: `${inviter} invited you to chat`,
        lead: [
          `${inviter} uses ${domain}, a chat server on XMPP, the open network of chat services that talk to each other, like email.`,
          `This invite creates your account on ${domain} and adds ${inviter} to your contacts. Already have an XMPP account? Open the invite in your app to add ${inviter} as a contact.`,
        ],
        formLabel: 'Create your account here',
      };
    case 'contact':
      return {
        title: `${inviter} invited you to chat`,
        lead: [
          `${inviter} uses XMPP, the open network of chat services that talk to each other, like email.`,
          `Open this invite in your XMPP app to add ${inviter} to your contacts. You need an XMPP account on any server.`,
        ],
      };
    case 'reset':
      return {
        title: 'Set a new password',
        lead: [`This link sets a new password for the account ${invite.username}@${domain}.`],
        formLabel: 'Choose a new password',
      };
  }
}

/** The page for a token that cannot be used: says only what this token's state is. */
export const STATE_PAGE: Record<Exclude<InviteState, 'valid'>, { status: number; title: string; lead: string }> = {
  unknown: {
    status: 404,
    title: 'This invite link is not valid',
    lead: 'Check that you copied the whole link. If it still does not work, ask the person who invited you for a new invite.',
  },
  expired: {
    status: 410,
    title: 'This invite has expired',
    lead: 'Invites are valid for a limited time. Ask the person who invited you for a new one.',
  },
  used: {
    status: 410,
    title: 'This invite has already been used',
    lead: 'If you used it to create your account, log in with your app. Otherwise, ask the person who invited you for a new invite.',
  },
  revoked: {
    status: 410,
    title: 'This invite has been cancelled',
    lead: 'Ask the person who invited you for a new invite.',
  },
};

export function validUntil(invite: Invite, now: Date): string {
  return formatExpiry(invite.expiresAt, now);
}

