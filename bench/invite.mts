// Benchmark 2: creating an invite, with 0, 1,000 and 10,000 invites pending.
//   floor          one chat message round trip through the server (A → B's echo client → A)
//   bot text       "invite" to the bot, until its reply arrives
//   ad-hoc @bot    urn:xmpp:invite#invite at the bot's full JID
//   ad-hoc @comp   urn:xmpp:invite#invite at the component's domain
//   native ad-hoc  urn:xmpp:invite#invite at native.localhost (Prosody's mod_invites_adhoc)
//   native′ ad-hoc the same again, a control at 0 pending, where the verdict is close:
//                  native′/native is what the method reads as a difference when there is none
// The creator is an admin on both sides, so both make an account+contact invite.
// They take turns in an order where each follows each equally often (lib/turns.ts).
import xml, { type Element } from '@xmpp/xml';
import { BOT, COMPONENT } from '../test/helpers/stack.js';
import type { User } from '../test/helpers/xmpp-user.js';
import { nativeInviteFile, setNativeStore } from './lib/native-store.js';
import { DOMAIN, NATIVE, NATIVE_ADMIN, OUR_ADMIN, SETTINGS_NOTE, adhoc, nativePendingCount, startBenchStack, tokenOf, uriOf } from './lib/setup.js';
import { type BenchReport, type Summary, type Target, formatReport, ms, now, ratio, summarize, table } from './lib/stats.js';
import { turnsForever } from './lib/turns.js';

const SIZES = [0, 1_000, 10_000];
/** Samples per method at each size: more where a sample is cheap (native at 10,000 takes ~0.3 s). */
const SAMPLES: Record<number, number> = { 0: 300, 1_000: 200, 10_000: 100 };
const WARMUP = 10;
const NODE = 'urn:xmpp:invite#invite';
const SYSTEM = { system: 'cli' } as const;
const METHODS = ['floor', 'bot text', 'ad-hoc @bot', 'ad-hoc @comp', 'native ad-hoc', 'native′ ad-hoc'] as const;
type Method = (typeof METHODS)[number];
const CONTROL: Method = 'native′ ad-hoc';
/** At 1,000 and 10,000 pending ours is 30–300× faster: a control would add half a minute and tell nothing. */
const methodsAt = (size: number): readonly Method[] => size === 0 ? METHODS : METHODS.filter((m) => m !== CONTROL);

async function echoClient(user: User): Promise<void> {
  user.xmpp.on('stanza', (el: Element) => {
    if (el.is('message') && el.attrs.type === 'chat' && el.getChild('body')) {
      void user.xmpp.send(xml('message', { to: el.attrs.from, type: 'chat' }, xml('body', {}, el.getChildText('body') ?? '')));
    }
  });
}

export async function run(): Promise<BenchReport> {
  const b = await startBenchStack();
  const lines: string[] = [SETTINGS_NOTE, 'No PUBLIC_URL (no QR follow-up message).'];
  const targets: Target[] = [];
  const results = new Map<number, Record<Method, Summary>>();
  try {
    const { stack } = b;
    const ours = await stack.user(OUR_ADMIN);
    const echo = await stack.user(`echo@${DOMAIN}`);
    await echoClient(echo);
    const native = await stack.user(NATIVE_ADMIN);
    const echoJid = `echo@${DOMAIN}`;

    const op: Record<Method, () => Promise<unknown>> = {
      floor: async () => { if ((await ours.ask(echoJid, 'ping')) !== 'ping') throw new Error('echo'); },
      'bot text': async () => { if (!/preauth=/.test(await ours.ask(BOT, 'invite'))) throw new Error('bot did not give an invite'); },
      'ad-hoc @bot': async () => tokenOf(uriOf(await adhoc(ours, `${BOT}/bot`, NODE))),
      'ad-hoc @comp': async () => tokenOf(uriOf(await adhoc(ours, COMPONENT, NODE))),
      'native ad-hoc': async () => tokenOf(uriOf(await adhoc(native, NATIVE, NODE))),
      'native′ ad-hoc': async () => tokenOf(uriOf(await adhoc(native, NATIVE, NODE))),
    };

    for (const size of SIZES) {
      // Ours: top the store up through the invite core so that `size` are pending now
      // (the invites made while measuring stay: one more per sample of our three methods).
      let startOurs = 0;
      await b.withCore(async (service) => {
        const pending = async () => {
          const r = await service.listPending(SYSTEM, { all: true, limit: 1000 });
          if (!r.ok) throw new Error(r.message);
          return r.invites.length;
        };
        const missing = size - await pending();
        for (let done = 0; done < missing; done += 1000) {
          await Promise.all(Array.from({ length: Math.min(1000, missing - done) }, () =>
            service.create({ jid: OUR_ADMIN }, { kind: 'account' }).then((r) => { if (!r.ok) throw new Error(r.message); })));
        }
        startOurs = await pending();
      });
      // Native: its host file holds exactly `size` pending invites before every sample.
      const nativeFile = nativeInviteFile(size, NATIVE, `${NATIVE_ADMIN}/bench`);
      await setNativeStore(b.nativeDataDir, nativeFile);
      const startNative = await nativePendingCount(b);

      const methods = methodsAt(size);
      const samples = Object.fromEntries(methods.map((m) => [m, [] as number[]])) as Record<Method, number[]>;
      const seen = Object.fromEntries(methods.map((m) => [m, 0])) as Record<Method, number>;
      const order = turnsForever(methods);
      while (methods.some((m) => samples[m].length < SAMPLES[size]!)) {
        const m = order.next().value as Method;
        if (samples[m].length === SAMPLES[size]) continue;
        if (m === 'native ad-hoc' || m === CONTROL) await setNativeStore(b.nativeDataDir, nativeFile);
        const t0 = now();
        await op[m]();
        const t = now() - t0;
        if (++seen[m] > WARMUP) samples[m].push(t);
      }
      results.set(size, Object.fromEntries(methods.map((m) => [m, summarize(samples[m])])) as Record<Method, Summary>);
      lines.push(`pending at start of size ${size}: ours ${startOurs} (plus those made while measuring), native ${startNative} (restored before each sample)`);
    }

    const floor0 = results.get(0)!.floor.p50;
    const rows: string[][] = [['ms p50 / p99', ...SIZES.map((s) => `${s} pending`), 'p50 10k/0', 'p50 × floor (0 / 10k)']];
    for (const m of METHODS) {
      if (m === CONTROL) continue;
      const r = SIZES.map((s) => results.get(s)![m]);
      rows.push([m, ...r.map((x) => `${ms(x.p50)} / ${ms(x.p99)}`), ratio(r[2]!.p50, r[0]!.p50),
        m === 'floor' ? '1' : `${ratio(r[0]!.p50, results.get(0)!.floor.p50)} / ${ratio(r[2]!.p50, results.get(10_000)!.floor.p50)}`]);
    }
    const c = results.get(0)![CONTROL];
    rows.push([CONTROL, `${ms(c.p50)} / ${ms(c.p99)}`, '—', '—', '—', ratio(c.p50, results.get(0)!.floor.p50)]);
    lines.push('', `${SIZES.map((s) => `${SAMPLES[s]} at ${s}`).join(', ')} samples per method (after ${WARMUP} warm-up turns each), in turns where each method follows each equally often; native′ only at 0:`, ...table(rows));
    lines.push(`floor p50 at 0 pending: ${ms(floor0)} ms`);

    for (const m of ['bot text', 'ad-hoc @bot', 'ad-hoc @comp'] as const) {
      for (const s of SIZES) {
        const r = results.get(s)!, o = r[m].p50, n = r['native ad-hoc'].p50;
        const control = r[CONTROL] ? `; control ${ratio(r[CONTROL].p50, n)}` : '';
        const measured = `${ms(o)} vs ${ms(n)} ms (${ratio(o, n)}${control})`;
        targets.push({ bench: '2', what: `${m} ≤ native, p50 at ${s}`, measured, target: '≤ 1.00', pass: o <= n });
      }
      const flat = results.get(10_000)![m].p50 / results.get(0)![m].p50;
      targets.push({ bench: '2', what: `${m} flat: p50 10k / p50 0`, measured: flat.toFixed(2), target: '≤ 2', pass: flat <= 2 });
    }
  } finally {
    await b.stop();
  }
  return { title: '2. Creating an invite', lines, targets };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await run();
  console.log(formatReport(r));
}
