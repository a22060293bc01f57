#!/bin/busybox sh
# /init of tools/bench linux-boot: the first line user space prints, then power off. The
# benchmark times QEMU's start to this line.
echo "BENCH: first userspace line"
/bin/busybox poweroff -f
