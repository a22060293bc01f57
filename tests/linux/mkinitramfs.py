#!/usr/bin/env python3
"""mkinitramfs.py OUTPUT INIT BUSYBOX [FILE:PATH ...]

Writes an uncompressed initramfs (cpio "newc", as the kernel's initramfs loader reads it) with
INIT as /init, BUSYBOX as /bin/busybox, the directories a BusyBox system mounts on, and each
extra FILE at PATH inside the archive.
"""
import os
import sys

DIRS = ["bin", "dev", "proc", "sys", "tmp", "lib", "lib/modules"]


def header(name, mode, size, ino):
    fields = [ino, mode, 0, 0, 1, 0, size, 0, 0, 0, 0, len(name) + 1, 0]
    return b"070701" + b"".join(b"%08X" % f for f in fields)


def pad4(n):
    return b"\0" * ((4 - n % 4) % 4)


def entry(name, mode, data, ino):
    out = header(name, mode, len(data), ino) + name.encode() + b"\0"
    out += pad4(len(out))
    out += data + pad4(len(data))
    return out


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    output, init, busybox = argv[1:4]
    files = [("init", init), ("bin/busybox", busybox)]
    for spec in argv[4:]:
        src, _, dst = spec.partition(":")
        files.append((dst.lstrip("/"), src))
    blob, ino = b"", 1
    for d in DIRS:
        blob += entry(d, 0o040755, b"", ino)
        ino += 1
    for dst, src in files:
        with open(src, "rb") as f:
            blob += entry(dst, 0o100755, f.read(), ino)
        ino += 1
    blob += entry("TRAILER!!!", 0, b"", 0)
    with open(output + ".part", "wb") as f:
        f.write(blob)
    os.replace(output + ".part", output)


if __name__ == "__main__":
    main(sys.argv)
