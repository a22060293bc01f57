#!/usr/bin/env bash
# Installs the Debian 12 packages Kestrel's build and tests need, when any is missing.
# Sourced by tools/check and tools/demo.
kestrel_install_deps() {
    local pkgs="build-essential cmake g++ python3 googletest libgtest-dev qemu-system-x86
                grub-pc-bin grub-common grub-efi-amd64-bin xorriso mtools ovmf
                bochs bochsbios vgabios bochs-x xvfb xauth libxen-dev xz-utils"
    local missing=""
    for p in $pkgs; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    echo "Installing missing Debian packages:$missing"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -q || return 1
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing
}
