#!/usr/bin/env bash
# potcmp --score lr through the command line, in real pipes, on stories260K
# sampled at temperature 1: for KEYS fresh keys (default 10) and each output
# length, a reference of N challenges (default 1000) and each candidate
# answering once a challenge, scored in the pipe with the two named
# substitutes (int8 weights, Gaussian noise of sigma 0.01 at its default
# seed), potcmp stopping the pipe at its verdict. Prints one line a run
# (candidate, tokens, verdict, n) and then, per candidate and length, the
# verdicts' counts and the mean n of the decided runs. Needs `make build`
# and the models in $POT_MODELS (../shared/models).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PWD/bin:$PATH
m=${POT_MODELS:-$PWD/../shared/models}
n=${N:-1000}
keys=${KEYS:-10}
lengths=${LENGTHS:-16 64 128}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
s="llama2c:$m/stories260K.bin,tokenizer=$m/tok512.bin"
cands=("int8|$s,perturb=int8" "noise:0.01|$s,perturb=noise:0.01" "itself|$s"
  "tampered|llama2c:$m/stories260K-tampered.bin,tokenizer=$m/tok512.bin" "noise:0.01:7|$s,perturb=noise:0.01:7")
for k in $(seq "$keys"); do
  rm -f k.key && potgen keygen -o k.key
  for L in $lengths; do
    gen="--key k.key -n $n --temperature 1 --max-tokens $L --logprobs 0"
    potgen --model "$s" $gen --seed 1 | potgen score --model "$s" -o ref.pot --force -
    for c in "${cands[@]}"; do
      IFS='|' read -r name spec <<<"$c"
      out=$(potgen --model "$spec" $gen --seed 2 |
        potgen score --model "$s" --alt "$s,perturb=int8" --alt "$s,perturb=noise:0.01" - |
        potcmp --score lr --json ref.pot - 2>/dev/null || true)
      v=$(sed -n 's/.*"verdict":"\([A-Z]*\)".*/\1/p' <<<"$out")
      nn=$(sed -n 's/.*"n":\([0-9]*\).*/\1/p' <<<"$out")
      echo "run $k $name $L $v $nn"
    done
  done
done | tee runs.txt
awk '$1 == "run" { key = $3 " " $4; c[key, $5]++; if ($5 != "UNDECIDED") { sum[key] += $6; d[key]++ } keys[key] = 1 }
  END { for (k in keys) printf "%s: SAME %d DIFFERENT %d UNDECIDED %d, mean n decided %.1f\n", k, c[k, "SAME"], c[k, "DIFFERENT"], c[k, "UNDECIDED"], d[k] ? sum[k] / d[k] : 0 }' runs.txt | sort
