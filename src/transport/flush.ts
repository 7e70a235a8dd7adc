/**
 * Output is gathered per connection and written once per event-loop turn: setImmediate runs
 * after all the reads of this turn were handled, so a burst of messages becomes one write.
 */
export interface Flushable {
  flush(): void;
}

let dirty: Flushable[] = [];
let scheduled = false;

export function scheduleFlush(target: Flushable): void {
  dirty.push(target);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flushAll);
  }
}

function flushAll(): void {
  const batch = dirty;
  dirty = [];
  scheduled = false;
  for (const target of batch) target.flush();
}
