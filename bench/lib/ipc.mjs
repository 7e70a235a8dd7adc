// Request/response over a forked child's IPC channel, with a timeout per request.

/** Parent side: `call(type, body)` resolves to the child's answer. Pushed messages go to onPush. */
export function connectChild(child, onPush = () => {}) {
  let nextId = 1;
  const pending = new Map();
  child.on('message', (msg) => {
    if (msg && msg.re !== undefined) {
      const p = pending.get(msg.re);
      if (!p) return;
      pending.delete(msg.re);
      clearTimeout(p.timer);
      if (msg.error) p.reject(new Error(msg.error));
      else p.resolve(msg.result);
    } else onPush(msg);
  });
  child.on('exit', () => {
    for (const p of pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error('worker exited'));
    }
    pending.clear();
  });
  return {
    call(type, body = {}, timeoutMs = 120_000) {
      return new Promise((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`worker did not answer '${type}' in ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, { resolve, reject, timer });
        child.send({ id, type, ...body });
      });
    },
  };
}

/** Child side: answer requests with `handlers[type](msg)`. */
export function serveParent(handlers) {
  process.on('message', async (msg) => {
    if (!msg || msg.id === undefined) return;
    try {
      const handler = handlers[msg.type];
      if (!handler) throw new Error(`unknown request ${msg.type}`);
      process.send({ re: msg.id, result: await handler(msg) });
    } catch (err) {
      process.send({ re: msg.id, error: err instanceof Error ? err.message : String(err) });
    }
  });
}
