#!/usr/bin/env bash
# debian_kernel.sh FETCH_SCRIPT CACHE_DIR UNPACK_TOOL UNPACK_TOOL_ASAN
# Debian 12's stock kernel (the package linux-image-amd64 depends on, fetched once into
# CACHE_DIR, which needs the network the first time) through Kestrel's bzImage/XZ path: under
# AddressSanitizer and UBSan first, its output compared byte for byte with the host's
# `xz -dc` of the same payload, then optimized, for the decoding speed.
set -euo pipefail
fetch=$1 cache=$2 tool=$3 tool_asan=$4
if ! "$fetch" "$cache"; then
    echo "debian_kernel: could not fetch Debian's kernel (network needed the first time): see above" >&2
    exit 1
fi
vmlinuz=$cache/linux/vmlinuz
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "kernel: $vmlinuz"
"$tool_asan" "$vmlinuz" --out "$tmp/ours"
# The reference: the payload cut out by its setup-header fields (minus Linux's 4-byte size
# trailer), decoded by the host's xz.
python3 - "$vmlinuz" "$tmp/payload.xz" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
sects = d[0x1f1] or 4
off, length = struct.unpack_from('<II', d, 0x248)
start = (sects + 1) * 512 + off
open(sys.argv[2], 'wb').write(d[start:start + length - 4])
PY
xz -dc --single-stream "$tmp/payload.xz" > "$tmp/reference"
if ! cmp "$tmp/ours" "$tmp/reference"; then
    echo "debian_kernel: Kestrel's decoding differs from xz's" >&2
    exit 1
fi
echo "identical to xz -dc ($(stat -c %s "$tmp/reference") bytes)"
"$tool" "$vmlinuz" --repeat 3 | grep -E "decoded in"
