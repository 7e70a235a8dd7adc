// The Prometheus text exposition format (version 0.0.4), read as much as `parley bench` needs:
// each sample's name, labels and value. Comments, HELP and TYPE lines and timestamps are skipped.
// The text comes from a server under test, so nothing in it is trusted: a line that does not
// parse is skipped, and a page past MAX_TEXT_BYTES is refused by the scraper before it gets here.

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

/** Every sample on the page, in order; lines that are not samples are left out. */
export function parsePromText(text: string): PromSample[] {
  const samples: PromSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const sample = parseLine(line);
    if (sample) samples.push(sample);
  }
  return samples;
}

function parseLine(line: string): PromSample | null {
  const name = NAME.exec(line)?.[0];
  if (!name) return null;
  let rest = line.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith('{')) {
    const parsed = parseLabels(rest);
    if (!parsed) return null;
    Object.assign(labels, parsed.labels);
    rest = rest.slice(parsed.length);
  }
  const [valueText] = rest.trim().split(/\s+/);
  const value = parseValue(valueText ?? '');
  return value === null ? null : { name, labels, value };
}

/** `{a="x",b="y\"z"}` from the start of `text`: the labels and how many characters they took. */
function parseLabels(text: string): { labels: Record<string, string>; length: number } | null {
  const labels: Record<string, string> = {};
  let i = 1;
  for (;;) {
    while (text[i] === ' ' || text[i] === ',') i++;
    if (text[i] === '}') return { labels, length: i + 1 };
    const name = LABEL_NAME.exec(text.slice(i))?.[0];
    if (!name) return null;
    i += name.length;
    if (text[i] !== '=' || text[i + 1] !== '"') return null;
    i += 2;
    let value = '';
    for (;;) {
      const c = text[i];
      if (c === undefined) return null;
      i++;
      if (c === '"') break;
      if (c === '\\') {
        const next = text[i++];
        value += next === 'n' ? '\n' : (next ?? '');
      } else value += c;
    }
    labels[name] = value;
  }
}

function parseValue(text: string): number | null {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return null;
  return Number(text);
}

/** The sum of every sample named `name` (all label sets), or null when there is none. */
export function sumOf(samples: PromSample[], name: string): number | null {
  let total: number | null = null;
  for (const s of samples) if (s.name === name && Number.isFinite(s.value)) total = (total ?? 0) + s.value;
  return total;
}
