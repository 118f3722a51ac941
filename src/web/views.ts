// Page rendering: Eta templates under templates/, every value HTML-escaped
// unless a template says otherwise (only for nested templates' output).
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';

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
}

export class Views {
  private readonly eta = new Eta({ views: TEMPLATES, cache: true, autoEscape: true });

  render(template: 'landing' | 'invalid' | 'message' | 'register' | 'success', data: PageBase & Record<string, unknown>): string {
    return this.eta.render(`./${template}`, data);
  }
}
