#!/usr/bin/env bash
# Peak memory of potstat and potsplit on one long stream: it must stay flat
# however long the stream. Run by `make bench`; MEMORY_N sets the records
# (default 10 million, 64 tokens each).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${MEMORY_N:-10000000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
go run ./scripts/mkstream -n "$n" -tokens 64 -o "$dir/big.pot"
printf 'stream: %d records, %d bytes\n' "$n" "$(stat -c %s "$dir/big.pot")"
peak() { # label, then the command; prints the peak resident set
	local label=$1
	shift
	/usr/bin/time -f "%M %e" -o "$dir/time" "$@" >/dev/null
	read -r kb secs <"$dir/time"
	printf '%-26s peak %6.1f MB  %6.1f s\n' "$label" "$(echo "$kb / 1000" | bc -l)" "$secs"
}
peak 'potstat --verify' bin/potstat --verify "$dir/big.pot"
peak 'potstat --records' bin/potstat --records "$dir/big.pot"
peak 'potstat (summary)' bin/potstat "$dir/big.pot"
peak 'potsplit -n 8' bin/potsplit -n 8 -o "$dir/s8-{}.pot" "$dir/big.pot"
peak 'potsplit -n 64' bin/potsplit -n 64 -o "$dir/s64-{}.pot" "$dir/big.pot"
