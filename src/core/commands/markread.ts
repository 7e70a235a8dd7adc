import { isRoomName, isValidNick } from '../../protocol/index.js';
import { failError } from '../errors.js';
import { getMarker, markerMessage, setMarker } from '../history/read-markers.js';
import { parseTimestampParam } from '../history/refs.js';
import type { CommandContext } from './context.js';

const fail = (code: string, ...rest: string[]) => failError('MARKREAD', code, ...rest);

// MARKREAD <target> [timestamp=YYYY-MM-DDThh:mm:ss.sssZ]   (https://ircv3.net/specs/extensions/read-marker)
export async function MARKREAD({ server, session, params }: CommandContext): Promise<void> {
  const target = params[0];
  if (!target) throw fail('NEED_MORE_PARAMS', 'Missing parameters');
  // Markers are per account; the spec names no code for this, ACCOUNT_REQUIRED says why.
  const account = session.accountKey;
  if (account === null) throw fail('ACCOUNT_REQUIRED', target, 'You must be logged in to use read markers');
  if (!isRoomName(target) && !isValidNick(target, 1000)) throw fail('INVALID_PARAMS', target, 'Invalid target');
  if (params.length < 2) {
    session.send(markerMessage(server, target, await getMarker(server, account, target)));
    return;
  }
  // `*` may come from the server only; a set needs a time.
  const time = parseTimestampParam(params[1]!);
  if (time === null) throw fail('INVALID_PARAMS', params[1]!, 'Invalid timestamp');
  // A marker in the future would hide messages not yet sent: clamp to now.
  await setMarker(server, session, account, target, Math.min(time, Date.now()));
}
