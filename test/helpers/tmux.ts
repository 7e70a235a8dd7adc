import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './cli-server.js';

const LAUNCHER = join(ROOT, 'test', 'cli', 'fixtures', 'chat-launcher.ts');

export const hasTmux = spawnSync('tmux', ['-V']).status === 0;

/**
 * `parley chat` in a tmux pane of its own tmux server (socket `-L`), so tests never touch the
 * user's tmux. The pane's output is also piped to a file (for bytes like BEL that a screen
 * capture does not show) and the exit code is written to a file by the launcher.
 */
export class TmuxChat {
  readonly dir = mkdtempSync(join(tmpdir(), 'parley-tmux-'));
  readonly outputFile = join(this.dir, 'output');
  readonly exitFile = join(this.dir, 'exit-code');

  private constructor(
    private readonly socket: string,
    readonly name: string,
  ) {}

  static start(socket: string, name: string, args: string[], size = { columns: 100, rows: 30 }): TmuxChat {
    const chat = new TmuxChat(socket, name);
    const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const command = `env PARLEY_EXIT_FILE=${chat.exitFile} ${process.execPath} --import tsx ${LAUNCHER} chat ${quoted}`;
    chat.tmux('new-session', '-d', '-s', name, '-x', String(size.columns), '-y', String(size.rows), '-c', ROOT, command);
    // Keep the pane (and its last screen) after the program exits; copy everything it writes.
    chat.tmux('set-option', '-t', name, 'remain-on-exit', 'on');
    chat.tmux('pipe-pane', '-t', name, '-o', `cat >> ${chat.outputFile}`);
    return chat;
  }

  /** Type text literally, then Enter unless told otherwise. */
  type(text: string, enter = true): void {
    this.tmux('send-keys', '-t', this.name, '-l', text);
    if (enter) this.keys('Enter');
  }

  /** tmux key names: Enter, M-2, C-u... */
  keys(...keys: string[]): void {
    this.tmux('send-keys', '-t', this.name, ...keys);
  }

  resize(columns: number, rows: number): void {
    this.tmux('resize-window', '-t', this.name, '-x', String(columns), '-y', String(rows));
  }

  screen(ansi = false): string {
    return this.tmux('capture-pane', '-p', ...(ansi ? ['-e'] : []), '-t', this.name);
  }

  output(): string {
    return existsSync(this.outputFile) ? readFileSync(this.outputFile, 'latin1') : '';
  }

  exitCode(): string | null {
    return existsSync(this.exitFile) ? readFileSync(this.exitFile, 'utf8') : null;
  }

  /** Poll until `check` holds for the screen (or `read` of it); throws with the screen after `timeoutMs`. */
  async waitFor(check: RegExp | string | ((text: string) => boolean), options: { timeoutMs?: number; read?: () => string } = {}): Promise<string> {
    const test = typeof check === 'function' ? check : (text: string) => (typeof check === 'string' ? text.includes(check) : check.test(text));
    const read = options.read ?? (() => this.screen());
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    for (;;) {
      const text = read();
      if (test(text)) return text;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${String(check)} in ${this.name}:\n${this.screen()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The last line with text: the prompt and whatever is typed. */
  inputLine(): string {
    return this.screen().trimEnd().split('\n').at(-1) ?? '';
  }

  private tmux(...args: string[]): string {
    const result = spawnSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8', timeout: 10_000 });
    if (result.status !== 0) throw new Error(`tmux ${args[0]} failed: ${result.stderr}`);
    return result.stdout;
  }
}

export function killTmuxServer(socket: string): void {
  spawnSync('tmux', ['-L', socket, 'kill-server'], { timeout: 10_000 });
}
