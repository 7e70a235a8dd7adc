import type { Server } from '../server.js';
import type { Session } from '../session.js';
import { chanServ } from './chanserv.js';
import { nickServ } from './nickserv.js';

type Service = (server: Server, session: Session, text: string) => Promise<void>;

/** Built-in services by folded nick. Their nicks are reserved (see isServiceName). */
export const SERVICES: ReadonlyMap<string, Service> = new Map([
  ['nickserv', nickServ],
  ['chanserv', chanServ],
]);
