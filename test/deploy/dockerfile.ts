import { readFileSync } from 'node:fs';

// Just enough of the Dockerfile grammar to read Parley's own Dockerfile: stages, instructions
// with backslash continuations, comments, JSON-array (exec form) arguments, ENV key=value.
// The image-tree test follows the file through this, so it cannot drift from what it checks.

export interface Instruction {
  op: string;
  args: string;
}

export interface Stage {
  name: string | undefined;
  from: string;
  instructions: Instruction[];
}

export function readDockerfile(path: string): Stage[] {
  return parseDockerfile(readFileSync(path, 'utf8'));
}

export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    if (/^\s*#/.test(raw)) continue; // also inside a continued instruction, as docker reads it
    const line = raw.trimEnd();
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1) + ' ';
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    if (full === '') continue;
    const [, op, args] = /^(\S+)\s*(.*)$/s.exec(full)!;
    const instruction = { op: op!.toUpperCase(), args: args!.replace(/\s+/g, ' ').trim() };
    if (instruction.op === 'FROM') {
      const [from, as, name] = instruction.args.split(' ');
      stages.push({ from: from!, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else if (stages.length > 0) {
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  return stages;
}

/** The instructions of one kind in a stage. */
export function all(stage: Stage, op: string): string[] {
  return stage.instructions.filter((i) => i.op === op).map((i) => i.args);
}

/** The last instruction of one kind (ENTRYPOINT, CMD, USER, WORKDIR: the last one counts). */
export function last(stage: Stage, op: string): string | undefined {
  return all(stage, op).at(-1);
}

/** Exec form `["node", "x"]`; a shell-form string is refused (signals would go to /bin/sh). */
export function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) throw new Error(`not an exec-form array: ${args}`);
  return parsed;
}

/** ENV in the `KEY=value KEY2=value2` form (values without spaces or quotes). */
export function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const args of all(stage, 'ENV')) {
    for (const pair of args.split(' ')) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new Error(`ENV not in KEY=value form: ${args}`);
      env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  return env;
}

export interface Copy {
  from: string | undefined;
  sources: string[];
  dest: string;
}

/** COPY [--from=stage] src... dest */
export function copies(stage: Stage): Copy[] {
  return all(stage, 'COPY').map((args) => {
    const words = args.split(' ');
    let from: string | undefined;
    while (words[0]?.startsWith('--')) {
      const flag = words.shift()!;
      if (flag.startsWith('--from=')) from = flag.slice('--from='.length);
    }
    const dest = words.pop()!;
    return { from, sources: words, dest };
  });
}
