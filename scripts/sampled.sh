#!/usr/bin/env bash
# Issue 15's sampled-output tests through the command line, in real pipes, on
# stories260K sampled at temperature 1 (16 tokens): the rank test with one
# candidate query per challenge (potgen score in the pipe, potcmp stopping it),
# the unbiased mmd at 10 samples a side, and potstat --between across seeds.
# Needs `make build` and the models in $POT_MODELS (../shared/models). Prints
# each verdict as JSON with its wall time. N challenges (default 300).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$PWD/bin
export PATH=$bin:$PATH
m=${POT_MODELS:-$PWD/../shared/models}
n=${N:-300}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
s="llama2c:$m/stories260K.bin,tokenizer=$m/tok512.bin"
t="llama2c:$m/stories260K-tampered.bin,tokenizer=$m/tok512.bin"
a="llama2c:$m/aidreams260K.bin,tokenizer=$m/aidreams-tok512.bin"
gen="--key k.key -n $n --temperature 1 --max-tokens 16"
clock() { date +%s.%N; }
since() { echo "$(clock) - $1" | bc | xargs printf '%.1f s'; }

potgen keygen -o k.key
t0=$(clock)
potgen --model "$s" $gen --samples 10 --seed 1 -o raw.pot
echo "reference, $n x 10 samples: $(since "$t0")"
t0=$(clock)
potgen score --model "$s" -o ref.pot raw.pot
echo "scored by tokens: $(since "$t0")"
t0=$(clock)
potgen score --by text --model "$s" -o ref-text.pot raw.pot
echo "scored by text: $(since "$t0")"

for c in "itself|$s|ref.pot" "tampered|$t|ref.pot" "aidreams|$a|ref-text.pot"; do
  IFS='|' read -r name spec ref <<<"$c"
  t0=$(clock)
  out=$(potgen --model "$spec" $gen --seed 2 | potgen score --model "$s" - | potcmp --score rank --json "$ref" - || true)
  echo "rank $name: $out ($(since "$t0"), one query a challenge)"
done
for c in "itself|$s" "tampered|$t" "aidreams|$a"; do
  IFS='|' read -r name spec <<<"$c"
  potgen --model "$spec" $gen --samples 10 --seed 2 -o "$name.pot"
  for tol in 0.05 0.01; do
    echo "mmd $name tolerance $tol: $(potcmp --score mmd --tolerance $tol --json raw.pot "$name.pot" || true) (10 queries a challenge)"
  done
  potstat --between raw.pot "$name.pot" | sed -n '/across seeds/,$p'
done

# Longer outputs (issue 15 §Power): at 64 tokens the rank test tells a 4-bit
# quantization from its F32 file (the ffn256 variant, whose rows are whole
# blocks), the quantizer's output and llama.cpp's Q4_0 file alike, where at
# 16 tokens sampled outputs carry too little (scripts/sampledkl measures
# the limit). LONG=0 skips it.
if [ "${LONG:-1}" = 1 ]; then
  b="gguf:$m/quant/stories260K-ffn256.gguf"
  long="--key k.key -n $n --temperature 1 --max-tokens 64"
  t0=$(clock)
  potgen --model "$b" $long --samples 10 --seed 1 | potgen score --model "$b" -o ref64.pot -
  echo "reference at 64 tokens, $n x 10 samples, scored: $(since "$t0")"
  for c in "itself|$b" "perturb=q4_0|$b,perturb=q4_0" "Q4_0 file|gguf:$m/quant/stories260K-ffn256-Q4_0.gguf"; do
    IFS='|' read -r name spec <<<"$c"
    t0=$(clock)
    out=$(potgen --model "$spec" $long --seed 2 | potgen score --model "$b" - | potcmp --score rank --json ref64.pot - || true)
    echo "rank $name, 64 tokens: $out ($(since "$t0"), one query a challenge)"
  done
fi
