#!/bin/busybox sh
# /init of the real-kernel test VM (packed into the initramfs by initramfs.py).
#
# Mounts the host's / read-only over virtio-9p at /host (the guest runs the host's own
# programs and the project's venv), lays tmpfs where programs write, mounts the writable job
# directory (second 9p share) at /host/run/flyos-job, runs job.sh chrooted into /host (drivers
# load on demand from the host's /lib/modules/<guest kernel>) and writes its exit code next to
# its output. Then powers off, whatever happened: the VM never waits for input.
#
# Console lines starting with "flyos-vm:" are read by the host (runner.py).

/bin/busybox --install -s /bin
export PATH=/bin

JOB=/run/flyos-job

say() { echo "flyos-vm: $*" >/dev/console; }

halt() {
	sync
	poweroff -f
	echo o >/proc/sysrq-trigger
	sleep 5
}

die() {
	say "error: $*"
	halt
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
say "init"

for module in /modules/*.ko; do
	[ -e "$module" ] || continue # none: the kernel has them built in
	insmod "$module" || die "insmod $module failed"
done

NINEP=trans=virtio,version=9p2000.L,msize=262144
mount -t 9p -o "$NINEP,ro,cache=loose" hostroot /host || die "cannot mount the host root"

mount -t proc proc /host/proc
mount -t sysfs sysfs /host/sys
mount -t devtmpfs devtmpfs /host/dev
mkdir -p /host/dev/pts /host/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /host/dev/pts
mount -t tmpfs tmpfs /host/dev/shm
# Writable copies of the directories programs write to: overlays, not bare tmpfs, so
# what the host keeps there stays visible (CI may clone the project under /tmp).
mkdir /overlay
mount -t tmpfs tmpfs /overlay
for dir in /tmp /run /var/tmp /root /var/lib /var/cache; do
	upper="/overlay$dir/upper"
	work="/overlay$dir/work"
	mkdir -p "$upper" "$work"
	case "$dir" in
	/tmp | /var/tmp) chmod 1777 "$upper" ;;
	/root) chmod 700 "$upper" ;;
	*) chmod 755 "$upper" ;;
	esac
	mount -t overlay -o "lowerdir=/host$dir,upperdir=$upper,workdir=$work" overlay "/host$dir" ||
		die "cannot overlay $dir"
done

mkdir -p "/host$JOB"
mount -t 9p -o "$NINEP,rw,cache=none" job "/host$JOB" || die "cannot mount the job directory"
uname -r >"/host$JOB/kernel-release"

# Drivers load on demand: the kernel's module auto-loading runs /sbin/modprobe of this
# initramfs (see initramfs.py), which runs the host's modprobe in /host.
limit=$(cat "/host$JOB/timeout")
say "job start"
timeout -s KILL "$limit" chroot /host /usr/bin/env -i \
	HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	LANG=C.UTF-8 TERM=dumb FLYOS_IN_VM=1 \
	/bin/sh "$JOB/job.sh" >"/host$JOB/output" 2>&1 </dev/null
code=$?
echo "$code" >"/host$JOB/exit-code"
say "job exit $code"
halt
