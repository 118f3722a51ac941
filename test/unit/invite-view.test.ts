// What the pages say an invite does depends on what the server can do (the server seam):
// no promise of contacts where nothing can make them, no server roles where none are given.
import { expect } from 'chai';
import { createAccountForm } from '../../src/adhoc/forms.js';
import { translator } from '../../src/i18n/i18n.js';
import type { Invite } from '../../src/invites/types.js';
import { inviteText } from '../../src/web/invite-view.js';

const t = translator('en');
const invite = (over: Partial<Invite>): Invite => ({
  id: 'abc', kind: 'account', tokenHash: 'h', createdBy: 'boss@example.org', createdAt: new Date(0).toISOString(),
  expiresAt: new Date(86_400_000).toISOString(), maxUses: 1, uses: [], roles: [], ...over,
} as Invite);

describe('invite pages: what the server can do', () => {
  it('an account+contact invite promises the contact only where the server can make it', () => {
    const inv = invite({ kind: 'account-contact', inviter: 'alice@example.org' });
    expect(inviteText(inv, 'example.org', t).lead.join(' ')).to.include('adds alice@example.org to your contacts');
    const none = inviteText(inv, 'example.org', t, { makesContacts: false }).lead.join(' ');
    expect(none).to.include('cannot add alice@example.org to your contacts by itself');
    expect(none).to.not.include('adds alice@example.org to your contacts');
  });

  it('an admin invite is a server admin where the server gives roles, else an admin of invites only', () => {
    const inv = invite({ roles: ['admin'] });
    expect(inviteText(inv, 'example.org', t).roles).to.equal('This account will be an administrator of example.org.');
    expect(inviteText(inv, 'example.org', t, { grantsRoles: false }).roles)
      .to.equal('This account will have these roles in the invite service of example.org: administrator. The chat server itself does not give them.');
  });

  it('the ad-hoc role list says "of invites only" where the server gives no roles', () => {
    const label = (serverRoles: boolean) => createAccountForm(t, {}, serverRoles).getChildren('field')
      .find((f) => f.attrs.var === 'role')!.getChildren('option').find((o) => o.getChildText('value') === 'admin')!.attrs.label;
    expect(label(true)).to.equal('Administrator (of the server and of invites)');
    expect(label(false)).to.equal('Administrator (of invites only: this server gives no roles)');
  });
});
