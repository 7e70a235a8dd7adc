import type { Config } from '../config/schema.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { openPgStore } from './postgres/store.js';
import { openSqliteStore } from './sqlite/store.js';
import type { Store } from './store.js';

/**
 * The store the configuration asks for: PostgreSQL when `store.url` is set (postgres:// or
 * postgresql://), else the embedded SQLite file in data_dir. A PostgreSQL store that cannot
 * connect or migrate rejects with a StoreOpenError naming the URL (without its password).
 * `logger` receives the PostgreSQL pool's connection errors (default: one at log.level).
 */
export async function openStore(config: Config, logger?: Logger): Promise<Store> {
  if (config.store.url !== null) {
    return openPgStore({
      url: config.store.url,
      schema: config.store.schema,
      poolSize: config.store.pool_size,
      logger: logger ?? createLogger(config.log.level),
    });
  }
  return openSqliteStore(config.data_dir);
}
