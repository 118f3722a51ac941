// The recommended XMPP apps shown on invite pages: the shipped list, or the
// admin's CLIENTS_FILE, checked once at start-up so a bad file stops the start
// with one clear line instead of breaking pages later.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type JSONSchemaType } from 'ajv';

export interface ClientLink {
  /** "Google Play", "F-Droid", "Download" */
  label: string;
  url: string;
}

export interface Client {
  name: string;
  description: string;
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

export const SHIPPED_CLIENTS_FILE = fileURLToPath(new URL('./clients.json', import.meta.url));

// Only web links: a javascript: or data: URL from a config file must never become a link.
const webUrl = { type: 'string', pattern: '^https?://[^\\s<>"\']+$', maxLength: 500 } as const;
const text = (maxLength: number) => ({ type: 'string', minLength: 1, maxLength } as const);

const schema: JSONSchemaType<ClientList> = {
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
                name: text(60),
                description: text(300),
                homepage: webUrl,
                links: {
                  type: 'array',
                  maxItems: 6,
                  items: {
                    type: 'object',
                    required: ['label', 'url'],
                    additionalProperties: false,
                    properties: { label: text(40), url: webUrl },
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
  return data;
}
