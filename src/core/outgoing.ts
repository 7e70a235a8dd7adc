import { serializeMessage, type IrcMessage, type Tags } from '../protocol/index.js';
import { encodeMultiline, isMultiline } from './multiline.js';

/**
 * Which tags a recipient may see, as a bit set of its capabilities. Recipients with the same
 * view get the very same bytes, so a room message is serialized once per view, not per member.
 */
export const VIEW_SERVER_TIME = 1;
export const VIEW_MESSAGE_TAGS = 2;
export const VIEW_ACCOUNT_TAG = 4;
/** draft/multiline with batch: a multiline message comes as its batch, not as separate lines. */
export const VIEW_MULTILINE = 8;
const VIEW_COUNT = 16;
/** What a withdrawn message encodes to: no bytes. */
const WITHDRAWN = Buffer.alloc(0);

function tagsForView(tags: Tags, view: number): Tags | undefined {
  let out: Tags | undefined;
  for (const key in tags) {
    const allowed =
      key === 'time' ? (view & VIEW_SERVER_TIME) !== 0
      : key === 'account' ? (view & VIEW_ACCOUNT_TAG) !== 0
      // label and batch are added by the session only for a client that negotiated
      // labeled-response / batch; those caps enable them, message-tags is not needed.
      : key === 'label' || key === 'batch' ? true
      : (view & VIEW_MESSAGE_TAGS) !== 0;
    if (allowed) (out ??= {})[key] = tags[key]!;
  }
  return out;
}

/** The wire form of `message` for one view: the tags that view may not see are left out. */
export function encodeForView(message: IrcMessage, view: number): Buffer {
  if (isMultiline(message)) {
    return Buffer.from(encodeMultiline(message, (view & VIEW_MULTILINE) !== 0, (tags) => tagsForView(tags, view)), 'utf8');
  }
  if (!message.tags) return Buffer.from(serializeMessage(message), 'utf8');
  return Buffer.from(serializeMessage({ ...message, tags: tagsForView(message.tags, view) }), 'utf8');
}

/** A message on its way to one or many recipients, with its wire form cached per view. */
export class Outgoing {
  private readonly cache: (Buffer | undefined)[] = new Array(VIEW_COUNT);

  constructor(readonly message: IrcMessage) {}

  /** True if a recipient without message-tags would get nothing worth sending (TAGMSG). */
  get needsMessageTags(): boolean {
    return this.message.command === 'TAGMSG';
  }

  encode(view: number): Buffer {
    const cached = this.cache[view];
    if (cached) return cached;
    const bytes = encodeForView(this.message, view);
    this.cache[view] = bytes;
    return bytes;
  }

  /** True once the message was taken back (`withdraw`). */
  get withdrawn(): boolean {
    return this.cache[0] === WITHDRAWN;
  }

  /**
   * Take the message back: it could not be stored (core/history). The bytes encoded so far go
   * into `encoded`, for the transport to drop from output not yet written (they are the very
   * objects every recipient of a view was given, so identity finds them); from now on every view
   * encodes to nothing, so a broadcast loop still running delivers an empty write.
   */
  withdraw(encoded: Set<Buffer>): void {
    for (let view = 0; view < VIEW_COUNT; view++) {
      const bytes = this.cache[view];
      if (bytes !== undefined && bytes !== WITHDRAWN) encoded.add(bytes);
      this.cache[view] = WITHDRAWN;
    }
  }

  /** The message as one particular recipient sees it, plus extra tags only it gets (label, batch). */
  withExtraTags(view: number, extra: Tags): IrcMessage {
    const { tags, ...rest } = this.message;
    const visible = tags ? tagsForView(tags, view) : undefined;
    return { ...rest, tags: { ...extra, ...visible } };
  }
}
