#!/usr/bin/env bash
# Configures and builds Kestrel (image and host tests) in build/. Sourced by tools/check and tools/demo.
kestrel_build() {
    local top="$1"
    cmake -S "$top" -B "$top/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || return 1
    cmake --build "$top/build" -j "$(nproc)"
}
