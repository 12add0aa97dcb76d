#!/bin/sh
# The incremental disk usage tracker (sandbox/track.c) on a 1M-file
# Spark-like sandbox with ongoing churn:
#
#   tracker: 1000000 files, index X s, RSS Y MiB, churn Z ops/s,
#            cpu C % of a core (goal < 1 %), staleness S s (goal <= 2 s)
#
# The tree is generated once and cached under build/bench-track-tree
# (blockmgr-<uuid>/{00..3f}/shuffle_<s>_<m>_0.data; reused across runs, the
# churn removes what it created; `make clean` removes it): 1M files of
# 4 KiB, about 4.3 GiB and 1M inodes. With less than 10 GB free (or less
# than 1.2M free inodes) the files are empty instead (the tracker's work is
# the same: one index entry, one stat per change) and the line says so.
# Generating takes a minute or two; deleting that many files is slow too
# (~15 s per 200k on the test disk), so keep the cache.
#
# Then tests/bench_track.c indexes it (time, RSS growth) and churns for
# CHURN_SECONDS at CHURN_RATE ops/s (create+write+rename, append, delete in
# 4 block manager subdirectories) while driving the tracker as the executor
# does (inotify readiness with 100 ms batching, a refresh every second),
# measuring the driver's CPU and, at 3 pauses, how long until its totals
# equal a fresh scan_sandbox().
#
# Needs a C compiler and make (the project's objects are built with the
# Makefile's own rules). Env: FILES (1000000), FILE_SIZE (4096),
# CHURN_SECONDS (30), CHURN_RATE (1000), BENCH_TRACK_TREE.
set -eu
cd "$(dirname "$0")/.."

FILES=${FILES:-1000000}
SIZE=${FILE_SIZE:-4096}
SECS=${CHURN_SECONDS:-30}
RATE=${CHURN_RATE:-1000}
TREE=${BENCH_TRACK_TREE:-build/bench-track-tree}
CC=${CC:-cc}
BIN=build/bench-track

OBJS="build/obj/sandbox/track.o build/obj/sandbox/scan.o build/obj/sandbox/classify.o
      build/obj/executor/core/util.o build/obj/executor/core/error.o"
# shellcheck disable=SC2086
make -s $OBJS
# shellcheck disable=SC2086
$CC -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Isandbox -Iexecutor/core \
	-o "$BIN" tests/bench_track.c $OBJS -pthread

mkdir -p build
note=""
if [ ! -f "$TREE.done" ] || [ "$(cat "$TREE.done")" != "$FILES $SIZE" ]; then
	free_kb=$(df -Pk build | awk 'NR == 2 { print $4 }')
	free_inodes=$(df -Pi build | awk 'NR == 2 { print $4 }')
	if [ "$SIZE" -gt 0 ] && { [ "$free_kb" -lt 10000000 ] ||
		{ [ "$free_inodes" != "-" ] && [ "$free_inodes" -lt 1200000 ]; }; }; then
		echo "bench_track: less than 10 GB (or 1.2M inodes) free: empty files instead"
		SIZE=0
	fi
fi
if [ ! -f "$TREE.done" ] || [ "$(cat "$TREE.done")" != "$FILES $SIZE" ]; then
	echo "bench_track: generating $FILES files of $SIZE bytes under $TREE (once)..."
	rm -rf "$TREE.tmp" "$TREE" "$TREE.done"
	start=$(date +%s)
	"$BIN" gen "$TREE.tmp" "$FILES" "$SIZE"
	sync
	mv "$TREE.tmp" "$TREE"
	echo "$FILES $SIZE" >"$TREE.done"
	echo "bench_track: generated in $(($(date +%s) - start)) s ($(du -sh "$TREE" | cut -f1))"
fi
[ "$(cut -d' ' -f2 "$TREE.done")" = 0 ] && note=" (empty files: less than 10 GB free)"

# Warm the inode and dentry caches, as a long-running sandbox has them.
du -s "$TREE" >/dev/null

out=$("$BIN" run "$TREE" "$SECS" "$RATE") || {
	echo "$out"
	echo "bench_track: failed" >&2
	exit 1
}
echo "$out" | grep -v '^tracker:'
echo "$out" | grep '^tracker:' | sed "s/\$/$note/"
