#!/bin/sh
# `spex du` against `du -s` on a Spark-like sandbox, warm caches.
#
# The tree is generated once and cached under build/bench-tree (reused
# across runs; `make clean` removes it): blockmgr-<uuid>/{00..3f}/
# shuffle_<shuffle>_<map>_0.data, 200,000 files of 4 KiB in 64
# subdirectories, as in library-notes.md §9. Each tool then runs once to
# warm the caches and RUNS more times, interleaved; the medians are compared:
#
#   spex du: X ms, du -s: Y ms, ratio Y/X = R (goal >= 2x)
#
# Needs build/spex (make build/spex) and a C compiler for the generator.
# Env: RUNS (default 5), FILES (default 200000), BENCH_TREE (default build/bench-tree).
set -eu
cd "$(dirname "$0")/.."

RUNS=${RUNS:-5}
FILES=${FILES:-200000}
TREE=${BENCH_TREE:-build/bench-tree}
SPEX=${SPEX:-build/spex}
CC=${CC:-cc}

[ -x "$SPEX" ] || { echo "bench_du: $SPEX missing (make build/spex)" >&2; exit 1; }

if [ ! -f "$TREE.done" ] || [ "$(cat "$TREE.done")" != "$FILES" ]; then
	echo "bench_du: generating $FILES files of 4 KiB under $TREE (once)..."
	mkdir -p build
	gen=build/bench-du-gen
	cat >"$gen.c" <<'EOF'
/* Write n files of 4 KiB into 64 hex subdirectories of one blockmgr dir. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	static char block[4096];
	char path[512];
	int dirs[64];
	long n = atol(argv[2]);
	const char *bm = "blockmgr-6c1f0e1a-8b2d-4c3e-9f40-5a6b7c8d9e0f";

	memset(block, 'x', sizeof(block));
	if (mkdir(argv[1], 0755) < 0) {
		perror(argv[1]);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/%s", argv[1], bm);
	if (mkdir(path, 0755) < 0) {
		perror(path);
		return 1;
	}
	for (int d = 0; d < 64; d++) {
		snprintf(path, sizeof(path), "%s/%s/%02x", argv[1], bm, d);
		if (mkdir(path, 0755) < 0 || (dirs[d] = open(path, O_RDONLY | O_DIRECTORY)) < 0) {
			perror(path);
			return 1;
		}
	}
	for (long i = 0; i < n; i++) {
		char name[64];
		/* 100 map outputs per shuffle; spread over the dirs like Spark's hash */
		snprintf(name, sizeof(name), "shuffle_%ld_%ld_0.data", i / 100, i);
		unsigned h = 0;
		for (const char *p = name; *p; p++)
			h = h * 31 + (unsigned char)*p;
		int fd = openat(dirs[h % 64], name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || write(fd, block, sizeof(block)) != (ssize_t)sizeof(block)) {
			perror(name);
			return 1;
		}
		close(fd);
	}
	return 0;
}
EOF
	$CC -O2 -o "$gen" "$gen.c"
	rm -rf "$TREE.tmp" "$TREE" "$TREE.done"
	start=$(date +%s)
	"$gen" "$TREE.tmp" "$FILES"
	sync
	mv "$TREE.tmp" "$TREE"
	echo "$FILES" >"$TREE.done"
	echo "bench_du: generated in $(($(date +%s) - start)) s"
fi

# Milliseconds of one run of the command.
ms() {
	t0=$(date +%s%N)
	"$@" >/dev/null
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}

median() {
	sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

# The two must agree before their speed is compared.
ours=$("$SPEX" du --json "$TREE" | sed -n 's/.*"allocated_bytes":\([0-9]*\).*/\1/p')
theirs=$(du -sB1 "$TREE" | cut -f1)
if [ "$ours" != "$theirs" ]; then
	echo "bench_du: totals differ: spex $ours, du -sB1 $theirs" >&2
	exit 1
fi

ms "$SPEX" du --bytes "$TREE" >/dev/null
ms du -s "$TREE" >/dev/null
spex_runs=""
du_runs=""
i=0
while [ "$i" -lt "$RUNS" ]; do
	spex_runs="$spex_runs $(ms "$SPEX" du --bytes "$TREE")"
	du_runs="$du_runs $(ms du -s "$TREE")"
	i=$((i + 1))
done
x=$(echo "$spex_runs" | tr ' ' '\n' | grep . | median)
y=$(echo "$du_runs" | tr ' ' '\n' | grep . | median)
[ "$x" -gt 0 ] || x=1
r=$(awk -v x="$x" -v y="$y" 'BEGIN { printf "%.2f", y / x }')
echo "bench_du: spex runs (ms):$spex_runs; du -s runs (ms):$du_runs"
echo "spex du: $x ms, du -s: $y ms, ratio Y/X = $r (goal >= 2x)"
