# Shared settings for the VM harness scripts. Sourced, not run.
# Kernels, caches and build directories are found here and nowhere else.

GCH_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# CI may run with a bare environment: find the home directory without $HOME.
GCH_HOME=${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}
export HOME=$GCH_HOME	# checkpatch.pl and dkms read it too
GCH_CACHE=${GCHEAP_CACHE:-${XDG_CACHE_HOME:-$GCH_HOME/.cache}/gcheap}
GCH_BUILD=$GCH_TOP/build

die() { echo "gcheap-vm: $*" >&2; exit 2; }

# Newest installed Debian kernel release matching a pattern (6.1 / 6.12).
deb_release() {
	local pat=$1 r
	r=$(ls -1 /boot | sed -n "s/^vmlinuz-\($pat\)$/\1/p" | sort -V | tail -n 1)
	[ -n "$r" ] || die "no Debian kernel matching $pat in /boot (run: make deps)"
	echo "$r"
}

# The linux-source-6.1 tree, unpacked once into the cache (checkpatch and the
# debug kernel both use it).
linux_source_dir() {
	local tarball=/usr/src/linux-source-6.1.tar.xz ver dir
	[ -f "$tarball" ] || die "$tarball missing (run: make deps)"
	ver=$(dpkg-query -W -f '${Version}' linux-source-6.1)
	dir=$GCH_CACHE/linux-source-$ver
	if [ ! -f "$dir/.unpacked" ]; then
		rm -rf "$dir" && mkdir -p "$dir"
		tar -C "$dir" --strip-components=1 -xJf "$tarball" || die "unpacking $tarball failed"
		touch "$dir/.unpacked"
	fi
	echo "$dir"
}

# Cache key of the debug kernel: its config fragment, the source version and
# the recipe that builds it.
debug_kernel_dir() {
	local key
	key=$( { cat "$GCH_TOP/tests/vm/debug.config" "$GCH_TOP/tests/vm/build-debug-kernel"
		dpkg-query -W -f '${Version}' linux-source-6.1; } | sha256sum | cut -c1-16)
	echo "$GCH_CACHE/debug-$key"
}

# flavour -> kernel image
kernel_image() {
	case $1 in
	deb61) echo "/boot/vmlinuz-$(deb_release '6\.1\.[0-9.-]*-amd64')" ;;
	deb612) echo "/boot/vmlinuz-$(deb_release '6\.12\.[0-9.]*+deb12-amd64')" ;;
	debug) echo "$(debug_kernel_dir)/bzImage" ;;
	*) die "unknown flavour '$1' (deb61, deb612, debug)" ;;
	esac
}

# flavour -> KDIR to build the module against
kernel_kdir() {
	case $1 in
	deb61) echo "/usr/src/linux-headers-$(deb_release '6\.1\.[0-9.-]*-amd64')" ;;
	deb612) echo "/usr/src/linux-headers-$(deb_release '6\.12\.[0-9.]*+deb12-amd64')" ;;
	debug) echo "$(debug_kernel_dir)/build" ;;
	*) die "unknown flavour '$1'" ;;
	esac
}

# flavour -> kernel release string (for its module tree)
kernel_release() {
	case $1 in
	deb61) deb_release '6\.1\.[0-9.-]*-amd64' ;;
	deb612) deb_release '6\.12\.[0-9.]*+deb12-amd64' ;;
	debug) cat "$(debug_kernel_dir)/build/include/config/kernel.release" ;;
	*) die "unknown flavour '$1'" ;;
	esac
}
