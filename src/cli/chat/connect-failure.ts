/**
 * The first connection failed: say why and what to try, instead of retrying something that
 * will not fix itself. The reasons are node-transport.ts's (`describeError`).
 */
import type { ChatArgs } from './args.js';

/** Lines for stderr: what failed, then a hint for the usual causes. */
export function firstConnectionFailure(reason: string, args: Pick<ChatArgs, 'host' | 'port' | 'tls' | 'ca'>, address: string): string[] {
  const lines = [`parley chat: could not connect to ${address}: ${reason}.`];
  if (reason.startsWith('certificate not trusted')) {
    lines.push(
      args.ca
        ? `The certificate is not signed by ${args.ca}, or not for the name ${args.host} (connect by the name in the certificate).`
        : 'A test server with a self-signed certificate: add --insecure. To trust the CA that signed it: --ca FILE.',
    );
  } else if (reason.startsWith('no TLS on that port')) {
    lines.push(`Leave out --tls for a plain port, or give the TLS port (usually 6697): parley chat ${args.host}:6697 --tls`);
  } else if (reason.startsWith('connection refused')) {
    lines.push(`Nothing listens on ${args.host}:${args.port}. Is the server running (parley serve, or npm start)? Plain IRC is usually port 6667, TLS 6697.`);
  } else if (reason.startsWith('unknown host')) {
    lines.push(`Check the spelling of ${JSON.stringify(args.host)}, or give an IP address.`);
  }
  return lines;
}
