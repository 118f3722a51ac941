// The recommended XMPP apps shown on invite pages: the shipped list, or the
// admin's CLIENTS_FILE, checked once at start-up so a bad file stops the start
// with one clear line instead of breaking pages later.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type JSONSchemaType } from 'ajv';

/** A text in German, French, Spanish (English is the field without the s). */
export type Translations = { de?: string; fr?: string; es?: string };

export interface ClientLink {
  /** "Google Play", "F-Droid", "Download" */
  label: string;
  /** The label in the pages' other languages, where it is not a name. */
  labels?: Translations;
  url: string;
  /**
   * A Google Play link whose app reads the Play install referrer: the page adds
   * `&referrer=` and the invite's xmpp: URI (URL-encoded), so the app finds the invite
   * when it is first opened, with no second visit to the page.
   */
  referrer?: boolean;
}

export interface Client {
  /** The app's page is /invite/TOKEN/app/ID; unique in the list. Absent: made from the name ("Siskin IM" → "siskin-im"). */
  id: string;
  name: string;
  /** In English; `descriptions` may give it in the pages' other languages. */
  description: string;
  descriptions?: Translations;
  homepage: string;
  links: ClientLink[];
  /** The app accepts an xmpp: invite link (XEP-0401): install it, then "Open in app". Otherwise: register on the web, then log in. */
  opensInvites: boolean;
}

export interface Platform {
  id: string;
  name: string;
  clients: Client[];
}

export interface ClientList {
  platforms: Platform[];
}

/** What a file may leave out (`id`, `referrer`). */
type ClientFile = { platforms: (Omit<Platform, 'clients'> & { clients: (Omit<Client, 'id'> & { id?: string })[] })[] };

export const SHIPPED_CLIENTS_FILE = fileURLToPath(new URL('./clients.json', import.meta.url));

// Only web links: a javascript: or data: URL from a config file must never become a link.
const APP_ID = '^[a-z0-9-]{1,40}$';
const webUrl = { type: 'string', pattern: '^https?://[^\\s<>"\']+$', maxLength: 500 } as const;
const text = (maxLength: number) => ({ type: 'string', minLength: 1, maxLength } as const);
const translations = (maxLength: number) => ({
  type: 'object',
  nullable: true,
  additionalProperties: false,
  required: [],
  properties: { de: { ...text(maxLength), nullable: true }, fr: { ...text(maxLength), nullable: true }, es: { ...text(maxLength), nullable: true } },
} as const);

const schema: JSONSchemaType<ClientFile> = {
  type: 'object',
  required: ['platforms'],
  additionalProperties: false,
  properties: {
    platforms: {
      type: 'array',
      maxItems: 20,
      items: {
        type: 'object',
        required: ['id', 'name', 'clients'],
        additionalProperties: false,
        properties: {
          id: { type: 'string', pattern: '^[a-z0-9-]{1,30}$' },
          name: text(60),
          clients: {
            type: 'array',
            maxItems: 30,
            items: {
              type: 'object',
              required: ['name', 'description', 'homepage', 'links', 'opensInvites'],
              additionalProperties: false,
              properties: {
                id: { type: 'string', pattern: APP_ID, nullable: true },
                name: text(60),
                description: text(300),
                descriptions: translations(300),
                homepage: webUrl,
                links: {
                  type: 'array',
                  maxItems: 6,
                  items: {
                    type: 'object',
                    required: ['label', 'url'],
                    additionalProperties: false,
                    properties: { label: text(40), labels: translations(40), url: webUrl, referrer: { type: 'boolean', nullable: true } },
                  },
                },
                opensInvites: { type: 'boolean' },
              },
            },
          },
        },
      },
    },
  },
};

const validate = new Ajv({ allErrors: false }).compile(schema);

export class ClientListError extends Error {}

/** "Siskin IM" → "siskin-im": the id of an app the file gives none (as mod_register_apps makes its ids). */
export function idOf(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'app';
}

// The Play Store's app page, the only kind of link that takes an install referrer.
const PLAY = /^https:\/\/play\.google\.com\/store\/apps\/details\?id=[A-Za-z0-9._]+$/;

/**
 * The store link as the page shows it: a referrer link carries the invite URI as the Play
 * install referrer, the way Prosody's mod_register_apps does (its `magic_link_format =
 * "{app.link!}&referrer={invite.uri}"` for Conversations and yaxim, prosody-modules
 * mod_register_apps/mod_register_apps.lua). Conversations reads it on first start:
 * src/conversations/java/eu/siacs/conversations/ui/WelcomeActivity.java,
 * onInstallReferrerDiscovered(), which starts the token registration for an xmpp:
 * referrer with ?register or ?roster;ibr=y (InstallReferrerUtils gets it from the
 * Play InstallReferrerClient); Cheogram and Monocles are built from the same code.
 */
/** The store link, carrying `uri` as install referrer where the store takes one; no `uri` (the invite is spent): the plain link. */
export function storeUrl(link: ClientLink, uri: string | undefined): string {
  return link.referrer && uri ? `${link.url}&referrer=${encodeURIComponent(uri)}` : link.url;
}

/** An app of the list by id, with its platform. */
export function findClient(list: ClientList, id: string): { client: Client; platform: Platform } | undefined {
  for (const platform of list.platforms) {
    const client = platform.clients.find((c) => c.id === id);
    if (client) return { client, platform };
  }
  return undefined;
}

/** The client list in `file`, or throws a ClientListError naming the file and the first problem. */
export function loadClients(file: string = SHIPPED_CLIENTS_FILE): ClientList {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ClientListError(`CLIENTS_FILE ${file}: ${(e as Error).message}`);
  }
  if (!validate(data)) {
    const err = validate.errors?.[0];
    throw new ClientListError(`CLIENTS_FILE ${file}: ${err?.instancePath || '(top)'} ${err?.message ?? 'is not a client list'}`);
  }
  const seen = new Map<string, string>();
  const platforms = data.platforms.map((p, pi) => ({
    ...p,
    clients: p.clients.map((c, ci): Client => {
      const id = c.id ?? idOf(c.name);
      const where = `/platforms/${pi}/clients/${ci}`;
      const before = seen.get(id);
      if (before) throw new ClientListError(`CLIENTS_FILE ${file}: ${where} has the app id "${id}" of ${before}; give each app its own "id"`);
      seen.set(id, where);
      c.links.forEach((l, li) => {
        if (l.referrer && !PLAY.test(l.url)) {
          throw new ClientListError(`CLIENTS_FILE ${file}: ${where}/links/${li} has "referrer": true but is not a Google Play app page (https://play.google.com/store/apps/details?id=APP)`);
        }
      });
      return { ...c, id };
    }),
  }));
  return { platforms };
}
