// Which spec files test/run.mts runs on ejabberd (23.01 and 24.12, TEST_SERVER=ejabberd):
// every suite that goes through the shared stack (test/helpers/stack.ts), so the same
// tests hold on both servers, plus ejabberd's own. Not here: what is about Prosody alone
// (its harness, its roles, doctor and XEP-0133 on Prosody, npm start's local Prosody,
// services started as child processes on Prosody) and what needs no XMPP server at all
// (PostgreSQL, store faults), which the Prosody runs cover.
// The Prosody runs run every server suite except the ejabberd-only specs.

/** Run on ejabberd. */
export const EJABBERD_SPECS: readonly string[] = [
  'test/integration/local-ejabberd.test.ts',
  'test/integration/ejabberd-seam.test.ts',
  'test/integration/adhoc.test.ts',
  'test/integration/bot-contact.test.ts',
  'test/integration/bot.test.ts',
  'test/integration/bridge.test.ts',
  'test/integration/group-bridge.test.ts',
  'test/integration/groups.test.ts',
  'test/integration/community-options.test.ts',
  'test/integration/cli-dead-ends.test.ts',
  'test/integration/operations.test.ts',
  'test/integration/web-browser.test.ts',
  'test/integration/web-devices.test.ts',
  'test/integration/web.test.ts',
  'test/integration/api.test.ts',
  'test/conformance/invite-button.test.ts',
  'test/conformance/invite-clients.test.ts',
  'test/faults/fuzz.test.ts',
  'test/faults/reconnect.test.ts',
  'test/abuse/bridge-input.test.ts',
  'test/abuse/growth.test.ts',
  'test/abuse/held-up.test.ts',
  'test/abuse/preauth.test.ts',
  'test/abuse/second-component.test.ts',
  'test/abuse/sessions.test.ts',
  'test/abuse/token-leak.test.ts',
  'test/abuse/usernames.test.ts',
  'test/abuse/web.test.ts',
];

/** Specs about ejabberd alone: never run on Prosody. */
export const EJABBERD_ONLY_SPECS: readonly string[] = [
  'test/integration/local-ejabberd.test.ts',
  'test/integration/ejabberd-seam.test.ts',
];
