# Body of a run's guest script (tests/vm/run prepends FLAVOUR, MODULES, CWD,
# CMD and ENVS). Runs under busybox in the initramfs, outside the chroot.
H=/host
mount -t proc proc $H/proc
mount -t sysfs sysfs $H/sys
mount -t devtmpfs devtmpfs $H/dev
# The host's /tmp stays visible (a checkout may live there); scratch space
# is a tmpfs under /run, named by TMPDIR and HOME.
mount -t tmpfs tmpfs $H/run
mkdir -p $H/run/tmp $H/run/home
mount -t debugfs debugfs /sys/kernel/debug
mount -t debugfs debugfs $H/sys/kernel/debug
kml=/sys/kernel/debug/kmemleak
# Leaks from boot are not ours: forget them before anything of ours runs.
[ -w $kml ] && echo clear > $kml

# A task blocked for half the run is hung; a shorter limit would flag work
# that is only slow (a KUnit module's init runs every case while insmod
# waits, and a TCG guest on a busy host runs several times slower).
ht=/proc/sys/kernel/hung_task_timeout_secs
[ -w $ht ] && echo $((DEADLINE / 2 > 120 ? DEADLINE / 2 : 120)) > $ht

harness_error() { echo "@@GCHEAP-HARNESS-ERROR $*@@"; }
loaded=
for m in $MODULES; do
	if insmod "$H$m"; then
		loaded="$(basename "$m" .ko) $loaded"
	else
		harness_error "insmod $m failed"
	fi
done

echo "@@GCHEAP-BEGIN@@"
# CMD and ENVS hold shell-quoted words; the command starts in the caller's
# working directory, with a clean environment.
eval "chroot $H /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
	HOME=/run/home TMPDIR=/run/tmp TERM=dumb $ENVS /bin/sh -c 'cd \"\$1\" && shift && exec \"\$@\"' \
	sh \"\$CWD\" $CMD"
rc=$?
echo "@@GCHEAP-END rc=$rc@@"

for m in $loaded; do
	rmmod "$m" || harness_error "rmmod $m failed"
done
if [ -w $kml ]; then
	# kmemleak reports only objects older than 5 s, and only once a
	# second scan has found them unreferenced again.
	sleep 6
	echo scan > $kml
	echo scan > $kml
	if [ -s $kml ]; then
		cat $kml
		harness_error "kmemleak found leaks"
	fi
fi
# Taint bits W (9, a warning), D (7, an oops), B (5, a bad page) and L
# (14, a soft lockup) mean the kernel can no longer be trusted.
t=$(cat /proc/sys/kernel/tainted)
if [ $((t & ((1 << 9) | (1 << 7) | (1 << 5) | (1 << 14)))) -ne 0 ]; then
	harness_error "kernel tainted: $t"
fi
