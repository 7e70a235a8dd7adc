/**
 * Output is gathered per connection and written once per event-loop turn: setImmediate runs
 * after all the reads of this turn were handled, so a burst of messages becomes one write.
 */
export interface Flushable {
  flush(): void;
  /** Drop these Buffer objects (by identity) from the output gathered and not yet written. */
  discard(buffers: ReadonlySet<Buffer>): void;
}

let dirty: Flushable[] = [];
let scheduled = false;
const beforeFlush: (() => void)[] = [];

export function scheduleFlush(target: Flushable): void {
  dirty.push(target);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flushAll);
  }
}

/**
 * Run `fn` before any output of a turn reaches a socket. The history writer commits here, so
 * nothing a client has seen can be missing from history after a crash. Returns the remover.
 */
export function addBeforeFlush(fn: () => void): () => void {
  beforeFlush.push(fn);
  return () => {
    const index = beforeFlush.indexOf(fn);
    if (index !== -1) beforeFlush.splice(index, 1);
  };
}

/**
 * Take bytes back before they reach any socket: the history writer calls this (wired in app.ts)
 * when a batch could not be committed, with the Buffers of its messages (core/outgoing.ts
 * `withdraw`). Every connection holding output of this turn is in `dirty`, so this reaches all
 * of them; nothing of this turn has been written yet (the hooks run first).
 */
export function discardPending(buffers: ReadonlySet<Buffer>): void {
  if (buffers.size === 0) return;
  for (const target of dirty) target.discard(buffers);
}

/** The hooks alone, for a connection that must write outside flushAll (destroy). */
export function runBeforeFlush(): void {
  for (const fn of beforeFlush) fn();
}

function flushAll(): void {
  runBeforeFlush();
  const batch = dirty;
  dirty = [];
  scheduled = false;
  for (const target of batch) target.flush();
}
