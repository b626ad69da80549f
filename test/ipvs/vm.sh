#!/usr/bin/env bash
# vm.sh SCRIPT [FILE...]: boots Debian's stock kernel under qemu with a small initramfs
# (busybox, bash, iproute2, ipvsadm, node, the IPVS modules), copies SCRIPT and FILEs to /test
# in the guest, runs `node /test/SCRIPT` there, and prints what the guest printed between
# the "=== VM BEGIN" and "=== VM END rc=N" lines. The host's kernel has no IPVS; the guest's
# does. The kernel package is downloaded once (apt-get download, never installed) and cached
# with the base initramfs in $VIGIL_VM_DIR (default /tmp/vigil-vm).
# The guest has no network out. With VIGIL_VM_HOST_PORT=N it has one NIC, eth0 (10.0.2.15/24,
# qemu's user networking with restrict=on), on which 10.0.2.100:8787 reaches the host's
# 127.0.0.1:N and nothing else: enough for a control plane on the host's loopback.
# VIGIL_VM_BINARIES="keepalived ..." copies those host programs, with their libraries, into the
# guest's /usr/sbin for this run.
# Exit: 0 the script exited 0; 1 it failed; 2 usage or a missing tool; 3 no result from the VM.
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: vm.sh SCRIPT [FILE...]" >&2; exit 2; }
CACHE=${VIGIL_VM_DIR:-/tmp/vigil-vm}
TIMEOUT=${VIGIL_VM_TIMEOUT:-240}
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
for tool in qemu-system-x86_64 ipvsadm tc cpio depmod modprobe apt-get dpkg-deb; do
  command -v "$tool" >/dev/null || { echo "vm.sh: $tool is missing (apt-get install qemu-system-x86 ipvsadm cpio kmod)" >&2; exit 2; }
done
[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 || { echo "vm.sh: needs a static /bin/busybox (apt-get install busybox-static)" >&2; exit 2; }
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9

# The kernel: only the image and the module trees IPVS needs; the .deb has no modules.dep.
KDIR=$CACHE/kernel
if [ ! -f "$KDIR/.ok-e1000" ]; then
  pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
  if [ -z "$pkg" ]; then apt-get update -qq; pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}'); fi
  [ -n "$pkg" ] || { echo "vm.sh: cannot resolve linux-image-amd64" >&2; exit 2; }
  rm -rf "$KDIR" "$CACHE/deb"; mkdir -p "$KDIR" "$CACHE/deb"
  (cd "$CACHE/deb" && apt-get download -qq "$pkg" 2>/dev/null)
  deb=$(ls "$CACHE"/deb/*.deb | head -1)
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$KDIR" --wildcards --no-anchored \
    'boot/vmlinuz-*' '*/modules/*/kernel/net/*' '*/modules/*/kernel/lib/*' '*/modules/*/kernel/crypto/*' \
    '*/modules/*/kernel/arch/x86/crypto/*' '*/modules/*/kernel/drivers/net/veth.ko*' \
    '*/modules/*/kernel/drivers/net/ethernet/intel/e1000/*' '*/modules/*/modules.builtin*' '*/modules/*/modules.order'
  if [ ! -d "$KDIR/lib/modules" ]; then mkdir -p "$KDIR/lib"; mv "$KDIR/usr/lib/modules" "$KDIR/lib/modules"; fi
  depmod -b "$KDIR" "$(ls "$KDIR/lib/modules")"
  echo "$pkg" > "$KDIR/.ok-e1000"
  rm -rf "$CACHE/deb"
fi
KVER=$(ls "$KDIR/lib/modules")

copy_bin() { # SRC ROOT DEST: an ELF and the libraries it loads, at the host's paths
  local src lib
  src=$(readlink -f "$1")
  install -D -m 0755 "$src" "$2$3"
  if ldd "$src" >/dev/null 2>&1; then
    for lib in $(ldd "$src" | awk '/=> \//{print $3} /^[[:space:]]*\/.*ld-linux/{print $1}'); do
      [ -e "$2$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$2$lib"
    done
  fi
}
cpio_of() { # DIR OUT: newc, owned by root, uncompressed (gunzip under emulation costs a second)
  (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$2"
}

NODE=$(readlink -f "$(command -v node)")
key=$({ echo "$KVER"; md5sum < "$0"; md5sum /bin/busybox "$(command -v ipvsadm)" "$NODE" /bin/bash "$(command -v ip)" "$(command -v tc)"; } | md5sum | cut -c1-12)
BASE=$CACHE/base-$key.cpio
if [ ! -f "$BASE" ]; then
  R=$CACHE/root; rm -rf "$R"
  mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,run,tmp,etc,root,var,test,lib/modules/ipvs}
  ln -s ../run "$R/var/run"
  cp /bin/busybox "$R/bin/busybox"
  for applet in $(/bin/busybox --list-full); do [ -e "$R/$applet" ] || ln -s /bin/busybox "$R/$applet"; done
  rm -f "$R/bin/bash" "$R/sbin/ip" "$R/bin/ip"
  copy_bin /bin/bash "$R" /bin/bash
  copy_bin "$(command -v ip)" "$R" /sbin/ip
  copy_bin "$(command -v tc)" "$R" /sbin/tc
  copy_bin "$(command -v ipvsadm)" "$R" /usr/sbin/ipvsadm
  copy_bin "$NODE" "$R" /usr/bin/node
  echo 'root:x:0:0:root:/root:/bin/sh' > "$R/etc/passwd"
  printf 'tcp 6 TCP\nudp 17 UDP\n' > "$R/etc/protocols"
  # The IPVS modules and what they need, in load order (insmod ignores dependencies).
  # Besides IPVS: veth and bridge for the guest's networks, ipip for tunnelling real servers,
  # tc's ingress, u32 and skbedit to set a firewall mark, and e1000 for the NIC to the host.
  for m in ip_vs $(ls "$KDIR/lib/modules/$KVER/kernel/net/netfilter/ipvs" | sed -n 's/^\(ip_vs_[a-z]*\)\.ko.*/\1/p' | grep -vE '^ip_vs_(ftp|pe_sip)$') veth bridge ipip sch_ingress cls_u32 act_skbedit e1000; do
    modprobe -d "$KDIR" -S "$KVER" --show-depends "$m" | awk '$1=="insmod"{print $2}'
  done | awk '!seen[$0]++' | while read -r path; do
    name=$(basename "$path"); name=${name%%.ko*}
    case "$path" in *.xz) xz -dc "$path" ;; *.zst) zstd -dcq "$path" ;; *) cat "$path" ;; esac > "$R/lib/modules/ipvs/$name.ko"
    echo "$name" >> "$R/lib/modules/ipvs/order"
  done
  cat > "$R/init" <<'INIT'
#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev; mount -t tmpfs tmpfs /run
ip link set lo up
for m in $(cat /lib/modules/ipvs/order); do insmod /lib/modules/ipvs/$m.ko 2>/dev/null || case $m in crc32c*intel*) ;; *) echo "insmod $m failed" ;; esac; done
if ip link show eth0 >/dev/null 2>&1; then ip addr add 10.0.2.15/24 dev eth0; ip link set eth0 up; fi
echo "=== VM BEGIN kernel=$(uname -r)"
cd /test && node "/test/$(cat /test/.script)"; rc=$?
echo "=== VM END rc=$rc"
sync; poweroff -f
INIT
  chmod 0755 "$R/init"
  rm -f "$CACHE"/base-*.cpio
  cpio_of "$R" "$BASE"; rm -rf "$R"
fi

RUN=$(mktemp -d "$CACHE/run.XXXXXX")
trap 'rm -rf "$RUN"' EXIT
mkdir -p "$RUN/root/test"
for f in "$@"; do cp "$f" "$RUN/root/test/"; done
for b in ${VIGIL_VM_BINARIES:-}; do
  command -v "$b" >/dev/null || { echo "vm.sh: $b is missing on this host" >&2; exit 2; }
  copy_bin "$(command -v "$b")" "$RUN/root" "/usr/sbin/$b"
done
basename "$1" > "$RUN/root/test/.script"
cpio_of "$RUN/root" "$RUN/run.cpio"
# Layers must each start 4-byte aligned, or the kernel stops unpacking ("invalid magic").
for f in "$BASE" "$RUN/run.cpio"; do cat "$f"; head -c $(( (4 - $(stat -c %s "$f") % 4) % 4 )) /dev/zero; done > "$RUN/initrd"
flock -u 9

# KVM only where it is real (kvm_intel/kvm_amd); a nested PVM /dev/kvm hangs the stock kernel.
accel=tcg; cpu=max
if [ -w /dev/kvm ] && { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; }; then accel=kvm; cpu=host; fi
nic=()
if [ -n "${VIGIL_VM_HOST_PORT:-}" ]; then
  nic=(-netdev "user,id=host,restrict=on,guestfwd=tcp:10.0.2.100:8787-cmd:/bin/busybox nc 127.0.0.1 $VIGIL_VM_HOST_PORT"
    -device e1000,netdev=host)
fi
log=$RUN/serial.log
set +e
timeout "$TIMEOUT" qemu-system-x86_64 -accel "$accel" -cpu "$cpu" -smp 1 -m 1536 -nodefaults -no-user-config \
  -display none -serial "file:$log" -no-reboot "${nic[@]}" -kernel "$KDIR/boot/vmlinuz-$KVER" -initrd "$RUN/initrd" \
  -append "console=ttyS0 panic=-1 quiet loglevel=3" </dev/null
set -e
tr -d '\r' < "$log" > "$CACHE/last-serial.log"
sed -n '/^=== VM BEGIN/,/^=== VM END/p' "$CACHE/last-serial.log"
rc=$(sed -n 's/^=== VM END rc=\([0-9]*\).*/\1/p' "$CACHE/last-serial.log" | tail -1)
if [ -z "$rc" ]; then echo "vm.sh: no result from the VM; see $CACHE/last-serial.log" >&2; tail -20 "$CACHE/last-serial.log" >&2; exit 3; fi
[ "$rc" = 0 ]
