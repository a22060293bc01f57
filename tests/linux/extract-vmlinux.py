#!/usr/bin/env python3
"""Writes the ELF kernel inside an XZ-compressed bzImage (Debian's stock kernels) to a file.

Until Kestrel decompresses a bzImage itself, the Kestrel run of the Linux test boots the ELF
image this extracts on the host. The boot protocol header gives where the setup code ends
(setup_sects at 0x1f1) and, from there, the compressed payload's offset and length
(payload_offset and payload_length at 0x248).

usage: extract-vmlinux.py BZIMAGE OUTPUT
"""
import lzma
import struct
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    image = open(sys.argv[1], "rb").read()
    if image[0x202:0x206] != b"HdrS":
        sys.exit(f"{sys.argv[1]}: no Linux boot protocol header")
    setup_end = (image[0x1f1] + 1) * 512
    offset, length = struct.unpack_from("<II", image, 0x248)
    payload = image[setup_end + offset:setup_end + offset + length]
    if not payload.startswith(b"\xfd7zXZ"):
        sys.exit(f"{sys.argv[1]}: the payload is not XZ-compressed")
    elf = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(payload)
    if not elf.startswith(b"\x7fELF"):
        sys.exit(f"{sys.argv[1]}: the payload is not an ELF image")
    with open(sys.argv[2], "wb") as out:
        out.write(elf)


if __name__ == "__main__":
    main()
