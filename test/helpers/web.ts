// A tiny browser for the web side's tests: real HTTP (fetch), a cookie jar,
// and form submission the way a browser does it (GET the form, send its CSRF field back).
export interface Page {
  status: number;
  headers: Headers;
  body: string;
}

export class WebClient {
  private readonly cookies = new Map<string, string>();

  /** `headers` go with every request (e.g. X-Forwarded-For, as a reverse proxy adds it). */
  constructor(readonly base: string, private readonly headers: Record<string, string> = {}) {}

  private remember(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
    }
  }

  private cookieHeader(): Record<string, string> {
    const v = [...this.cookies].map(([k, val]) => `${k}=${val}`).join('; ');
    return { ...this.headers, ...(v ? { cookie: v } : {}) };
  }

  async get(path: string): Promise<Page> {
    const res = await fetch(this.base + path, { headers: this.cookieHeader(), redirect: 'manual' });
    this.remember(res);
    return { status: res.status, headers: res.headers, body: await res.text() };
  }

  async post(path: string, fields: Record<string, string>): Promise<Page> {
    const res = await fetch(this.base + path, {
      method: 'POST',
      headers: { ...this.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
      redirect: 'manual',
    });
    this.remember(res);
    return { status: res.status, headers: res.headers, body: await res.text() };
  }

  /** Open the form at `path`, then send `fields` with its CSRF token, as a browser would. */
  async submit(path: string, fields: Record<string, string>): Promise<Page> {
    const form = await this.get(path);
    const csrf = csrfOf(form.body)!;
    return this.post(path, { _csrf: csrf, ...fields });
  }
}

/** The form's CSRF token; throws when there is no form, unless `required` is false. */
export function csrfOf(html: string, required = true): string | undefined {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m && required) throw new Error(`no CSRF field in: ${html.slice(0, 300)}`);
  return m?.[1];
}

/** The token in an invite URI or URL. */
export function tokenOf(uriOrUrl: string): string {
  const m = /(?:preauth=|\/invite\/)([A-Za-z0-9_-]+)/.exec(uriOrUrl);
  if (!m) throw new Error(`no token in ${uriOrUrl}`);
  return m[1]!;
}

/** Text of the page's <h1>, unescaped enough for assertions. */
export function heading(html: string): string {
  const text = /<h1>([^<]*)<\/h1>/.exec(html)?.[1] ?? '';
  return text.replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** User-Agents of the devices the pages tell apart (as the browsers send them). */
export const USER_AGENTS = {
  android: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
  iphone: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  linux: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  windows: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  /** Also what iPadOS Safari sends by default. */
  mac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
} as const;

/** The value of attribute `attr` of the element with id `id`. */
export function attrOf(html: string, id: string, attr: string): string | undefined {
  const tag = new RegExp(`<[^>]*\\bid="${id}"[^>]*>`).exec(html)?.[0];
  return tag ? new RegExp(`\\b${attr}="([^"]*)"`).exec(tag)?.[1]?.replace(/&amp;/g, '&') : undefined;
}
