/**
 * How the engine reaches a server. One `Transport` describes a server address; each `connect`
 * opens a fresh connection (the engine calls it again to reconnect). Implementations: TCP/TLS
 * in node-transport.ts; a WebSocket one for the browser can follow the same shape.
 */
export interface Transport {
  /**
   * Open a connection. Handlers are called in order: `onOpen` once (or never, if it fails),
   * `onLine` per received line, then `onClose` exactly once, also when `close()` was called.
   * None is called before `connect` returns.
   */
  connect(handlers: TransportHandlers): TransportConnection;
  /** For messages: "irc.example.net:6697 (TLS)". */
  describe(): string;
}

export interface TransportHandlers {
  onOpen(): void;
  /** One line without its CR LF, decoded as UTF-8. */
  onLine(line: string): void;
  /** `error` says what went wrong; null when closed normally (by either side). */
  onClose(error: string | null): void;
}

export interface TransportConnection {
  /** Send one line; the transport adds CR LF. Ignored once closed. */
  send(line: string): void;
  /** Close; `onClose` follows (asynchronously). */
  close(): void;
}
