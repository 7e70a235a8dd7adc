#!/usr/bin/env bash
# Runs a built image and checks it as an operator would: /readyz answers 200, an IRC client
# registers, the process is not root, the data volume holds the store, the HEALTHCHECK turns
# "healthy", and `docker stop` (SIGTERM) ends it cleanly with exit code 0.
#
#   deploy/docker/smoke-test.sh [IMAGE]     (default IMAGE: parley:dev)
#
# The container uses the host's network and listens on free loopback ports only, so nothing is
# published beyond this machine.
set -euo pipefail

image="${1:-parley:dev}"
name="parley-smoke-$$"
volume="parley-smoke-$$"
read -r irc_port http_port < <(node -e '
  const net = require("node:net");
  const take = () => new Promise((ok) => { const s = net.createServer().listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => ok(p)); }); });
  Promise.all([take(), take()]).then((p) => console.log(p.join(" ")));')

cleanup() {
  docker rm -f "$name" >/dev/null 2>&1 || true
  docker volume rm "$volume" >/dev/null 2>&1 || true
}
trap cleanup EXIT

docker run -d --name "$name" --network host -v "$volume:/data" \
  -e PARLEY_LISTEN="127.0.0.1:$irc_port" -e PARLEY_HTTP__LISTEN="127.0.0.1:$http_port" \
  "$image" >/dev/null

# Bounded wait for /readyz (container start-up includes mounting the volume).
for _ in $(seq 1 60); do
  if body="$(node -e 'fetch(process.argv[1]).then(async (r) => { if (r.status !== 200) process.exit(1); console.log(await r.text()); }, () => process.exit(1))' "http://127.0.0.1:$http_port/readyz")"; then
    break
  fi
  sleep 0.5
done
[ -n "${body:-}" ] || { docker logs "$name"; echo "smoke: /readyz never answered 200" >&2; exit 1; }
echo "readyz: $body"

node -e '
  const s = require("node:net").connect(Number(process.argv[1]), "127.0.0.1", () => s.write("NICK smoke\r\nUSER smoke 0 * :Smoke test\r\n"));
  let buf = "";
  let done = false;
  const timer = setTimeout(() => { console.error("smoke: no 001 within 5 s:", buf); process.exit(1); }, 5000);
  s.on("data", (d) => { if (done) return; buf += d; const line = buf.split("\r\n").find((l) => / 001 /.test(l)); if (line) { done = true; console.log("irc:", line); clearTimeout(timer); s.end("QUIT\r\n"); } });
  s.on("error", (e) => { console.error("smoke:", e.message); process.exit(1); });' "$irc_port"

echo "user: $(docker exec "$name" id)"
[ "$(docker exec "$name" id -u)" != 0 ] || { echo "smoke: runs as root" >&2; exit 1; }
docker exec "$name" test -f /data/parley.sqlite3 || { echo "smoke: no store in /data" >&2; exit 1; }
echo "volume: /data/parley.sqlite3 present"

# The HEALTHCHECK runs every 10 s; allow two rounds plus the start period.
for _ in $(seq 1 40); do
  health="$(docker inspect --format '{{.State.Health.Status}}' "$name")"
  [ "$health" = starting ] || break
  sleep 1
done
echo "health: $health"
[ "$health" = healthy ] || { echo "smoke: container is $health" >&2; exit 1; }

docker stop "$name" >/dev/null
code="$(docker inspect --format '{{.State.ExitCode}}' "$name")"
echo "stopped: exit code $code; last log line: $(docker logs "$name" 2>&1 | tail -1)"
[ "$code" = 0 ] || { echo "smoke: exit code $code after docker stop" >&2; exit 1; }
echo "smoke test passed: $image"
