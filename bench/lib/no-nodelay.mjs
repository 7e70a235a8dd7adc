// Experiment, preloaded into the Parley server only with `--parley-nagle`: socket.setNoDelay(true)
// becomes a no-op, so Nagle's algorithm stays on for client sockets (as in ngIRCd and InspIRCd,
// which never set TCP_NODELAY). Parley's code is not changed; this answers "what would it cost
// or save" before anyone edits src/.
import net from 'node:net';

const original = net.Socket.prototype.setNoDelay;
net.Socket.prototype.setNoDelay = function setNoDelay(enable = true) {
  return enable ? this : original.call(this, false);
};
