#!/usr/bin/env python3
"""mkbzimage.py [--gzip] [--damage] ELF OUT: wraps a PV kernel's ELF image the way Linux's x86 build wraps
vmlinux, so that the bzImage path of a hypervisor's loader can be tested with a small kernel.

OUT is a bzImage in the Linux/x86 boot protocol 2.15 layout (Documentation/x86/boot.rst):
a 512-byte boot sector and 4 setup sectors holding the setup header at 0x1f1, then the
protected-mode part: a stand-in for the decompressor (HLT instructions; nothing ever runs it
in a PV domain) followed by the payload, the ELF compressed as Linux compresses x86 kernels
(`xz --check=crc32 --x86 --lzma2=dict=32MiB`, see scripts/xz_wrap.sh) with its uncompressed
size appended as a 32-bit little-endian number. The header's payload_offset/payload_length
locate the payload; init_size covers the decompressed image.

--gzip compresses as Linux's build does with CONFIG_KERNEL_GZIP instead (`gzip -n -9`, whose
own trailer already ends with the size). --damage flips one bit in the middle of the
compressed data, for tests of how a loader reports a corrupt kernel."""
import struct
import subprocess
import sys

SETUP_SECTS = 4
DECOMPRESSOR_BYTES = 0x400
PROTOCOL = 0x020F
LOADFLAGS_LOADED_HIGH = 0x01
XLF_KERNEL_64 = 0x01
XLF_CAN_BE_LOADED_ABOVE_4G = 0x02


def put(buf, offset, fmt, value):
    struct.pack_into("<" + fmt, buf, offset, value)


def main():
    args = sys.argv[1:]
    damage = "--damage" in args
    gzip = "--gzip" in args
    args = [a for a in args if a not in ("--damage", "--gzip")]
    if len(args) != 2:
        sys.exit("usage: mkbzimage.py [--gzip] [--damage] ELF OUT")
    elf_path, out_path = args
    elf = open(elf_path, "rb").read()
    if elf[:4] != b"\x7fELF":
        sys.exit(f"mkbzimage: {elf_path} is not an ELF file")
    command = ["gzip", "-n", "-9", "-c"] if gzip else ["xz", "--check=crc32", "--x86", "--lzma2=dict=32MiB", "-c"]
    compressed = subprocess.run(command, input=elf, stdout=subprocess.PIPE, check=True).stdout
    if damage:
        compressed = bytearray(compressed)
        compressed[len(compressed) // 2] ^= 0x10
        compressed = bytes(compressed)
    payload = compressed if gzip else compressed + struct.pack("<I", len(elf))
    protected = b"\xf4" * DECOMPRESSOR_BYTES + payload
    protected += b"\x00" * (-len(protected) % 16)

    setup = bytearray((SETUP_SECTS + 1) * 512)
    put(setup, 0x1F1, "B", SETUP_SECTS)
    put(setup, 0x1F4, "I", len(protected) // 16)          # syssize, 16-byte units
    put(setup, 0x1FE, "H", 0xAA55)                         # boot_flag
    put(setup, 0x200, "H", 0x66EB)                         # jump over the header (short jmp)
    setup[0x202:0x206] = b"HdrS"
    put(setup, 0x206, "H", PROTOCOL)
    put(setup, 0x211, "B", LOADFLAGS_LOADED_HIGH)
    put(setup, 0x214, "I", 0x100000)                       # code32_start
    put(setup, 0x230, "I", 0x200000)                       # kernel_alignment
    put(setup, 0x234, "B", 1)                              # relocatable_kernel
    put(setup, 0x236, "H", XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G)
    put(setup, 0x238, "I", 2047)                           # cmdline_size
    put(setup, 0x248, "I", DECOMPRESSOR_BYTES)             # payload_offset
    put(setup, 0x24C, "I", len(payload))                   # payload_length
    init_size = (DECOMPRESSOR_BYTES + len(payload) + len(elf) + 0xFFF) & ~0xFFF
    put(setup, 0x260, "I", init_size)
    with open(out_path, "wb") as out:
        out.write(bytes(setup) + protected)


if __name__ == "__main__":
    main()
