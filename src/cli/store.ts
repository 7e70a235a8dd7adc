import { parseArgs } from 'node:util';
import { silentLogger } from '../observability/logger.js';
import { copySqliteToPg, openSqliteSource, type StoreCounts } from '../store/copy.js';
import { openPgStore } from '../store/postgres/store.js';

export const STORE_HELP = `Usage: parley store copy --from PATH --to URL [--schema NAME] [--batch N]

Copy an embedded installation's store into PostgreSQL: accounts (with their password hashes
and SCRAM keys), registered rooms, server bans, read markers, account metadata
(draft/metadata-2), uploaded files' metadata (copy data_dir/uploads/ yourself) and every
message. The SQLite
database is only read, so the server may keep running; run the copy again after stopping it
to pick up what came in meanwhile. Safe to run more than once: nothing is duplicated.

  --from PATH     the data directory (holding parley.sqlite3) or the database file
  --to URL        postgres://USER:PASSWORD@HOST:5432/DATABASE (what store.url will be)
  --schema NAME   the PostgreSQL schema (store.schema; default public)
  --batch N       messages per insert (default 2000)
`;

const KINDS: [keyof StoreCounts, string][] = [
  ['accounts', 'accounts'],
  ['rooms', 'registered rooms'],
  ['bans', 'server bans'],
  ['readMarkers', 'read markers'],
  ['metadata', 'account metadata'],
  ['uploads', 'uploaded files'],
  ['messages', 'messages'],
];

/** `parley store copy ...`. */
export async function storeCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        from: { type: 'string' },
        to: { type: 'string' },
        schema: { type: 'string' },
        batch: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    process.stderr.write(`parley store: ${(err as Error).message}\n\n${STORE_HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(STORE_HELP);
    return 0;
  }
  const batch = values.batch === undefined ? 2000 : Number(values.batch);
  if (positionals[0] !== 'copy' || positionals.length > 1 || !values.from || !values.to || !(Number.isInteger(batch) && batch > 0)) {
    process.stderr.write(`parley store: ${positionals[0] === 'copy' || !positionals[0] ? 'copy needs --from and --to' : `unknown action '${positionals[0]}'`}\n\n${STORE_HELP}`);
    return 2;
  }
  if (!/^postgres(ql)?:\/\//.test(values.to)) {
    process.stderr.write('parley store copy: --to must be a postgres:// or postgresql:// URL\n');
    return 2;
  }

  let from;
  let to;
  try {
    from = openSqliteSource(values.from);
    to = await openPgStore({ url: values.to, schema: values.schema ?? 'public', logger: silentLogger });
  } catch (err) {
    from?.closeSync();
    process.stderr.write(`parley store copy: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  const bar = process.stderr.isTTY ? progressBar() : null;
  try {
    const { source, target } = await copySqliteToPg(from, to, { batch, onProgress: bar?.update });
    bar?.done();
    let ok = true;
    for (const [key, label] of KINDS) {
      const verdict = target[key] === source[key] ? 'ok' : target[key] > source[key] ? 'ok (the target had more)' : 'MISSING';
      if (target[key] < source[key]) ok = false;
      process.stdout.write(`${label.padEnd(17)} ${String(source[key]).padStart(10)} in SQLite, ${String(target[key]).padStart(10)} in PostgreSQL: ${verdict}\n`);
    }
    if (!ok) {
      process.stderr.write('parley store copy: the count check failed: PostgreSQL has fewer than SQLite\n');
      return 1;
    }
    process.stdout.write('copy complete\n');
    return 0;
  } catch (err) {
    bar?.done();
    process.stderr.write(`parley store copy: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    from.closeSync();
    await to.close();
  }
}

/** `copying messages [#####.....]  52%  52000/100000` on one redrawn stderr line. */
function progressBar(): { update: (done: number, total: number) => void; done: () => void } {
  const WIDTH = 30;
  let last = 0;
  let shown = false;
  const draw = (done: number, total: number) => {
    const share = total === 0 ? 1 : Math.min(1, done / total);
    const filled = Math.round(share * WIDTH);
    process.stderr.write(`\rcopying messages [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${String(Math.round(share * 100)).padStart(3)}%  ${done}/${total}`);
    shown = true;
  };
  return {
    update(done, total) {
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      draw(done, total);
    },
    done() {
      if (shown) process.stderr.write('\n');
    },
  };
}
