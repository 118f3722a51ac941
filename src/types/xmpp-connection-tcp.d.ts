// @xmpp/connection-tcp 0.14 ships no types; only what src/component uses.
declare module '@xmpp/connection-tcp' {
  import Connection from '@xmpp/connection';
  import type { Element } from '@xmpp/xml';

  export default class ConnectionTCP extends Connection {
    headerElement(): Element;
    socketParameters(service: string): { port: number | null; host: string } | undefined;
    protected _jid(id: string): unknown;
    protected _ready(resumed?: boolean): void;
  }
}
