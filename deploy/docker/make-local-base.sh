#!/usr/bin/env bash
# Makes a stand-in for the Dockerfile's base image (node:20-bookworm-slim) on a machine that can
# reach Debian's package mirror but no container registry: a debootstrap'd Debian bookworm
# (minbase) plus this machine's Node 20 (node, npm, headers), imported with `docker import`.
# With internet access you do not need this: `docker build` pulls the real base image.
#
#   sudo deploy/docker/make-local-base.sh [TAG]     (default TAG: node:20-bookworm-slim)
#
# Needs root, debootstrap and a running docker daemon. Takes about two minutes.
set -euo pipefail

tag="${1:-node:20-bookworm-slim}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
node_bin="$(command -v node)"
prefix="$(dirname "$(dirname "$node_bin")")" # /usr or /usr/local: where lib/node_modules/npm and include/node are

major="$("$node_bin" -p 'process.versions.node.split(".")[0]')"
if [ "$major" != 20 ]; then
  echo "make-local-base: this machine's node is $("$node_bin" --version), the image wants Node 20" >&2
  exit 1
fi

rootfs="$(mktemp -d /tmp/parley-base.XXXXXX)"
trap 'rm -rf "$rootfs"' EXIT

debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" "$mirror"

# Node where the official image has it (/usr/local), so the Dockerfile works on either base.
mkdir -p "$rootfs/usr/local/bin" "$rootfs/usr/local/lib/node_modules" "$rootfs/usr/local/include"
cp "$node_bin" "$rootfs/usr/local/bin/node"
cp -a "$prefix/lib/node_modules/npm" "$rootfs/usr/local/lib/node_modules/npm"
cp -a "$prefix/include/node" "$rootfs/usr/local/include/node"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"

# The base trusts what this machine trusts: a site that inspects outgoing TLS with its own CA
# has put it in /usr/local/share/ca-certificates, and npm in the build would fail without it.
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
  chroot "$rootfs" update-ca-certificates >/dev/null
fi

# What a slim image leaves out: apt lists and caches, docs.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*

tar -C "$rootfs" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
  --change 'CMD ["node"]' \
  - "$tag"
docker run --rm --network none "$tag" node -e 'console.log("base image ok: node", process.version)'
