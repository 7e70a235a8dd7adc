// The image's HEALTHCHECK: exit 0 when this node's /readyz answers 200, else 1.
// A script rather than curl because the slim base image has no curl, and Node is there anyway.
// It asks the HTTP listener the server was given (PARLEY_HTTP__LISTEN), on loopback when that is
// a wildcard address, so it checks this container's own process.
import { request } from 'node:http';

const listen = process.env.PARLEY_HTTP__LISTEN || '127.0.0.1:8080';
const match = /^\[?(.*?)\]?:(\d+)$/.exec(listen);
if (!match) {
  console.error(`healthcheck: cannot read PARLEY_HTTP__LISTEN=${listen}`);
  process.exit(1);
}
const [, host, port] = match;
const target = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host;

const req = request({ host: target, port: Number(port), path: '/readyz', timeout: 2000 }, (res) => {
  res.resume();
  res.on('end', () => process.exit(res.statusCode === 200 ? 0 : 1));
});
req.on('timeout', () => req.destroy(new Error('timed out')));
req.on('error', (err) => {
  console.error(`healthcheck: ${err.message}`);
  process.exit(1);
});
req.end();
