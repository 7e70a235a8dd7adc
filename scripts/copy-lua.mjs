// Copies the cluster's Lua scripts next to their compiled loader (tsc copies only .ts output),
// so dist/ runs without src/: src/cluster/redis/lua/*.lua -> dist/cluster/redis/lua/.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';

const from = 'src/cluster/redis/lua';
const to = 'dist/cluster/redis/lua';
mkdirSync(to, { recursive: true });
for (const name of readdirSync(from)) if (name.endsWith('.lua')) copyFileSync(`${from}/${name}`, `${to}/${name}`);
