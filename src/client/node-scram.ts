/**
 * SCRAM-SHA-256 for the engine on Node, built on the server's own ScramClient (auth/scram.ts).
 * A browser build supplies a WebCrypto mechanism with the same SaslMechanism shape instead.
 */
import { ScramClient } from '../auth/scram.js';
import type { SaslMechanism } from './sasl.js';

export function scramSha256(account: string, password: string): SaslMechanism {
  const scram = new ScramClient(account, password);
  let step = 0;
  return {
    name: 'SCRAM-SHA-256',
    respond(challenge) {
      switch (step++) {
        case 0:
          return scram.first();
        case 1:
          return scram.final(challenge);
        case 2:
          // The server proves it knows our credentials too; an impostor gets no acknowledgement.
          if (!scram.verify(challenge)) throw new Error('the server could not prove it knows the password');
          return '';
        default:
          throw new Error('unexpected SCRAM challenge');
      }
    },
  };
}
