/** The client engine's public surface. Node-only parts are imported from node-transport.ts and node-scram.ts. */
export { IrcClient } from './client.js';
export type { ClientStatus } from './connection.js';
export type { ClientOptions, SaslCredentials } from './options.js';
export type { ChatMessage, ClientError, ClientEvents, HistoryBatch } from './events.js';
export type { Transport, TransportConnection, TransportHandlers } from './transport.js';
export type { SaslMechanism, SaslMechanismFactory } from './sasl.js';
export type { Member, RoomState } from './state.js';
export { WANTED_CAPS } from './registration.js';
export { Isupport, foldName } from './isupport.js';
export { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
export { parseFormatting, toIrcFormatting, stripFormatting, type StyledSpan, type Style } from './formatting.js';
export { rotatingTransport } from './rotating-transport.js';
