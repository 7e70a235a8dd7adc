/** Logging in with SASL over AUTHENTICATE, while connecting or later. */
import type { ClientConnection } from './connection.js';
import type { SaslCredentials } from './options.js';
import { authenticateChunks, ChallengeAssembler, chooseMechanism, plainMechanism, type SaslMechanism } from './sasl.js';

export type AccountResult = { ok: true } | { ok: false; error: string };

const REPLY_TIMEOUT_MS = 15_000;

/** One SASL exchange with the best mechanism both sides have. */
export function authenticate(client: ClientConnection, account: string, password: string, preferred?: SaslCredentials['mechanism']): Promise<AccountResult> {
  const offered = (client.offeredCaps.get('sasl') ?? '').split(',').filter((m) => m !== '');
  const scram = client.options.scram;
  const chosen = chooseMechanism(offered, preferred, scram);
  if (!chosen) return Promise.resolve({ ok: false, error: `the server offers no login mechanism we can use (${offered.join(', ')})` });
  return runSasl(client, chosen === 'PLAIN' ? plainMechanism(account, password) : scram!(account, password));
}

/** One AUTHENTICATE exchange; resolves once the server says 903 (success) or 902-908 (not). */
export async function runSasl(client: ClientConnection, mechanism: SaslMechanism): Promise<AccountResult> {
  const inbox = client.inbox((m) => m.command === 'AUTHENTICATE' || /^90[2-8]$/.test(m.command));
  const assembler = new ChallengeAssembler();
  try {
    client.sendMessage({ command: 'AUTHENTICATE', params: [mechanism.name] });
    for (;;) {
      const m = await inbox.next(REPLY_TIMEOUT_MS);
      if (m.command === '903') return { ok: true };
      if (m.command !== 'AUTHENTICATE') {
        if (m.command === '908') continue; // the list of mechanisms; 904 follows
        return { ok: false, error: m.params.at(-1) ?? 'refused' };
      }
      const challenge = assembler.push(m.params[0] ?? '+');
      if (challenge === undefined) continue;
      try {
        if (challenge === null) throw new Error('the server sent something that is not base64');
        const response = await mechanism.respond(challenge);
        for (const chunk of authenticateChunks(response)) client.sendMessage({ command: 'AUTHENTICATE', params: [chunk] });
      } catch (err) {
        client.send('AUTHENTICATE *');
        return { ok: false, error: (err as Error).message };
      }
    }
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  } finally {
    inbox.close();
  }
}
