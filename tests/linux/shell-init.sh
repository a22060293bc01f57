#!/bin/busybox sh
# /init of the interactive initramfs (tools/demo, and the linux.shell test): a BusyBox shell on
# dom0's console (hvc0), which reads what is typed on Kestrel's serial line.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "Debian's Linux $(uname -r) on $(cat /sys/hypervisor/type 2>/dev/null || echo '?'), $(grep -c '^processor' /proc/cpuinfo) CPUs."
echo "Type commands; 'poweroff -f' ends the machine."
while :; do
    setsid cttyhack sh -i
done
