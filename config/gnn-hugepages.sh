#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Reserve hugepages for gnnd before it starts (the unit's ExecStartPre).
#
#   gnn-hugepages PAGES [NODE]
#
# Makes sure at least PAGES hugepages of the default size (2 MB on x86-64)
# are reserved, on NUMA node NODE when given (the node of the NICs), else
# spread over the nodes by the kernel; never lowers a reservation. Mounts
# hugetlbfs on /dev/hugepages when no hugetlbfs is mounted. Exits 1, saying
# why, when the kernel cannot find that many pages: memory is fragmented
# once the box has run a while, so reserve them at boot instead
# ("hugepages=N" on the kernel command line, or 1 GB pages with
# "default_hugepagesz=1G hugepagesz=1G hugepages=N"); then this script
# finds them and changes nothing. PAGES 0 only checks the mount.
set -eu

prog=gnn-hugepages
die() {
	echo "$prog: $*" >&2
	exit 1
}

[ $# -ge 1 ] && [ $# -le 2 ] || die "usage: $prog PAGES [NODE]"
pages=$1
node=${2:-}
case $pages in
'' | *[!0-9]*) die "PAGES must be a number, not '$pages'" ;;
esac

size_kb=$(awk '/^Hugepagesize:/ { print $2 }' /proc/meminfo)
[ -n "$size_kb" ] || die "this kernel has no hugepage support (no Hugepagesize in /proc/meminfo)"

if [ -n "$node" ]; then
	case $node in
	*[!0-9]*) die "NODE must be a NUMA node number, not '$node'" ;;
	esac
	knob=/sys/devices/system/node/node$node/hugepages/hugepages-${size_kb}kB/nr_hugepages
	[ -e "$knob" ] || die "no NUMA node $node with ${size_kb} kB hugepages ($knob)"
else
	knob=/proc/sys/vm/nr_hugepages
fi

before=$(cat "$knob")
if [ "$before" -lt "$pages" ]; then
	echo "$pages" >"$knob" || die "cannot write $knob"
	have=$(cat "$knob")
	if [ "$have" -lt "$pages" ]; then
		# Give back what a partial reservation took from the system.
		echo "$before" >"$knob" || true
		die "only $have of $pages hugepages of ${size_kb} kB could be reserved${node:+ on node $node}" \
			"(memory is fragmented): reserve them at boot, e.g. hugepages=$pages on the kernel command line"
	fi
	echo "$prog: reserved $have hugepages of ${size_kb} kB${node:+ on node $node}"
fi

if ! awk '$3 == "hugetlbfs" { found = 1 } END { exit !found }' /proc/mounts; then
	mkdir -p /dev/hugepages
	mount -t hugetlbfs -o pagesize=${size_kb}K hugetlbfs /dev/hugepages ||
		die "cannot mount hugetlbfs on /dev/hugepages"
	echo "$prog: mounted hugetlbfs on /dev/hugepages"
fi
exit 0
