/**
 * Output is gathered per connection and written once per event-loop turn: setImmediate runs
 * after all the reads of this turn were handled, so a burst of messages becomes one write.
 *
 * Before any of a turn's output is written, the "before flush" hooks run: the history writer
 * commits the messages of the turn there, so nothing a client has seen can be missing from
 * history after a crash. A synchronous store (SQLite) has committed when its hook returns, and the
 * turn is written at once. An asynchronous one (PostgreSQL) returns a promise: then the turn's
 * output waits for it, each connection up to where its output of that turn ended, and later
 * turns wait behind it in order.
 */
export interface Flushable {
  /**
   * The turn is over for this connection: return where its output ends now, and let a later
   * write schedule it again.
   */
  endTurn(): number;
  /** Write what was gathered up to position `upTo` (from endTurn). */
  flush(upTo: number): void;
  /** Drop these Buffer objects (by identity) from the output gathered and not yet written. */
  discard(buffers: ReadonlySet<Buffer>): void;
}

/** A hook's result: nothing when done, or a promise that settles once its work is durable. */
type BeforeFlush = () => void | Promise<unknown>;

let dirty: Flushable[] = [];
let scheduled = false;
const beforeFlush: BeforeFlush[] = [];
/** Settles once every turn that had to wait has been written; null when none is waiting. */
let waitingTurns: Promise<void> | null = null;
/** Connections with output in a waiting turn (a count per turn they are in), for discard. */
const waiting = new Map<Flushable, number>();

export function scheduleFlush(target: Flushable): void {
  dirty.push(target);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flushAll);
  }
}

/** Run `fn` before any output of a turn reaches a socket (see above). Returns the remover. */
export function addBeforeFlush(fn: BeforeFlush): () => void {
  beforeFlush.push(fn);
  return () => {
    const index = beforeFlush.indexOf(fn);
    if (index !== -1) beforeFlush.splice(index, 1);
  };
}

/**
 * Take bytes back before they reach any socket: the history writer calls this (wired in app.ts)
 * when a batch could not be committed, with the Buffers of its messages (core/outgoing.ts
 * `withdraw`). Every connection holding output not yet written is in `dirty` (this turn) or
 * `waiting` (turns waiting for a commit), so this reaches all of them.
 */
export function discardPending(buffers: ReadonlySet<Buffer>): void {
  if (buffers.size === 0) return;
  for (const target of dirty) target.discard(buffers);
  for (const target of waiting.keys()) target.discard(buffers);
}

/**
 * For a connection that must write outside flushAll (destroy): run the hooks, then `write` at
 * once if nothing has to be waited for, else once every waiting turn and commit is done.
 */
export function afterCommits(write: () => void): void {
  const commits = runHooks();
  if (commits.length === 0 && waitingTurns === null) write();
  else void waitFor(commits).then(write);
}

function runHooks(): Promise<unknown>[] {
  const commits: Promise<unknown>[] = [];
  for (const fn of beforeFlush) {
    const result = fn();
    if (result) commits.push(result);
  }
  return commits;
}

/** Settles after the waiting turns and `commits`, whether the commits succeeded or not. */
function waitFor(commits: Promise<unknown>[]): Promise<void> {
  const before = waitingTurns ?? Promise.resolve();
  const settled = commits.map((commit) => commit.then(noop, noop));
  return Promise.all([before, ...settled]).then(noop);
}

function flushAll(): void {
  const commits = runHooks();
  const batch = dirty;
  dirty = [];
  scheduled = false;
  const ends = batch.map((target) => target.endTurn());
  if (commits.length === 0 && waitingTurns === null) {
    for (let i = 0; i < batch.length; i++) batch[i]!.flush(ends[i]!);
    return;
  }
  for (const target of batch) waiting.set(target, (waiting.get(target) ?? 0) + 1);
  const turn = waitFor(commits).then(() => {
    for (let i = 0; i < batch.length; i++) {
      const target = batch[i]!;
      target.flush(ends[i]!);
      const count = waiting.get(target)! - 1;
      if (count === 0) waiting.delete(target);
      else waiting.set(target, count);
    }
    if (waitingTurns === turn) waitingTurns = null;
  });
  waitingTurns = turn;
}

function noop(): void {}
