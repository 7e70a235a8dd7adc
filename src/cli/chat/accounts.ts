/** Logging in and registering from the chat, passwords typed without echo. */
import type { ChatSession } from './session.js';

// Sessions with a login question on screen: NickServ may repeat itself meanwhile.
const offering = new WeakSet<ChatSession>();

/** NickServ says our nick is registered: offer to log in before the server renames us. */
export async function offerLogin(session: ChatSession): Promise<void> {
  if (offering.has(session) || session.client.account) return;
  offering.add(session);
  try {
    const nick = session.client.nick;
    const password = await session.terminal.ask(`${nick} is a registered name. Password to log in (Enter to skip): `, true);
    if (!password) {
      session.showHere('info', 'Not logged in. Use /login, or pick another name with /nick; otherwise the server renames you soon.');
      return;
    }
    await login(session, nick, password);
  } finally {
    offering.delete(session);
  }
}

export async function loginCommand(session: ChatSession, account?: string): Promise<void> {
  const client = session.client;
  if (client.account) return session.showHere('info', `You are already logged in as ${client.account}.`);
  const name = account ?? client.nick;
  const password = await session.terminal.ask(`Password for ${name}: `, true);
  if (!password) return session.showHere('info', 'Login cancelled.');
  await login(session, name, password);
}

async function login(session: ChatSession, account: string, password: string): Promise<void> {
  session.showHere('info', `Logging in as ${account}…`);
  const result = await session.client.login(account, password);
  // Success is announced by the engine's account event.
  if (!result.ok) session.showHere('error', `Login failed: ${result.error}`);
}

export async function registerCommand(session: ChatSession, email?: string): Promise<void> {
  const client = session.client;
  if (client.account) return session.showHere('info', `You are already logged in as ${client.account}.`);
  const name = client.nick;
  const password = await session.terminal.ask(`Choose a password for ${name}: `, true);
  if (!password) return session.showHere('info', 'Registration cancelled.');
  // Before the second copy: typing a refused password twice is the waste this spares.
  const min = client.isupport.passwordMinLength;
  if (min !== null && password.length < min) return session.showHere('error', `Password too short: use at least ${min} characters. Nothing was registered; /register to try again.`);
  const again = await session.terminal.ask('Type it again: ', true);
  if (again !== password) return session.showHere('error', 'The passwords differ; nothing was registered.');
  session.showHere('info', `Registering ${name}…`);
  const result = await client.registerAccount(name, password, email);
  if (result.ok) session.showHere('info', `Registered: ${name} is yours. Next time: parley chat --nick ${name} --login`);
  else session.showHere('error', `Registration failed: ${result.error}`);
}
