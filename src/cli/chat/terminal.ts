/**
 * The terminal: a readline input line at the bottom, chat lines printed above it. Printing
 * clears the input line (all its rows, when it wraps), writes the text, and lets readline draw
 * the prompt and the typed text again, so incoming messages never garble what is being typed.
 */
import readline from 'node:readline';
import { Writable } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import { textWidth } from './wrap.js';

export interface TerminalHandlers {
  line(line: string): void;
  /** Ctrl+C on an empty line, Ctrl+D, or the end of input. */
  interrupt(): void;
  /** Alt+1..9 (1-9), Alt+0 (10), Alt+Left/Right (-1/+1 as 'prev'/'next'). */
  switchKey(to: number | 'prev' | 'next'): void;
  complete(line: string): [string[], string];
}

type Input = NodeJS.ReadableStream & { isTTY?: boolean };
type Output = NodeJS.WriteStream;

export class Terminal {
  /** A real terminal on both ends: prompts, colours, no echo for passwords. */
  readonly interactive: boolean;
  private readonly rl: readline.Interface;
  private muted = false;
  private answer: ((line: string | null) => void) | null = null;
  private held: string[] | null = null;
  /** The chat prompt to show again once a question is answered (it may change meanwhile: a room joined). */
  private chatPrompt = '';
  private closed = false;
  private inputEnded = false;
  private outputGone = false;

  constructor(
    private readonly handlers: TerminalHandlers,
    private readonly input: Input = process.stdin,
    private readonly output: Output = process.stdout,
  ) {
    this.interactive = Boolean(input.isTTY && output.isTTY);
    // Registered before readline's own handlers, so they run first: when the terminal goes away
    // readline hands over the half-typed line as if Enter had been pressed; it must not be sent.
    input.on('end', () => (this.inputEnded = true));
    // Writing to a terminal that has closed fails (EIO); that is the end of the session, not a crash.
    output.on('error', () => {
      this.outputGone = true;
      handlers.interrupt();
    });
    this.rl = readline.createInterface({
      input,
      output: this.mutableOutput(),
      terminal: this.interactive,
      historySize: 500,
      completer: (line: string) => handlers.complete(line),
    });
    this.rl.on('line', (line) => this.onLine(line));
    this.rl.on('SIGINT', () => {
      if (this.rl.line !== '') this.clearInput();
      else this.onEnd();
    });
    this.rl.on('close', () => this.onEnd());
    // Also a terminal that went away (setRawMode fails with EIO as readline closes).
    this.rl.on('error', () => {
      this.outputGone = true;
      this.onEnd();
    });
    if (this.interactive) input.on('keypress', (_text: string, key?: readline.Key) => this.onKey(key));
  }

  get columns(): number {
    return this.output.columns || 80;
  }

  get rows(): number {
    return this.output.rows || 24;
  }

  /** Print lines (joined by \n) above the input line. */
  print(text: string): void {
    if (this.closed || this.outputGone) return;
    if (this.held) {
      this.held.push(text);
      return;
    }
    if (!this.interactive) {
      this.output.write(`${this.output.isTTY ? text : stripVTControlCharacters(text)}\n`);
      return;
    }
    // Up to the first row of the input line (the cursor may sit on a later one when it wraps).
    const rows = this.rl.getCursorPos().rows;
    readline.moveCursor(this.output, 0, -rows);
    readline.cursorTo(this.output, 0);
    readline.clearScreenDown(this.output);
    // readline redraws the input by first moving up as many rows as it believes the cursor is
    // below the prompt (`prevRows`, stale after fast typing): newlines after the text make that
    // move land right below it. The redraw then sets prevRows right.
    const believed = (this.rl as unknown as { prevRows?: number }).prevRows;
    const up = typeof believed === 'number' ? believed : rows;
    this.output.write(`${text.replace(/\n/g, '\r\n')}\r\n${'\r\n'.repeat(up)}`);
    this.rl.prompt(true);
  }

  setPrompt(prompt: string): void {
    if (this.closed || this.outputGone || !this.interactive) return;
    this.chatPrompt = prompt;
    // While a question is on the input line it stays there; the answer brings this prompt back.
    if (this.answer) return;
    this.rl.setPrompt(prompt);
    this.rl.prompt(true);
  }

  bell(): void {
    if (this.interactive && !this.closed && !this.outputGone) this.output.write('\x07');
  }

  /** Ask a question on the input line; `secret` input is not shown. null: input ended. */
  ask(question: string, secret = false): Promise<string | null> {
    if (this.closed) return Promise.resolve(null);
    if (!this.interactive) {
      this.output.write(question);
      return new Promise((resolve) => (this.answer = resolve));
    }
    this.chatPrompt = this.rl.getPrompt();
    const typed = this.rl.line;
    this.clearInput();
    this.rl.setPrompt(question);
    this.rl.prompt();
    // While a password is typed, incoming lines wait: printing would redraw (and show) it.
    if (secret) {
      this.muted = true;
      this.held = [];
    }
    return new Promise((resolve) => {
      this.answer = (line) => {
        this.muted = false;
        if (secret) {
          this.output.write('\r\n');
          const history = (this.rl as unknown as { history?: string[] }).history;
          if (line && history?.[0] === line) history.shift();
        }
        const held = this.held ?? [];
        this.held = null;
        this.rl.setPrompt(this.chatPrompt);
        for (const text of held) this.print(text);
        if (!this.closed) {
          this.rl.prompt();
          if (typed) this.rl.write(typed);
        }
        resolve(line);
      };
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.interactive && !this.outputGone) {
      readline.cursorTo(this.output, 0);
      readline.clearScreenDown(this.output);
    }
    this.rl.close();
  }

  private onLine(line: string): void {
    if (this.inputEnded) return;
    if (this.answer) {
      const answer = this.answer;
      this.answer = null;
      answer(line);
      return;
    }
    if (this.interactive) {
      // Take the entered line off the screen: what was said is printed as a chat line instead.
      const width = textWidth(stripVTControlCharacters(this.rl.getPrompt())) + textWidth(line);
      readline.moveCursor(this.output, 0, -(Math.floor(width / this.columns) + 1));
      readline.clearScreenDown(this.output);
      this.rl.prompt();
    }
    this.handlers.line(line);
  }

  private onEnd(): void {
    if (this.answer) {
      const answer = this.answer;
      this.answer = null;
      answer(null);
    }
    if (!this.closed) this.handlers.interrupt();
  }

  private onKey(key: readline.Key | undefined): void {
    if (!key?.meta || this.answer) return;
    if (key.name && /^[0-9]$/.test(key.name)) this.handlers.switchKey(key.name === '0' ? 10 : Number(key.name));
    else if (key.name === 'left') this.handlers.switchKey('prev');
    else if (key.name === 'right') this.handlers.switchKey('next');
  }

  private clearInput(): void {
    this.rl.write(null, { ctrl: true, name: 'e' });
    this.rl.write(null, { ctrl: true, name: 'u' });
  }

  /** readline's output: the real one, except while a password is typed (no echo). */
  private mutableOutput(): Writable {
    const output = this.output;
    const proxy = new Writable({
      write: (chunk: Buffer | string, _encoding, done) => {
        if (!this.muted) output.write(chunk);
        done();
      },
    });
    // readline lays out the input line with these, and redraws it on resize.
    Object.defineProperty(proxy, 'columns', { get: () => output.columns });
    Object.defineProperty(proxy, 'rows', { get: () => output.rows });
    Object.defineProperty(proxy, 'isTTY', { get: () => output.isTTY });
    output.on('resize', () => proxy.emit('resize'));
    return proxy;
  }
}
