#!/bin/sh
# Run every unit-test binary given as an argument, show its output, and print
# one closing line with the totals. Exits non-zero if any binary failed.
total_p=0; total_f=0; rc=0
for t in "$@"; do
	echo "== $t"
	out=$("$t" 2>&1); st=$?
	printf '%s\n' "$out"
	line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1)
	if [ -z "$line" ]; then
		echo "$t: no summary line (exit $st)"; total_f=$((total_f + 1)); rc=1; continue
	fi
	p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}
	total_p=$((total_p + p)); total_f=$((total_f + f))
	[ "$st" -ne 0 ] && rc=1
done
echo "unit: $total_p passed, $total_f failed"
exit $rc
