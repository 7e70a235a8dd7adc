import net from 'node:net';

/** A response head as read off the wire: the status and the lower-cased headers. */
export interface ResponseHead {
  status: number;
  headers: Record<string, string>;
}

/** One TCP connection to an HTTP listener, from `localAddress` (any 127.x.y.z on Linux). */
export class RawHttp {
  /** Everything the server sent. */
  text = '';
  /** Resolves when the server (or we) closed the connection. */
  readonly closed: Promise<void>;
  private wake: (() => void) | null = null;

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.text += chunk;
      this.wake?.();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    void this.closed.then(() => this.wake?.());
  }

  static connect(port: number, localAddress = '127.0.0.1'): Promise<RawHttp> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port, localAddress }, () => resolve(new RawHttp(socket)));
      socket.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.socket.destroyed || this.socket.readableEnded;
  }

  send(text: string): void {
    this.socket.write(text);
  }

  /** The head of the next response (once its blank line has arrived); it is consumed, body too. */
  async head(timeoutMs = 5000): Promise<ResponseHead> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = this.text.indexOf('\r\n\r\n');
      if (end !== -1) {
        const [statusLine = '', ...lines] = this.text.slice(0, end).split('\r\n');
        this.text = '';
        const headers: Record<string, string> = {};
        for (const line of lines) {
          const i = line.indexOf(':');
          headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
        }
        return { status: Number(statusLine.split(' ')[1]), headers };
      }
      if (this.socket.destroyed || Date.now() > deadline) throw new Error(`no response head; got ${JSON.stringify(this.text)}`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 50);
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A WebSocket handshake request with the given extra headers (lower-case names override). */
export function upgradeRequest(port: number, headers: Record<string, string> = {}): string {
  const all: Record<string, string> = {
    host: `127.0.0.1:${port}`,
    upgrade: 'websocket',
    connection: 'Upgrade',
    'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
    'sec-websocket-version': '13',
    ...headers,
  };
  return `GET / HTTP/1.1\r\n${Object.entries(all)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;
}

/** Open a connection, send a WebSocket handshake, return the response head and close. */
export async function tryUpgrade(port: number, headers: Record<string, string> = {}, localAddress?: string): Promise<ResponseHead> {
  const conn = await RawHttp.connect(port, localAddress);
  try {
    conn.send(upgradeRequest(port, headers));
    return await conn.head();
  } finally {
    conn.close();
  }
}

/** Poll `condition` every 20 ms until it holds or `timeoutMs` passes; false if it never did. */
export async function eventually(condition: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}
