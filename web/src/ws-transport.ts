/** The engine's Transport over a browser WebSocket (IRCv3 text.ircv3.net: one message per line). */
import type { Transport, TransportConnection, TransportHandlers } from '../../src/client/transport.js';

export function webSocketTransport(url: string): Transport {
  return {
    describe: () => url,
    connect: (handlers) => open(url, handlers),
  };
}

function open(url: string, handlers: TransportHandlers): TransportConnection {
  let closed = false;
  let opened = false;
  let socket: WebSocket | null = null;
  const finish = (error: string | null) => {
    if (closed) return;
    closed = true;
    handlers.onClose(error);
  };
  // Handlers are never called before connect returns.
  queueMicrotask(() => {
    if (closed) return;
    try {
      socket = new WebSocket(url, ['text.ircv3.net']);
    } catch (err) {
      finish((err as Error).message);
      return;
    }
    socket.onopen = () => {
      opened = true;
      handlers.onOpen();
    };
    socket.onmessage = (event) => {
      if (closed || typeof event.data !== 'string') return;
      for (const line of event.data.split(/\r?\n/)) if (line !== '') handlers.onLine(line);
    };
    socket.onclose = (event) => finish(opened ? (event.wasClean ? null : `connection lost (${event.code})`) : 'could not connect');
    socket.onerror = () => {};
  });
  return {
    send(line) {
      if (!closed && socket?.readyState === WebSocket.OPEN) socket.send(line);
    },
    close() {
      if (socket) socket.close(1000);
      else finish(null);
    },
  };
}

/** ws(s)://this-host/ : the server accepts IRC upgrades on its HTTP listener. */
export function defaultServerUrl(): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`;
}
