#!/bin/sh
# CPU tokens/s of one engine benchmark: the tokens it generated (its
# tokens/s metric times its ns/op, times N ops) over the test process's
# user time, which a loaded machine disturbs less than the wall clock;
# best of R runs (default 3). Run from the repository root:
#   ./scripts/cbaseline/cputokens.sh 'Generate/^stories260K$/^greedy$/threads=1' 40
# TEST names a prebuilt test binary of internal/llama (an older build, to
# compare); POT_MODELS the models.
set -eu
bench=${1:?usage: cputokens.sh BENCHMARK N [RUNS]}
n=${2:?usage: cputokens.sh BENCHMARK N [RUNS]}
runs=${3:-3}
export POT_MODELS=${POT_MODELS:-$(pwd)/../shared/models}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
test=${TEST:-}
if [ -z "$test" ]; then
	go test -c -o "$tmp/llama.test" ./internal/llama
	test=$tmp/llama.test
fi
best=0
i=0
while [ "$i" -lt "$runs" ]; do
	(cd internal/llama && /usr/bin/time -f "USER %U" "$test" -test.run '^$' -test.bench "^Benchmark$bench\$" -test.benchtime "${n}x") > "$tmp/out" 2>&1
	r=$(awk -v n="$n" '/tokens\/s/ { for (i = 1; i <= NF; i++) { if ($i == "ns/op") ns = $(i-1); if ($i == "tokens/s") tps = $(i-1) } }
		/^USER/ { u = $2 } END { if (u > 0) printf "%.0f", tps * ns / 1e9 * n / u; else print 0 }' "$tmp/out")
	[ "$r" -gt "$best" ] && best=$r
	i=$((i + 1))
done
echo "$bench: best of $runs: $best tokens/s of CPU"
