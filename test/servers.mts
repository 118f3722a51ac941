// Which spec files test/run.mts runs on ejabberd (23.01 and 24.12, TEST_SERVER=ejabberd).
// An explicit list, grown as the ejabberd bridge lands: a spec joins when it passes there.
// The Prosody runs run every server suite except the ejabberd-only specs.

/** Run on ejabberd. */
export const EJABBERD_SPECS: readonly string[] = [
  'test/integration/local-ejabberd.test.ts',
  'test/integration/bridge.test.ts',
  'test/conformance/invite-clients.test.ts',
];

/** Specs about ejabberd alone: never run on Prosody. */
export const EJABBERD_ONLY_SPECS: readonly string[] = [
  'test/integration/local-ejabberd.test.ts',
];
