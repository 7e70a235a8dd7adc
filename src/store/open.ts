import type { Config } from '../config/schema.js';
import { openSqliteStore } from './sqlite/store.js';
import type { Store } from './store.js';

/** The store the configuration asks for: embedded SQLite in data_dir (PostgreSQL comes later). */
export async function openStore(config: Config): Promise<Store> {
  return openSqliteStore(config.data_dir);
}
