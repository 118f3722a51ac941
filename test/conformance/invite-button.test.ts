// The apps' own "invite" button (XEP-0401's urn:xmpp:invite#invite), replayed from their
// sources against a real server with our bridge: they look for the command in the domain's
// command list (disco#items on the commands node), keep the item's jid, run it there, and
// read `uri` and `landing-url` from a form that must complete in one step.
import { expect } from 'chai';
import { freePorts } from '../../src/server/free-port.js';
import xml, { type Element } from '@xmpp/xml';
import { NS_COMMANDS, NS_DATA, command, runCommand } from '../helpers/adhoc.js';
import { COMPONENT, DOMAIN, serverName, type Stack, startStack } from '../helpers/stack.js';
import type { User } from '../helpers/xmpp-user.js';

const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
const NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items';
const INVITE = 'urn:xmpp:invite#invite';

interface ButtonProfile {
  name: string;
  sources: string[];
  /** The action of its one request. */
  action: 'execute' | 'complete';
}

const BUTTONS: ButtonProfile[] = [
  {
    name: 'Conversations (current)',
    sources: [
      'christianrowlands/ninja-chat src/main/java/eu/siacs/conversations/xmpp/manager/DiscoManager.java @4c29130b (fetchServerCommands: disco#items to the domain, node commands; commands(): node -> item jid)',
      'christianrowlands/ninja-chat .../xmpp/manager/EasyOnboardingManager.java, AdHocCommandsManager.java @01294ca3 (commandComplete: action complete; completedData: status completed or "Command did not complete"; uri must be xmpp:ACCOUNT?roster;preauth, landing-url preferred)',
    ],
    action: 'complete',
  },
  {
    name: 'Conversations (2024), Snikket Android',
    sources: ['snikket-im/snikket-android src/main/java/eu/siacs/conversations/xmpp/manager/EasyOnboardingManager.java @067ca0aa (setTo(getAddressForCommand(EASY_ONBOARDING_INVITE)), Action.EXECUTE; reads uri and landing-url)'],
    action: 'execute',
  },
  {
    name: 'Gajim',
    sources: [
      'gajim/gajim gajim/common/modules/adhoc_commands.py (request_command_list(jid=domain); the address popover runs urn:xmpp:invite#invite, needs status completed, shows uri as a QR code)',
      'gajim/python-nbxmpp nbxmpp/modules/adhoc.py @112c06bc (AdHocCommand(**item attrs) keeps the jid; Iq(to=command.jid, type=set), action execute)',
    ],
    action: 'execute',
  },
];

async function iq(user: User, type: 'get' | 'set', to: string, child: Element): Promise<Element> {
  return user.xmpp.iqCaller.request(xml('iq', { type, to }, child), 10_000);
}

/** disco#items on the domain's commands node, as the apps ask it: node -> jid. */
async function domainCommands(user: User): Promise<Map<string, string>> {
  const res = await iq(user, 'get', DOMAIN, xml('query', { xmlns: NS_DISCO_ITEMS, node: NS_COMMANDS }));
  const items = (res.getChild('query', NS_DISCO_ITEMS)?.getChildren('item') ?? []) as Element[];
  return new Map(items.map((i) => [String(i.attrs.node), String(i.attrs.jid)]));
}

const fieldValue = (form: Element | undefined, v: string) =>
  (form?.getChildren('field') as Element[] | undefined)?.find((f) => f.attrs.var === v)?.getChildText('value') ?? undefined;

describe(`client conformance: the apps' own invite button (real ${serverName()})`, function () {
  this.timeout(60_000);
  let stack: Stack;
  before(async () => {
    const [port] = await freePorts(1);
    stack = await startStack({ PUBLIC_URL: 'https://chat.example.org/join', HTTP_PORT: String(port), TRUST_PROXY: '127.0.0.1' });
  });
  after(async () => { await stack?.stop(); });

  it('the domain says it has commands (disco#info), the apps\' condition for asking for them', async () => {
    const ann = await stack.user(`ann@${DOMAIN}`);
    const info = await iq(ann, 'get', DOMAIN, xml('query', { xmlns: NS_DISCO_INFO }));
    const features = (info.getChild('query', NS_DISCO_INFO)!.getChildren('feature') as Element[]).map((f) => f.attrs.var);
    expect(features).to.include(NS_COMMANDS);
  });

  BUTTONS.forEach((app, n) => {
    it(`${app.name}: finds ${INVITE} in the domain's commands at the component, runs it (${app.action}) and gets its link in one step`, async () => {
      const user = await stack.user(`button${n}@${DOMAIN}`);
      const where = (await domainCommands(user)).get(INVITE);
      expect(where, app.sources[0]).to.equal(COMPONENT);
      const done = await runCommand(user, where!, command(INVITE, { action: app.action }));
      expect(done.name, done.toString()).to.equal('command');
      expect(done.attrs.status).to.equal('completed');
      const form = done.getChild('x', NS_DATA);
      const uri = fieldValue(form, 'uri');
      // Conversations takes it only when it is the account's own roster;preauth URI.
      expect(uri).to.match(new RegExp(`^xmpp:button${n}@${DOMAIN}\\?roster;preauth=[A-Za-z0-9_-]+`));
      expect(fieldValue(form, 'landing-url')).to.match(/^https:\/\/chat\.example\.org\/join\/invite\/[A-Za-z0-9_-]+$/);
      const token = /preauth=([A-Za-z0-9_-]+)/.exec(uri!)![1]!;
      expect((await stack.app.service.lookup(token)).state).to.equal('valid');
    });
  });

  it('is listed once among the domain\'s commands, at the component', async () => {
    const ann = await stack.user(`ann2@${DOMAIN}`);
    const res = await iq(ann, 'get', DOMAIN, xml('query', { xmlns: NS_DISCO_ITEMS, node: NS_COMMANDS }));
    const invites = (res.getChild('query', NS_DISCO_ITEMS)!.getChildren('item') as Element[]).filter((i) => i.attrs.node === INVITE);
    expect(invites.map((i) => i.attrs.jid)).to.deep.equal([COMPONENT]);
  });
});
