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
KVM is never used: it hangs guests on our machines.

Time checks compare what the guest prints with the host's clocks, each line stamped when its
newline arrives (QEMU's serial output is read as soon as it is written):
  --clock-marks REGEX: lines whose first group is the guest's system time in ns, printed in
    bursts (one at the start of a long wait, one at its end). The offset host - guest of a line is
    the serial latency plus the clocks' difference; the smallest offset of each burst is the line
    that came through fastest, so the change between the first and the last burst's smallest
    offsets, over the guest time between those lines, is the guest clock's drift against the
    host's monotonic clock. It must stay within --max-drift-ppm.
  --wallclock REGEX: a line whose first group is the guest's wall-clock time in seconds since
    1970 (a fraction allowed) must be within --max-wallclock-error seconds of the host's time.
  --clock-pair START END MAX_ERROR: lines whose first groups are guest times in seconds (a
    fraction allowed; e.g. Linux's /proc/uptime): from the first START line to the first END line
    after it, the host's and the guest's clocks must advance by amounts within MAX_ERROR seconds
    of each other. A host stall between the lines lengthens both alike, unlike --interval's. If
    the guest prints a burst of START lines (before that END line) or of END lines (from it on),
    each with its time read just before, the line of each burst with the smallest offset
    host - guest is used: the one that came through fastest, as with --clock-marks."""
import argparse
import os
import re
import select
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
    p.add_argument("--second-serial", action="store_true",
                   help="give the machine a second serial port (COM2, IRQ 3) whose output is dropped")
    p.add_argument("--single-thread", action="store_true",
                   help="run all emulated CPUs on one host thread (-accel tcg,thread=single); needed "
                        "for guests that reprogram PCI BARs while another CPU does MMIO: QEMU 7.2's "
                        "multi-threaded TCG can then crash (tcg_commit swaps a running CPU's memory "
                        "map under it; fixed upstream in QEMU 8.1)")
    p.add_argument("--uefi", action="store_true")
    p.add_argument("--emulator", choices=["qemu", "bochs"], default="qemu",
                   help="bochs: Bochs with a Skylake-X CPU (x2APIC, TSC-deadline, VMX); needs --stop-on")
    p.add_argument("--expect", action="append", default=[], help="regex that must appear, in order")
    p.add_argument("--present", action="append", default=[],
                   help="regex that must appear somewhere, in any order (lines from domains that race)")
    p.add_argument("--forbid", action="append", default=[], help="regex that must not appear")
    p.add_argument("--exit", type=int, default=0, help="expected QEMU exit status")
    p.add_argument("--stop-on", help="regex: end the run successfully once it appears")
    p.add_argument("--type-after", nargs=2, action="append", default=[], metavar=("REGEX", "TEXT"),
                   help="once REGEX appears in the log, type TEXT on the serial line (QEMU only; "
                        "backslash escapes such as \\n are understood); repeatable, in order")
    p.add_argument("--interval", nargs=4, action="append", default=[], metavar=("START", "END", "MIN", "MAX"),
                   help="host seconds from the first line matching START to the first matching END after "
                        "it must lie in [MIN, MAX] (lines are stamped as they arrive); repeatable")
    p.add_argument("--clock-pair", nargs=3, action="append", default=[], metavar=("START", "END", "MAX_ERROR"),
                   help="the first groups of the first START line and the first END line after it are guest "
                        "seconds: |host delta - guest delta| between them must be at most MAX_ERROR; repeatable")
    p.add_argument("--timeout", type=float, default=120)
    p.add_argument("--log", help="also write the serial log here")
    p.add_argument("--report-boot-time", action="store_true",
                   help="print seconds from QEMU start to the first Kestrel line")
    p.add_argument("--clock-marks", metavar="REGEX",
                   help="lines whose first group is the guest's system time in ns, in bursts: check the drift")
    p.add_argument("--max-drift-ppm", type=float, default=100.0,
                   help="largest |drift| of the guest clock against the host's, with --clock-marks")
    p.add_argument("--wallclock", metavar="REGEX",
                   help="a line whose first group is the guest's wall-clock time in seconds since 1970")
    p.add_argument("--max-wallclock-error", type=float, default=3.0,
                   help="largest |guest - host| wall-clock difference in seconds, with --wallclock")
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
    accel = "tcg,thread=single" if args.single_thread else "tcg"
    cmd = ["qemu-system-x86_64", "-accel", accel, "-cpu", args.cpu, "-smp", args.smp, "-m", args.mem,
           "-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-cdrom", iso, "-boot", "d"]
    if args.second_serial:
        cmd += ["-serial", "null"]
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
    stamps = LineStamps()
    unscanned, last_scan = False, 0.0
    while True:
        chunk = output.read()
        if chunk:
            stamps.add(chunk)
            log += chunk
            unscanned = True
        # The whole log is searched at most every 20 ms: QEMU writes a byte at a time, and each
        # write wakes the loop so that lines are stamped when they arrive.
        if unscanned and time.monotonic() - last_scan >= 0.02:
            unscanned, last_scan = False, time.monotonic()
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
            rest = output.read() or b""
            stamps.add(rest)
            log += rest
            break
        if time.monotonic() - start > args.timeout:
            kill(proc)
            proc.wait()
            return None, log.decode(errors="replace"), first_line_at, False, stamps
        if args.emulator == "qemu":
            select.select([output], [], [], 0.02)  # wakes as soon as QEMU writes
        else:
            time.sleep(0.02)
    return proc.returncode, log.decode(errors="replace"), first_line_at, stopped, stamps


class LineStamps:
    """Each complete line of the serial log with the host's monotonic (ns) and wall (s) clocks
    when its newline was read."""

    def __init__(self):
        self.partial = b""
        self.lines = []  # (monotonic_ns, wall_seconds, text)

    def add(self, chunk):
        mono, wall = time.monotonic_ns(), time.time()
        *complete, self.partial = (self.partial + chunk).split(b"\n")
        for line in complete:
            self.lines.append((mono, wall, line.decode(errors="replace").rstrip("\r")))

    def matching(self, pattern):
        regex = re.compile(pattern)
        for mono, wall, text in self.lines:
            m = regex.search(text)
            if m:
                yield mono, wall, m.group(1)


def drift_problems(args, stamps):
    """Splits the marks into bursts at gaps of over a second of guest time and compares the
    first burst with the last (see --clock-marks)."""
    marks = [(mono, int(guest)) for mono, _, guest in stamps.matching(args.clock_marks)]
    bursts = []
    for mark in marks:
        if not bursts or mark[1] - bursts[-1][-1][1] > 1_000_000_000:
            bursts.append([])
        bursts[-1].append(mark)
    if len(bursts) < 2:
        return [f"clock marks: {len(marks)} marks in {len(bursts)} burst(s), need two bursts"]
    first = min(bursts[0], key=lambda m: m[0] - m[1])
    last = min(bursts[-1], key=lambda m: m[0] - m[1])
    host_ns, guest_ns = last[0] - first[0], last[1] - first[1]
    if guest_ns <= 0 or host_ns <= 0:
        return [f"clock marks: guest {guest_ns} ns and host {host_ns} ns between bursts"]
    ppm = (guest_ns - host_ns) / host_ns * 1e6
    spread = [max(m[0] - m[1] for m in b) - min(m[0] - m[1] for m in b) for b in (bursts[0], bursts[-1])]
    print(f"clock drift: {ppm:+.1f} ppm (guest {guest_ns / 1e9:.6f} s over host {host_ns / 1e9:.6f} s; "
          f"{len(bursts[0])} and {len(bursts[-1])} marks, offsets spread {spread[0] / 1e6:.3f} and "
          f"{spread[1] / 1e6:.3f} ms)")
    if abs(ppm) > args.max_drift_ppm:
        return [f"clock drift {ppm:+.1f} ppm exceeds {args.max_drift_ppm:g} ppm"]
    return []


def wallclock_problems(args, stamps):
    seen = list(stamps.matching(args.wallclock))
    if not seen:
        return [f"wall clock: no line matches /{args.wallclock}/"]
    problems = []
    for _, host, guest in seen:
        error = float(guest) - host
        print(f"wall clock: guest {float(guest):.3f}, host {host:.3f}: {error:+.3f} s")
        if abs(error) > args.max_wallclock_error:
            problems.append(f"wall clock off by {error:+.3f} s (limit {args.max_wallclock_error:g} s)")
    return problems


def line_pair(stamps, start, end):
    """The indices of the first line matching START and of the first matching END after it, or
    None."""
    begin = next((i for i, (_, _, text) in enumerate(stamps.lines) if re.search(start, text)), None)
    if begin is None:
        return None
    finish = next((i for i in range(begin + 1, len(stamps.lines)) if re.search(end, stamps.lines[i][2])), None)
    return None if finish is None else (begin, finish)


def interval_problems(args, stamps):
    problems = []
    for start, end, low, high in args.interval:
        pair = line_pair(stamps, start, end)
        if pair is None:
            problems.append(f"interval /{start}/ to /{end}/: lines not found")
            continue
        begin, finish = pair
        took = (stamps.lines[finish][0] - stamps.lines[begin][0]) / 1e9
        print(f"interval /{start}/ to /{end}/: {took:.3f} s by the host clock")
        if not float(low) <= took <= float(high):
            problems.append(f"interval /{start}/ to /{end}/ took {took:.3f} s, not within [{low}, {high}]")
    return problems


def clock_pair_problems(args, stamps):
    problems = []
    for start, end, max_error in args.clock_pair:
        pair = line_pair(stamps, start, end)
        if pair is None:
            problems.append(f"clock pair /{start}/ to /{end}/: lines not found")
            continue
        # (host seconds, guest seconds) of the fastest line of each burst
        sides = []
        for pattern, lines in ((start, stamps.lines[:pair[1]]), (end, stamps.lines[pair[1]:])):
            marks = [(mono / 1e9, m) for mono, _, text in lines for m in [re.search(pattern, text)] if m]
            if not all(m.groups() and m.group(1) for _, m in marks):
                break
            sides.append(min(((host, float(m.group(1))) for host, m in marks), key=lambda hg: hg[0] - hg[1]))
        if len(sides) < 2:
            problems.append(f"clock pair /{start}/ to /{end}/: a pattern has no first group with the guest's time")
            continue
        host_s, guest_s = sides[1][0] - sides[0][0], sides[1][1] - sides[0][1]
        error = host_s - guest_s
        print(f"clock pair /{start}/ to /{end}/: host {host_s:.3f} s, guest {guest_s:.3f} s: {error:+.3f} s")
        if abs(error) > float(max_error):
            problems.append(f"clock pair /{start}/ to /{end}/: host {host_s:.3f} s against guest {guest_s:.3f} s, "
                            f"{error:+.3f} s apart (limit {max_error} s)")
    return problems


def check(args, status, log, stopped):
    problems = []
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
    for pattern in args.present:
        if not re.search(pattern, log, re.M):
            problems.append(f"expected /{pattern}/ not found anywhere")
    for pattern in args.forbid:
        if re.search(pattern, log, re.M):
            problems.append(f"forbidden /{pattern}/ found")
    return problems


def main():
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="kestrel-boot-") as work:
        status, log, first_line_at, stopped, stamps = run(args, work)
    if args.log:
        with open(args.log, "w") as f:
            f.write(log)
    problems = check(args, status, log, stopped)
    if args.clock_marks:
        problems += drift_problems(args, stamps)
    if args.wallclock:
        problems += wallclock_problems(args, stamps)
    problems += interval_problems(args, stamps)
    problems += clock_pair_problems(args, stamps)
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
