// Per-sender rate limits (chat commands, ad-hoc commands): rate-limiter-flexible's
// in-memory limiter, with the refusal worded for the front end to pass on.
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { type Lang, translator } from './i18n/i18n.js';

export interface Rate {
  points: number;
  /** Seconds. */
  duration: number;
}

export type Admission = { ok: true } | { ok: false; firstRefusal: boolean; seconds: number };

export class SenderLimit {
  private readonly limiter: RateLimiterMemory;

  constructor(readonly rate: Rate) {
    this.limiter = new RateLimiterMemory(rate);
  }

  /** Give back the point a use took (it turned out not to count). */
  async refund(sender: string): Promise<void> {
    await this.limiter.reward(sender, 1);
  }

  async take(sender: string): Promise<Admission> {
    try {
      await this.limiter.consume(sender);
      return { ok: true };
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) throw res;
      return { ok: false, firstRefusal: res.consumedPoints === this.rate.points + 1, seconds: Math.ceil(res.msBeforeNext / 1000) };
    }
  }
}

/** The refusal, in the sender's language (English unless told). */
export const tooFast = (seconds: number, lang: Lang = 'en') => translator(lang)('common.tooFast', { count: seconds });
