#!/usr/bin/env python3
"""Boots Kestrel (or, as the reference, real Xen 4.17) from a GRUB ISO in QEMU (software
emulation only) and checks its serial log.

Examples:
  boottest.py --image build/arch/x86_64/kestrel --smp 4 --mem 512M --cmdline "selftest" \
      --expect "4 CPUs online" --expect "selftest: \\d+ passed, 0 failed" --exit 0
  boottest.py --hypervisor xen --module build-x/tests/guests/hello "hello" \
      --expect "^[0-9]+ passed, 0 failed" --exit 0

--hypervisor xen boots the image that tools/fetch-xen caches (build/cache/xen-4.17-amd64.gz
unless --image names another) as /boot/xen.gz, with XEN_CMDLINE unless --cmdline is given, and
stops on Xen's dom0 shutdown/crash line (XEN_STOP_ON) unless --stop-on is given.
Each --module FILE ARGS becomes a `module2 /boot/moduleN ARGS` line, in order: for Xen the
first module is the dom0 kernel and ARGS its command line.

Passes when every --expect pattern matched (in order), no --forbid pattern matched, and QEMU
ended with the --exit status (0: ACPI poweroff; (v << 1) | 1: isa-debug-exit with value v)
or, with --stop-on, as soon as that pattern appears. On failure it prints why and the whole log.
KVM is never used: it hangs guests on our machines."""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
XEN_IMAGE = os.path.join(TOP, "build", "cache", "xen-4.17-amd64.gz")
# Small, quick and verbose: one dom0 vCPU, little memory, every log level, and noreboot so that
# a dom0 poweroff ends in ACPI S5 (QEMU exits 0) rather than a reset.
XEN_CMDLINE = ("console=com1 com1=115200,8n1 noreboot dom0_mem=64M dom0_max_vcpus=1 "
               "loglvl=all guest_loglvl=all")
# How a Xen run ends. Xen answers dom0's SCHEDOP_shutdown with one of these lines and then, with
# noreboot, halts its CPUs without powering off (an ACPI S5 poweroff is something dom0 asks for
# separately with XENPF_enter_acpi_sleep), so QEMU would only stop at the timeout.
XEN_STOP_ON = r"(\(XEN\) Hardware Dom0 (halted|shutdown|crashed)|'noreboot' set - not rebooting|rebooting machine)[^\n]*\n"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hypervisor", choices=["kestrel", "xen"], default="kestrel")
    p.add_argument("--image", help="hypervisor image (required for kestrel; xen: the fetched xen.gz)")
    p.add_argument("--cmdline", help="hypervisor command line (default: empty; xen: XEN_CMDLINE)")
    p.add_argument("--module", nargs=2, action="append", default=[], metavar=("FILE", "ARGS"),
                   help="a module2 line, repeatable, in order")
    p.add_argument("--smp", default="1")
    p.add_argument("--mem", default="512M")
    p.add_argument("--cpu", default="qemu64")
    p.add_argument("--uefi", action="store_true")
    p.add_argument("--emulator", choices=["qemu", "bochs"], default="qemu",
                   help="bochs: Bochs with a Skylake-X CPU (x2APIC, TSC-deadline, VMX); needs --stop-on")
    p.add_argument("--expect", action="append", default=[], help="regex that must appear, in order")
    p.add_argument("--forbid", action="append", default=[], help="regex that must not appear")
    p.add_argument("--exit", type=int, default=0, help="expected QEMU exit status")
    p.add_argument("--stop-on", help="regex: end the run successfully once it appears")
    p.add_argument("--type-after", nargs=2, action="append", default=[], metavar=("REGEX", "TEXT"),
                   help="once REGEX appears in the log, type TEXT on the serial line (QEMU only; "
                        "backslash escapes such as \\n are understood); repeatable, in order")
    p.add_argument("--interval", nargs=4, action="append", default=[], metavar=("START", "END", "MIN", "MAX"),
                   help="host seconds from the first line matching START to the first matching END after "
                        "it must lie in [MIN, MAX] (lines are stamped as they arrive); repeatable")
    p.add_argument("--timeout", type=float, default=120)
    p.add_argument("--log", help="also write the serial log here")
    p.add_argument("--report-boot-time", action="store_true",
                   help="print seconds from QEMU start to the first Kestrel line")
    args = p.parse_args()
    if args.image is None:
        if args.hypervisor != "xen":
            p.error("--image is required with --hypervisor kestrel")
        args.image = XEN_IMAGE
    if not os.path.isfile(args.image):
        p.error(f"no hypervisor image at {args.image}"
                + (" (run tools/fetch-xen first)" if args.hypervisor == "xen" else ""))
    for module, _ in args.module:
        if not os.path.isfile(module):
            p.error(f"no module file at {module}")
    if args.cmdline is None:
        args.cmdline = XEN_CMDLINE if args.hypervisor == "xen" else ""
    if args.hypervisor == "xen" and args.stop_on is None:
        args.stop_on = XEN_STOP_ON
    return args


def mkiso_command(args, iso):
    cmd = [os.path.join(TOP, "tools", "mkiso")]
    if args.hypervisor == "xen":
        cmd += ["--image-name", "xen.gz", "--title", "Xen"]
    cmd += [iso, args.image, args.cmdline]
    for module, module_args in args.module:
        cmd += [module, module_args]
    return cmd


def qemu_command(args, iso, vars_copy):
    cmd = ["qemu-system-x86_64", "-accel", "tcg", "-cpu", args.cpu, "-smp", args.smp, "-m", args.mem,
           "-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-cdrom", iso, "-boot", "d"]
    if args.uefi:
        cmd += ["-drive", f"if=pflash,format=raw,readonly=on,file={OVMF_CODE}",
                "-drive", f"if=pflash,format=raw,file={vars_copy}"]
    return cmd


BOCHSRC = """megs: {megs}
cpu: model=corei7_skylake_x, count={smp}, ips=200000000
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest
ata0-master: type=cdrom, path={iso}, status=inserted
boot: cdrom
display_library: x
com1: enabled=1, mode=file, dev={serial}
log: {work}/bochs.log
sound: driver=dummy
speaker: enabled=0
"""


def bochs_process(args, iso, work):
    """Bochs under Xvfb; its debugger waits at the first instruction until it reads 'c'."""
    serial = os.path.join(work, "serial.txt")
    megs = int(args.mem.rstrip("MG")) * (1024 if args.mem.endswith("G") else 1)
    with open(os.path.join(work, "bochsrc"), "w") as f:
        f.write(BOCHSRC.format(megs=megs, smp=args.smp, iso=iso, serial=serial, work=work))
    open(serial, "wb").close()
    proc = subprocess.Popen(["xvfb-run", "-a", "bochs", "-q", "-f", os.path.join(work, "bochsrc")],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    proc.stdin.write(b"c\n")
    proc.stdin.flush()
    return proc, open(serial, "rb")


def kill(proc):
    try:
        os.killpg(proc.pid, 9)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def run(args, work):
    iso = os.path.join(work, "kestrel.iso")
    subprocess.run(mkiso_command(args, iso), check=True)
    vars_copy = os.path.join(work, "vars.fd")
    if args.uefi:
        shutil.copy(OVMF_VARS, vars_copy)
    start = time.monotonic()
    if args.emulator == "bochs":
        proc, output = bochs_process(args, iso, work)
    else:
        proc = subprocess.Popen(qemu_command(args, iso, vars_copy), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT,
                                stdin=subprocess.PIPE if args.type_after else subprocess.DEVNULL,
                                start_new_session=True)
        output = proc.stdout
        os.set_blocking(output.fileno(), False)
    log, first_line_at, stopped = b"", None, False
    typing = list(args.type_after)
    while True:
        chunk = output.read()
        if chunk:
            log += chunk
            ARRIVALS.append((len(log), time.monotonic()))
            while typing and re.search(typing[0][0], log.decode(errors="replace"), re.M):
                text = typing.pop(0)[1].encode().decode("unicode_escape").encode("latin-1")
                proc.stdin.write(text)
                proc.stdin.flush()
            if first_line_at is None and (b"(KESTREL)" in log or b"(XEN)" in log):
                first_line_at = time.monotonic() - start
            if args.stop_on and re.search(args.stop_on, log.decode(errors="replace")):
                stopped = True
                kill(proc)
        if proc.poll() is not None:
            rest = output.read()
            log += rest or b""
            break
        if time.monotonic() - start > args.timeout:
            kill(proc)
            proc.wait()
            return None, log.decode(errors="replace"), first_line_at, False
        time.sleep(0.02)
    return proc.returncode, log.decode(errors="replace"), first_line_at, stopped


# (bytes of log received so far, host time) after each read from the emulator, for --interval.
ARRIVALS = []


def arrival_time(offset):
    """Host time at which the log's first `offset` bytes had all arrived."""
    for size, at in ARRIVALS:
        if size >= offset:
            return at
    return None


def check_intervals(args, log):
    problems = []
    raw = log.encode(errors="replace")
    for start, end, low, high in args.interval:
        m1 = re.compile(start.encode(), re.M).search(raw)
        m2 = re.compile(end.encode(), re.M).search(raw, m1.end()) if m1 else None
        if not m2:
            problems.append(f"interval /{start}/ to /{end}/: lines not found")
            continue
        t1, t2 = arrival_time(m1.end()), arrival_time(m2.end())
        took = t2 - t1
        print(f"interval /{start}/ to /{end}/: {took:.3f} s by the host clock")
        if not float(low) <= took <= float(high):
            problems.append(f"interval /{start}/ to /{end}/ took {took:.3f} s, not within [{low}, {high}]")
    return problems


def check(args, status, log, stopped):
    problems = check_intervals(args, log)
    if status is None:
        problems.append(f"timed out after {args.timeout:.0f} s")
    elif not stopped and status != args.exit:
        problems.append(f"QEMU exit status {status}, expected {args.exit}"
                        + (" (a triple fault or reset ends QEMU with 0 under -no-reboot)" if status == 0 else ""))
    pos = 0
    for pattern in args.expect:
        m = re.compile(pattern, re.M).search(log, pos)
        if not m:
            problems.append(f"expected /{pattern}/ not found" + (" after earlier matches" if pos else ""))
            continue
        pos = m.end()
    for pattern in args.forbid:
        if re.search(pattern, log, re.M):
            problems.append(f"forbidden /{pattern}/ found")
    return problems


def main():
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="kestrel-boot-") as work:
        status, log, first_line_at, stopped = run(args, work)
    if args.log:
        with open(args.log, "w") as f:
            f.write(log)
    problems = check(args, status, log, stopped)
    if args.report_boot_time and first_line_at is not None:
        print(f"boot-time: {first_line_at:.3f} s from QEMU start to the first hypervisor line")
    if problems:
        print("----- serial log -----")
        print(log)
        print("----- end of serial log -----")
        for p in problems:
            print("FAIL:", p)
        sys.exit(1)
    print(f"PASS ({'stopped on pattern' if stopped else f'QEMU exit status {status}'})")


if __name__ == "__main__":
    main()
