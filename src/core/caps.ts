/** The IRCv3 capabilities Parley offers (ircv3.net/specs). Values follow `CAP LS 302`. */
export const SUPPORTED_CAPS: ReadonlyMap<string, string> = new Map([
  ['account-notify', ''],
  ['account-tag', ''],
  ['away-notify', ''],
  ['batch', ''],
  ['cap-notify', ''],
  ['chghost', ''],
  ['draft/account-registration', 'before-connect,custom-account-name'],
  ['draft/channel-rename', ''],
  ['draft/chathistory', ''],
  ['draft/event-playback', ''],
  // Its value comes from the configuration: metadata/keys.ts metadataCapValue.
  ['draft/metadata-2', ''],
  ['draft/multiline', ''],
  ['draft/message-redaction', ''],
  ['draft/no-implicit-names', ''],
  ['draft/pre-away', ''],
  ['draft/read-marker', ''],
  ['echo-message', ''],
  ['extended-join', ''],
  ['extended-monitor', ''],
  ['invite-notify', ''],
  ['labeled-response', ''],
  ['message-tags', ''],
  ['multi-prefix', ''],
  ['sasl', 'PLAIN,SCRAM-SHA-256'],
  ['server-time', ''],
  ['setname', ''],
  ['soju.im/search', ''],
  ['standard-replies', ''],
  ['userhost-in-names', ''],
]);

/** ircv3.net/specs/extensions/no-implicit-names: JOIN does not send NAMES. */
export const NO_IMPLICIT_NAMES_CAP = 'draft/no-implicit-names';

/** ircv3.net/specs/extensions/message-redaction: REDACT reaches only the clients that negotiated it. */
export const REDACTION_CAP = 'draft/message-redaction';
export const RENAME_CAP = 'draft/channel-rename';

/** ircv3.net/specs/extensions/metadata: METADATA, its notifications and batches (core/metadata/). */
export const METADATA_CAP = 'draft/metadata-2';

/** ircv3.net/specs/extensions/pre-away: AWAY before registration (a bouncer reconnecting while away). */
export const PRE_AWAY_CAP = 'draft/pre-away';

/** cap-notify cannot be disabled once CAP LS 302 was sent (IRCv3 capability negotiation). */
export const STICKY_CAPS = new Set(['cap-notify']);
