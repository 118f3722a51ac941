// The CLI against the running service (over its control socket), with the server
// asked through the bridge: an invite that could never be used is refused.
import { expect } from 'chai';
import { askService, controlSocketPath } from '../../src/control/socket.js';
import { runScript } from '../helpers/scripts.js';
import { DOMAIN, serverName, type Stack, startStack } from '../helpers/stack.js';

describe(`CLI: no dead ends at creation (real ${serverName()})`, function () {
  this.timeout(60_000);
  let stack: Stack;
  before(async () => {
    stack = await startStack();
    await stack.user(`alice@${DOMAIN}`);
  });
  after(() => stack?.stop());

  const cli = (...args: string[]) => runScript('src/cli.ts', args, { cwd: stack.dir, vars: { XMPP_DOMAIN: DOMAIN, STORE_FILE: stack.env.STORE_FILE! } });
  const pending = async () => {
    const r = await stack.app.service.listPending({ system: 'cli' }, { all: true, limit: 1000 });
    return r.ok ? r.invites.length : -1;
  };

  it('refuses a bound account invite for an existing account, and a reset of a missing one: non-zero exit and the sentence', async () => {
    const before = await pending();
    const taken = await cli('create', 'account', '--username', 'alice');
    expect(taken.code, taken.stdout).to.equal(1);
    expect(taken.stderr).to.equal(`The account alice@${DOMAIN} already exists; choose another username, or create a password reset invite with "npm run invites -- create reset alice".\n`);
    const missing = await cli('create', 'reset', 'nobody');
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.equal(`There is no account nobody@${DOMAIN} to reset.\n`);
    expect(await pending()).to.equal(before);
  });

  it('still creates what can be used', async () => {
    const reset = await cli('create', 'reset', 'alice');
    expect(reset.code, reset.stderr).to.equal(0);
    expect(reset.stdout).to.match(/^Password reset invite for alice@localhost: it sets a new password\. Valid until .* UTC \(in 1 day\), single use\.\nxmpp:alice@localhost\?register;preauth=/);
    const bound = await cli('create', 'account', '--username', 'nobody');
    expect(bound.code, bound.stderr).to.equal(0);
    expect(bound.stdout).to.match(/^Account invite for the username "nobody": /);
  });

  it('the control socket answers the same', async () => {
    const socket = controlSocketPath(stack.env.STORE_FILE!);
    expect(await askService(socket, { op: 'create', request: { kind: 'account', username: 'alice' } })).to.deep.equal({
      ok: false, text: `The account alice@${DOMAIN} already exists; choose another username, or create a password reset invite with "npm run invites -- create reset alice".`,
    });
    expect(await askService(socket, { op: 'create', request: { kind: 'reset', username: 'ghost' } })).to.deep.equal({ ok: false, text: `There is no account ghost@${DOMAIN} to reset.` });
  });
});
