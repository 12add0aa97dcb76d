#!/bin/sh
# Run each libFuzzer binary for SECONDS against its seed corpus (read-only:
# new inputs go to a scratch dir under build/), and print one line per
# target plus the closing "N passed, N failed" line. A crash fails the run.
secs=$1; shift
passed=0; failed=0
for bin in "$@"; do
	name=$(basename "$bin")
	corpus=tests/fuzz/corpus/${name#fuzz_}
	scratch=build/fuzz/work/$name
	mkdir -p "$scratch" "$corpus"
	log=build/fuzz/$name.log
	if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix=build/fuzz/ "$scratch" "$corpus" >"$log" 2>&1; then
		execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
		echo "fuzz $name: ok, ${execs:-?} execs in ${secs}s"
		passed=$((passed + 1))
	else
		echo "fuzz $name: FAILED (see $log)"; tail -n 30 "$log"
		failed=$((failed + 1))
	fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
