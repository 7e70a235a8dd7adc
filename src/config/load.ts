import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { envLayer } from './env.js';
import { ConfigError, explain, formatPath } from './errors.js';
import { checkHostPort, type HostPort } from './host-port.js';
import { configSchema, type Config, type DeepPartial } from './schema.js';
import { schemaAt } from './walk.js';

export { ConfigError } from './errors.js';
export type { Config, DeepPartial } from './schema.js';
export type { HostPort } from './host-port.js';

export interface LoadConfigOptions {
  /** YAML file; relative paths inside it resolve against its directory. */
  file?: string;
  /** Defaults to process.env. Pass {} to ignore the real environment (tests). */
  env?: NodeJS.ProcessEnv;
  /** Highest precedence, normally from command-line flags. */
  overrides?: DeepPartial<Config>;
}

/** Parses "host:port" or "[v6addr]:port"; the returned host has no brackets. */
export function parseHostPort(s: string): HostPort {
  const result = checkHostPort(s);
  if (typeof result === 'string') throw new ConfigError([`invalid address: ${result}`]);
  return result;
}

/** Precedence: schema defaults < YAML file < PARLEY_* environment < overrides. */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const layers: Layer[] = [];
  const file = options.file === undefined ? undefined : resolve(options.file);
  if (file !== undefined) layers.push(fileLayer(file));
  const env = envLayer(options.env ?? process.env);
  layers.push(env);
  if (options.overrides) layers.push({ data: options.overrides, where: () => 'command line' });

  const { merged, owners } = mergeLayers(layers);
  const result = configSchema.safeParse(merged);
  const problems = [...env.problems];
  if (!result.success) {
    for (const issue of result.error.issues) {
      for (const { path, text } of explain(issue, merged)) {
        const where = ownerOf(owners, path)?.where(path);
        problems.push(`invalid configuration: ${formatPath(path)}: ${text}${where ? ` [${where}]` : ''}`);
      }
    }
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);

  const config = result.data;
  if (file !== undefined) resolveFilePaths(config, owners, layers[0]!, dirname(file));
  return config;
}

// ---------------------------------------------------------------------------
// Layers and merging

interface Layer {
  data: unknown;
  /** Describes where the value at `path` came from, for error messages. */
  where(path: PropertyKey[]): string;
}

type Owners = Map<string, Layer>;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function mergeLayers(layers: Layer[]): { merged: Record<string, unknown>; owners: Owners } {
  const merged: Record<string, unknown> = {};
  const owners: Owners = new Map();
  const visit = (target: Record<string, unknown>, data: Record<string, unknown>, prefix: string[], layer: Layer) => {
    for (const [key, value] of Object.entries(data)) {
      const path = [...prefix, key];
      if (value === undefined) continue;
      // An empty YAML section ("limits:" with every key commented out) parses as null.
      if (value === null && schemaAt(path)?.schema instanceof z.ZodObject) continue;
      if (isPlainObject(value)) {
        const existing = target[key];
        if (existing !== undefined && !isPlainObject(existing)) continue; // keep the earlier bad value so it is reported
        const child = (target[key] = existing ?? {}) as Record<string, unknown>;
        // Sections get an owner too, so problems in keys nobody set (e.g. a
        // required tls.cert) still point at the layer that introduced the section.
        if (!owners.has(path.join('.'))) owners.set(path.join('.'), layer);
        visit(child, value, path, layer);
      } else {
        target[key] = value; // scalars and arrays replace whatever was there
        owners.set(path.join('.'), layer);
      }
    }
  };
  for (const layer of layers) {
    if (isPlainObject(layer.data)) visit(merged, layer.data, [], layer);
  }
  return { merged, owners };
}

function ownerOf(owners: Owners, path: PropertyKey[]): Layer | undefined {
  const keys = path.filter((p): p is string => typeof p === 'string');
  for (let n = keys.length; n > 0; n--) {
    const owner = owners.get(keys.slice(0, n).join('.'));
    if (owner) return owner;
  }
  return undefined;
}

function fileLayer(file: string): Layer {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : String(err);
    throw new ConfigError([`cannot read config file ${file}: ${why}`]);
  }

  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const at = (offset: number) => {
    const { line, col } = lines.linePos(offset);
    return `line ${line}, column ${col}`;
  };
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => `config file ${file}: YAML syntax error at ${at(e.pos[0])}: ${e.message}`));
  }
  let data: unknown;
  try {
    data = doc.toJS() ?? {}; // an empty file means "all defaults"
  } catch (err) {
    throw new ConfigError([`config file ${file}: ${(err as Error).message}`]);
  }
  if (!isPlainObject(data)) {
    throw new ConfigError([`config file ${file}: top level must be a mapping of configuration keys`]);
  }
  return {
    data,
    where(path) {
      // A missing key (e.g. a required tls.cert) points at its enclosing section.
      for (let n = path.length; n > 0; n--) {
        const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
        if (node?.range) return `${file}:${lines.linePos(node.range[0]).line}`;
      }
      return file;
    },
  };
}

const PATH_KEYS = [
  ['server', 'motd_file'],
  ['tls', 'cert'],
  ['tls', 'key'],
  ['data_dir'],
] as const;

/** Paths written in the file are relative to the file; those from env/flags stay relative to cwd. */
function resolveFilePaths(config: Config, owners: Owners, file: Layer, dir: string): void {
  for (const path of PATH_KEYS) {
    if (owners.get(path.join('.')) !== file) continue;
    const parent = (path.length === 1 ? config : config[path[0]]) as Record<string, unknown>;
    const key = path.at(-1)!;
    const value = parent[key];
    if (typeof value === 'string' && !isAbsolute(value)) parent[key] = resolve(dir, value);
  }
}
