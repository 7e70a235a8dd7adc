/**
 * Composer shortcuts: Ctrl+B / Ctrl+I / Ctrl+U wrap the selection (or mark the cursor) in the IRC
 * formatting codes for bold, italic and underline; Tab completes a nick from the room's members,
 * cycling through the matches on repeated presses.
 */
const FORMAT_CODES: Record<string, string> = { b: '\x02', i: '\x1d', u: '\x1f' };

export interface CompletionSource {
  /** Nicks that may be completed in the current conversation. */
  nicks(): string[];
  /** Case-folding of the server's casemapping, so completion matches the way the server compares. */
  fold(name: string): string;
}

export function attachComposerKeys(input: HTMLTextAreaElement, source: CompletionSource): void {
  let cycle: { start: number; prefix: string; matches: string[]; index: number } | null = null;
  input.addEventListener('keydown', (e) => {
    if ((e.ctrlKey || e.metaKey) && !e.altKey && FORMAT_CODES[e.key.toLowerCase()]) {
      e.preventDefault();
      wrapSelection(input, FORMAT_CODES[e.key.toLowerCase()]!);
      input.dispatchEvent(new Event('input'));
      return;
    }
    if (e.key !== 'Tab' || e.shiftKey || e.ctrlKey || e.altKey) {
      cycle = null;
      return;
    }
    const caret = input.selectionStart;
    const before = input.value.slice(0, caret);
    const start = before.search(/\S*$/);
    if (!cycle || cycle.start !== start) {
      const prefix = source.fold(before.slice(start));
      if (prefix === '') return; // let Tab move focus, as keyboard users expect
      const matches = source.nicks().filter((nick) => source.fold(nick).startsWith(prefix)).sort((a, b) => a.localeCompare(b));
      if (matches.length === 0) return;
      cycle = { start, prefix, matches, index: -1 };
    }
    e.preventDefault();
    cycle.index = (cycle.index + 1) % cycle.matches.length;
    // At the start of the line a nick addresses someone: "nick: ".
    const completed = cycle.matches[cycle.index]! + (start === 0 ? ': ' : ' ');
    input.value = input.value.slice(0, start) + completed + input.value.slice(caret);
    input.selectionStart = input.selectionEnd = start + completed.length;
  });
}

function wrapSelection(input: HTMLTextAreaElement, code: string): void {
  const { selectionStart: from, selectionEnd: to, value } = input;
  input.value = value.slice(0, from) + code + value.slice(from, to) + code + value.slice(to);
  // With a selection the codes enclose it; without one the cursor sits between them.
  input.selectionStart = from + 1;
  input.selectionEnd = to + 1;
}
