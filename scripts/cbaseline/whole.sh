#!/bin/sh
# Whole-process comparison of potgen's engine with the C baseline: greedy,
# 512 steps of stories260K from "Once upon a time" (potgen) and from BOS
# (forward.c), best user and wall time of N runs (default 5); and forward.c
# stopping at BOS as llama2.c's run.c does (346 steps on this model), and
# forward.c built -Ofast -march=native. Run from the repository root after
# `make build`; POT_MODELS names the models, POTGEN another potgen binary
# (an older build, to compare).
set -eu
models=${POT_MODELS:?set POT_MODELS to the shared models directory}
n=${1:-5}
potgen=${POTGEN:-bin/potgen}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O3 -o "$tmp/cbaseline" scripts/cbaseline/forward.c -lm
cc -Ofast -march=native -o "$tmp/cbaseline-native" scripts/cbaseline/forward.c -lm
"$potgen" keygen -o "$tmp/k"
echo "Once upon a time" > "$tmp/p.txt"
"$potgen" challenges --key "$tmp/k" -n 1 --prompts "$tmp/p.txt" -o "$tmp/ch.pot"
best() { sort -n | head -1; }
for what in potgen cbaseline cbaseline-bos cbaseline-native; do
	: > "$tmp/user"; : > "$tmp/wall"
	i=0
	while [ "$i" -lt "$n" ]; do
		if [ "$what" = potgen ]; then
			/usr/bin/time -f "%U %e" -o "$tmp/t" "$potgen" --model "llama2c:$models/stories260K.bin,tokenizer=$models/tok512.bin" \
				--challenges "$tmp/ch.pot" --max-tokens 512 --force -o "$tmp/out.pot"
		elif [ "$what" = cbaseline ]; then
			/usr/bin/time -f "%U %e" -o "$tmp/t" "$tmp/cbaseline" "$models/stories260K.bin" 512 > /dev/null
		elif [ "$what" = cbaseline-bos ]; then
			/usr/bin/time -f "%U %e" -o "$tmp/t" "$tmp/cbaseline" "$models/stories260K.bin" 512 bos > /dev/null
		else
			/usr/bin/time -f "%U %e" -o "$tmp/t" "$tmp/cbaseline-native" "$models/stories260K.bin" 512 > /dev/null
		fi
		cut -d' ' -f1 "$tmp/t" >> "$tmp/user"
		cut -d' ' -f2 "$tmp/t" >> "$tmp/wall"
		i=$((i + 1))
	done
	echo "$what: best of $n: user $(best < "$tmp/user") s, wall $(best < "$tmp/wall") s"
done
