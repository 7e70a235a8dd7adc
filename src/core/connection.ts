/**
 * What the core needs from a transport: one message-oriented connection type for TCP, TLS and
 * WebSocket (the shape of ergo's IRCConn). The core never touches a socket.
 */
export interface Connection {
  /** The peer's IP address (the real client address once proxies are handled). */
  readonly remoteAddress: string;
  readonly secure: boolean;
  /** Which transport, for logs and metrics: tcp, tls, ws (WebSocket), wss (WebSocket over TLS). */
  readonly transport: 'tcp' | 'tls' | 'ws' | 'wss';
  /** Bytes written but not yet handed to the kernel; what the SendQ limit is measured on. */
  readonly queuedBytes: number;
  /** Queue one or more complete lines. Writes are gathered and flushed once per event-loop turn. */
  write(data: Buffer): void;
  /** Flush what is queued, then close. */
  close(): void;
  /** Stop reading input (back-pressure while commands are queued), and start again. */
  pauseReading(): void;
  resumeReading(): void;
  /** Close now, dropping whatever is queued. */
  destroy(): void;
  /** Set on a client whose socket is on another node (relay.ts): that node counts it, not this one. */
  readonly relayed?: boolean;
}
