#!/bin/busybox sh
# /init of the Linux dom0 test's initramfs: checks what a Xen user expects of a PV dom0 and
# ends the machine, powering off when every check passed. Lines starting with "LINUX-TEST:"
# are for the harness (tests/linux/CMakeLists.txt), which also times the sleep from the host.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp

passed=0
failed=0
check() {
    what=$1
    shift
    if "$@"; then
        echo "LINUX-TEST: ok: $what"
        passed=$((passed + 1))
    else
        echo "LINUX-TEST: FAILED: $what"
        failed=$((failed + 1))
    fi
}

hypervisor_is_xen() { [ "$(cat /sys/hypervisor/type 2>/dev/null)" = xen ]; }
check "/sys/hypervisor/type is xen" hypervisor_is_xen

want_cpus=$(sed -n 's/.*linux_test.cpus=\([0-9]*\).*/\1/p' /proc/cmdline)
cpus_online() {
    n=$(grep -c '^processor' /proc/cpuinfo)
    echo "LINUX-TEST: online CPUs: $(cat /sys/devices/system/cpu/online) ($n in /proc/cpuinfo)"
    [ "$n" = "${want_cpus:-2}" ] && [ "$(cat /sys/devices/system/cpu/online)" = "0-$((${want_cpus:-2} - 1))" ]
}
check "every CPU online" cpus_online

# /proc/uptime counts in hundredths of a second; read with shell builtins only, so that no
# process start-up (slow under emulation) is counted. Three lines before the sleep and three
# after carry the uptime read just before each: the harness holds the guest's time across the
# sleep to the host's (--clock-pair, through the line of each three that reached it fastest),
# which checks the guest clock's rate and is not upset by a host stall, since that lengthens
# both alike. Here the sleep must not end early by the guest clock, nor more than a second late
# (a lost timer wake-up, not a stall of the emulator).
uptime_lines() {
    for i in 1 2 3; do
        read now rest </proc/uptime
        echo "LINUX-TEST: $1, uptime $now"
    done
}
sleep_two_seconds() {
    uptime_lines "sleep starts"
    read before rest </proc/uptime
    sleep 2
    read after rest </proc/uptime
    uptime_lines "sleep ends"
    took=$((${after%.*}${after#*.} - ${before%.*}${before#*.}))
    echo "LINUX-TEST: sleep 2 took $took cs by the guest clock"
    [ "$took" -ge 180 ] && [ "$took" -le 300 ]
}
check "sleep 2 takes at least 1.8 s and at most 3 s by the guest clock" sleep_two_seconds

memory_round_trip() {
    dd if=/dev/urandom of=/tmp/a bs=1M count=64 2>/dev/null || return 1
    sum_a=$(md5sum </tmp/a)
    cp /tmp/a /tmp/b || return 1
    sum_b=$(md5sum </tmp/b)
    cmp -s /tmp/a /tmp/b && [ "$sum_a" = "$sum_b" ] && [ "$(stat -c %s /tmp/b)" = 67108864 ]
}
check "64 MiB written and read back" memory_round_trip
rm -f /tmp/a /tmp/b

# A device interrupt reaches dom0 as an event: the machine's second serial port (COM2, ISA
# IRQ 3; the hypervisor keeps COM1) sends through its transmit interrupt. Linux requests the
# line when the port is opened, so it is held open while the count is read.
ttys1_interrupts() {
    awk '/ttyS1/ { s = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i; print s; exit }' /proc/interrupts
}
serial_interrupts_arrive() {
    [ -c /dev/ttyS1 ] || return 1
    exec 4>/dev/ttyS1 || return 1
    before=$(ttys1_interrupts)
    i=0
    while [ $i -lt 20 ]; do
        echo "interrupt-driven output, line $i of 20" >&4
        i=$((i + 1))
    done
    sleep 1
    after=$(ttys1_interrupts)
    grep ttyS1 /proc/interrupts | sed 's/^/LINUX-TEST: /'
    exec 4>&-
    echo "LINUX-TEST: ttyS1 interrupts: ${before:-none} before, ${after:-none} after 20 lines"
    [ "${after:-0}" -gt "${before:-0}" ]
}
check "COM2's interrupts arrive" serial_interrupts_arrive

privcmd_opens() {
    [ -c /dev/xen/privcmd ] || insmod /lib/modules/xen-privcmd.ko || return 1
    [ -c /dev/xen/privcmd ] && exec 3</dev/xen/privcmd && exec 3<&-
}
check "/dev/xen/privcmd opens" privcmd_opens

echo "LINUX-TEST: $passed passed, $failed failed"
if [ "$failed" = 0 ]; then
    poweroff -f
else
    reboot -f
fi
