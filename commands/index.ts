// Every text command, in the order help lists them.
import type { Command } from '../src/bot/command.js';
import { groupAdd, groupCreate, groupDelete, groupRemove, groups } from './groups.js';
import { help } from './help.js';
import { inviteAccount } from './invite-account.js';
import { inviteAdmin } from './invite-admin.js';
import { inviteContact } from './invite-contact.js';
import { inviteReset } from './invite-reset.js';
import { invite } from './invite.js';
import { invites } from './invites.js';
import { revoke } from './revoke.js';

export const commands: readonly Command[] = [
  invite, inviteContact, inviteAccount, inviteAdmin, inviteReset, invites, revoke,
  groups, groupCreate, groupAdd, groupRemove, groupDelete, help,
];
