#!/usr/bin/env python3
"""Writes the assembly for Kestrel's embedded symbol table.

Usage: gensyms.py OUT.S [IMAGE]   (no IMAGE: an empty table, for the first link pass)
       gensyms.py --verify PASS1 FINAL

Reads the function symbols of IMAGE with nm (demangled) and emits a sorted table of
{address, size, name offset} plus a string block, in section .kestrel_symbols, which the
linker script places last in .rodata so that the second link moves no code."""
import subprocess
import sys


def function_symbols(image):
    out = subprocess.run(["nm", "-n", "-S", "-C", "--defined-only", image],
                         check=True, capture_output=True, text=True).stdout
    syms = []
    for line in out.splitlines():
        parts = line.split(" ", 3)
        if len(parts) == 4:
            addr, size, kind, name = parts
        else:
            addr, kind, name = line.split(" ", 2)
            size = "0"
        if kind not in ("t", "T", "W", "w"):
            continue
        syms.append((int(addr, 16), int(size, 16), name))
    syms.sort()
    # An unsized symbol (an assembly label) covers the bytes up to the next symbol, and the
    # last one nothing, so addresses outside the code never borrow a code symbol's name.
    for i, (addr, size, name) in enumerate(syms):
        if size == 0:
            nxt = syms[i + 1][0] if i + 1 < len(syms) else addr
            syms[i] = (addr, max(nxt - addr, 1), name)
    return syms


def escape(s):
    return s.replace("\\", "\\\\").replace('"', '\\"')


def verify(first, final):
    """The second link must not move any function: compare the two images' symbols."""
    a, b = function_symbols(first), function_symbols(final)
    if [(x[0], x[2]) for x in a] != [(x[0], x[2]) for x in b]:
        sys.exit(f"gensyms: function addresses differ between {first} and {final}")


def main():
    if sys.argv[1] == "--verify":
        verify(sys.argv[2], sys.argv[3])
        return
    out_path = sys.argv[1]
    syms = function_symbols(sys.argv[2]) if len(sys.argv) > 2 else []
    lines = ['    .section .kestrel_symbols, "a"', "    .balign 8",
             "    .globl kestrel_symtab_count, kestrel_symtab_entries, kestrel_symtab_strings",
             f"kestrel_symtab_count: .quad {len(syms)}", "kestrel_symtab_entries:"]
    offset = 0
    strings = []
    for addr, size, name in syms:
        lines.append(f"    .quad {addr:#x}; .long {min(size, 0xffffffff):#x}; .long {offset}")
        strings.append(f'    .asciz "{escape(name)}"')
        offset += len(name.encode()) + 1
    lines.append("kestrel_symtab_strings:")
    lines.extend(strings or ['    .asciz ""'])
    lines.append('    .section .note.GNU-stack, "", @progbits')
    with open(out_path, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
