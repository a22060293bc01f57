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
# process start-up (slow under emulation) is counted.
sleep_two_seconds() {
    read before rest </proc/uptime
    echo "LINUX-TEST: sleep starts"
    sleep 2
    echo "LINUX-TEST: sleep ends"
    read after rest </proc/uptime
    took=$((${after%.*}${after#*.} - ${before%.*}${before#*.}))
    echo "LINUX-TEST: sleep 2 took $took cs by the guest clock"
    [ "$took" -ge 180 ] && [ "$took" -le 220 ]
}
check "sleep 2 takes 2 s +-10% by the guest clock" sleep_two_seconds

memory_round_trip() {
    dd if=/dev/urandom of=/tmp/a bs=1M count=64 2>/dev/null || return 1
    sum_a=$(md5sum </tmp/a)
    cp /tmp/a /tmp/b || return 1
    sum_b=$(md5sum </tmp/b)
    cmp -s /tmp/a /tmp/b && [ "$sum_a" = "$sum_b" ] && [ "$(stat -c %s /tmp/b)" = 67108864 ]
}
check "64 MiB written and read back" memory_round_trip
rm -f /tmp/a /tmp/b

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
