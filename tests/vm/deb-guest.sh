#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside a virtme-ng guest (as root): installs the Debian packages,
# lets DKMS build the module for the guest's kernel, uses it as an
# ordinary user in group "fewmul", purges the packages and checks that
# nothing is left. Writes OUT/deb.tap, OUT/deb.log and OUT/dmesg.txt.
#
# The guest shares the host's filesystem. Before dpkg runs, /boot, /etc,
# /usr and /var get a tmpfs overlay, so every change stays in guest memory;
# the script refuses to run anywhere it cannot prove that.
#
# DKMS builds for the running kernel and the newest one in /boot. Only the
# running kernel is kept visible in the guest's /boot: under TCG a second
# build and depmod cost minutes, and `make compat` already builds the
# module for the other kernels natively.
# usage: deb-guest.sh OUT DEBDIR
set -u
out=$1 debs=$2
pkgs=(fewmul-dkms libfewmul0 libfewmul-dev fewmulctl)
user=fewmultest
n=0
exec >"$out/deb.log" 2>&1
: >"$out/deb.tap"

tap() {	# tap <name> <rc>
	n=$((n + 1))
	if [ "$2" -eq 0 ]; then echo "ok $n - $1"; else echo "not ok $n - $1"; fi |
		tee -a "$out/deb.tap"
}
finish() {
	dmesg >"$out/dmesg.txt"
	echo "1..$n" >>"$out/deb.tap"
	exit 0
}
t0=$(date +%s)
since() { echo "$(( $(date +%s) - t0 )) s"; }
stamp() { echo "== $(since): $*"; }	# phase marks in deb.log

# --- isolate the host -----------------------------------------------------
# virtme-ng boots with the host's / as a read-only 9p/virtiofs root.
if ! grep -q virtme /proc/cmdline; then
	tap "running inside a virtme-ng guest" 1
	finish
fi
ov=/run/fewmul-overlay
mkdir -p $ov && mount -t tmpfs -o mode=0755 fewmul-overlay $ov
rc=0
for d in boot etc usr var; do
	mkdir -p $ov/$d/upper $ov/$d/work
	mount -t overlay overlay \
		-o lowerdir=/$d,upperdir=$ov/$d/upper,workdir=$ov/$d/work /$d || rc=1
	[ "$(stat -f -c %T /$d)" = overlayfs ] || rc=1
done
tap "/boot, /etc, /usr and /var are tmpfs overlays (the host stays untouched)" $rc
[ "$rc" -eq 0 ] || finish
mkdir -p /tmp/home && chmod 1777 /tmp/home

kver=$(uname -r)
echo "guest: $kver, $(nproc) cpus"
for f in /boot/config-*; do
	[ "$f" = "/boot/config-$kver" ] || rm -f "$f"
done

# udev applies the package's rule (group fewmul, 0660) to /dev/fewmul.
# virtme-ng starts udevd with --resolve-names=never, which ignores a rule's
# GROUP="name"; restart it as a booted Debian system runs it.
udevadm control --exit 2>/dev/null
/lib/systemd/systemd-udevd --daemon
udevadm control --ping
echo "udevd: $?"

# --- install ----------------------------------------------------------------
stamp install
files=()
for p in "${pkgs[@]}"; do
	deb=("$debs/${p}_"*.deb)	# not <p>-dbgsym_*
	[ -f "${deb[0]}" ] || { tap "$p package present in $debs" 1; finish; }
	files+=("${deb[0]}")
done
# Every regular file and symlink the packages ship, checked after purge.
for f in "${files[@]}"; do dpkg-deb -c "$f"; done | grep -v '^d' | awk '{print $6}' |
	sed 's|^\./|/|' >/tmp/pkgfiles
getent group fewmul >/dev/null && groupdel fewmul	# a `make install` on the host
# man-db's trigger rebuilds the whole index: minutes under TCG, no test.
rm -f /var/lib/man-db/auto-update

t=$(date +%s)
DEBIAN_FRONTEND=noninteractive dpkg -i "${files[@]}"
tap "dpkg -i ${pkgs[*]}" $?
echo "install: $(( $(date +%s) - t )) s (DKMS build and depmod included)"
dkms status fewmul
dkms status -m fewmul -k "$kver" | grep -q ': installed'
tap "DKMS built and installed fewmul for $kver" $?
ko=$(modinfo -n fewmul 2>/dev/null)
echo "module: $ko"
case "$ko" in /lib/modules/"$kver"/updates/dkms/fewmul.ko*) rc=0 ;; *) rc=1 ;; esac
tap "modinfo finds the DKMS module under /lib/modules/$kver/updates/dkms" $rc
getent group fewmul
tap "the package created group fewmul (sysusers)" $?

# --- use ----------------------------------------------------------------------
stamp use
modprobe fewmul
tap "modprobe fewmul" $?
# What a booted system does for a new rules file; the trigger covers a
# uevent that raced with the reload.
udevadm control --reload
udevadm trigger --action=add --subsystem-match=misc --sysname-match=fewmul
udevadm settle -t 10
for _ in $(seq 20); do [ "$(stat -c %G /dev/fewmul 2>/dev/null)" = fewmul ] && break; sleep 0.5; done
ls -l /dev/fewmul
[ "$(stat -c %G:%a /dev/fewmul 2>/dev/null)" = fewmul:660 ]
tap "udev rule: /dev/fewmul is root:fewmul 0660" $?

useradd -M -d /tmp/home/$user -G fewmul $user && mkdir -p /tmp/home/$user &&
	chown $user: /tmp/home/$user
tap "useradd $user in group fewmul" $?
useradd -M -d /tmp/home/nobody2 fewmuloutsider
as() { local u=$1; shift; runuser -u "$u" -- env HOME="/tmp/home/$u" "$@"; }

info=$(as $user fewmulctl info 2>&1)
rc=$?
echo "$info"
[ "$rc" -eq 0 ] && grep -q "^sources: *ioctl, genetlink (agree)$" <<<"$info" &&
	grep -q "^module version: *$(dpkg-query -W -f='${Version}' fewmul-dkms | cut -d- -f1)" <<<"$info"
tap "fewmulctl info as $user: the installed module answers ioctl and genetlink" $?

o=$(as fewmuloutsider fewmulctl info 2>&1)
rc=$?
echo "$o"
[ "$rc" -ne 0 ] && grep -qi "permission denied" <<<"$o"
tap "fewmulctl info as a user outside group fewmul: permission denied" $?

t=$(date +%s)
tr=$(as $user fewmulctl train --backend kernel --arch 784-32-10 --epochs 1 \
	--train-limit 300 --test-limit 100 --batch 50 --seed 3 --json 2>&1)
rc=$?
echo "$tr" | tail -3
echo "train: $(( $(date +%s) - t )) s"
[ "$rc" -eq 0 ] && grep -q '"checksum"' <<<"$tr"
tap "fewmulctl train --backend kernel as $user (784-32-10, 300 samples)" $?

cat >/tmp/home/$user/ex.c <<'EOF'
#include <stdio.h>
#include <libfewmul.h>
int main(void) { puts(fewmul_lib_version()); return 0; }
EOF
as $user sh -c 'cd $HOME && cc ex.c $(pkg-config --cflags --libs libfewmul) -o ex && ./ex'
tap "a program builds with pkg-config libfewmul and runs against libfewmul0" $?

rmmod fewmul
tap "rmmod fewmul" $?

# --- purge ------------------------------------------------------------------
stamp purge
t=$(date +%s)
DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "${pkgs[@]}"
tap "apt-get purge ${pkgs[*]}" $?
echo "purge: $(( $(date +%s) - t )) s"
left=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "${pkgs[@]}" 2>/dev/null | grep -v '^un ')
[ -z "$left" ]
tap "dpkg knows none of the packages any more" $?
found=$(ls -d /lib/modules/*/updates/dkms/fewmul.ko* /lib/modules/*/extra/fewmul.ko* 2>/dev/null)
echo "$found"
[ -z "$found" ] && ! modinfo fewmul >/dev/null 2>&1
tap "no fewmul.ko left under /lib/modules" $?
[ ! -e /var/lib/dkms/fewmul ] && [ -z "$(dkms status fewmul 2>/dev/null)" ] &&
	[ -z "$(ls -d /usr/src/fewmul-* 2>/dev/null)" ]
tap "no DKMS tree (/var/lib/dkms/fewmul, /usr/src/fewmul-*)" $?
rc=0
while read -r f; do
	if [ -e "$f" ] || [ -L "$f" ]; then echo "left: $f"; rc=1; fi
done </tmp/pkgfiles
[ -s /tmp/pkgfiles ] || rc=1
tap "none of the $(wc -l </tmp/pkgfiles) files the packages shipped remains" $rc
! getent group fewmul && ! id -nG $user | grep -qw fewmul
tap "group fewmul is gone, $user is a member of nothing fewmul" $?
userdel $user; userdel fewmuloutsider

echo "guest: done in $(since)"
finish
