// Page rendering: Eta templates under templates/, every value HTML-escaped
// unless a template says otherwise (only for nested templates' output).
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { Lang, T } from '../i18n/i18n.js';
import type { Visit } from './visit.js';

const TEMPLATES = fileURLToPath(new URL('./templates', import.meta.url));

/** What every page's layout needs. */
export interface PageBase {
  /** The server's domain, shown as the site name. */
  site: string;
  title: string;
  /** PUBLIC_URL's path ('' at the root): links are built under it. */
  base: string;
  /** The invite's xmpp: URI, for <link rel="alternate">. */
  uri?: string;
  /** The page's language (<html lang>) and its sentences. */
  lang: Lang;
  t: T;
  languages: Visit['languages'];
}

export type Template = 'landing' | 'invalid' | 'message' | 'register' | 'success' | 'app';

export class Views {
  private readonly eta = new Eta({ views: TEMPLATES, cache: true, autoEscape: true });

  render(template: Template, data: PageBase & Record<string, unknown>): string {
    return this.eta.render(`./${template}`, data);
  }
}
