#!/usr/bin/env bash
# Queries to decision for real and synthetic model pairs, betting against
# empirical-Bernstein, at alpha 0.01: the figures of the README's table.
# Needs the real models (POT_MODELS, default ../shared/models); writes the
# table to stdout and its streams under eval/out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$PWD/bin
models=${POT_MODELS:-$(cd .. && pwd)/shared/models}
out=eval/out/n${EVAL_N:-1000}
mkdir -p "$out"
n=${EVAL_N:-1000}
alpha=0.01
common=(--key "$out/audit.key" -n "$n" --max-tokens 32 --logprobs 5 -j 2)

[ -f "$out/audit.key" ] || "$bin/potgen" keygen -o "$out/audit.key"

stories="llama2c:$models/stories260K.bin,tokenizer=$models/tok512.bin"
gen() { # name spec
  [ -f "$out/$1.pot" ] || "$bin/potgen" --model "$2" "${common[@]}" -o "$out/$1.pot"
}
gen stories "$stories"
gen stories-again "$stories"
gen stories-gguf "gguf:$models/stories260K.gguf"
gen stories-f16gguf "gguf:$models/stories260K-f16.gguf"
gen tampered "llama2c:$models/stories260K-tampered.bin,tokenizer=$models/tok512.bin"
gen aidreams "llama2c:$models/aidreams260K.bin,tokenizer=$models/aidreams-tok512.bin"
gen f16 "$stories,perturb=f16"
gen int8 "$stories,perturb=int8"
gen noise "$stories,perturb=noise:0.01"
gen prune "$stories,perturb=prune:0.05"
gen synth1 synth:1
gen synth1-again synth:1
gen synth2 synth:2

field() { grep -o "\"$1\":[^,}]*" | head -1 | cut -d: -f2 | tr -d '"'; }

row() { # ref cand tolerance
  local line="| $1 | $2 | $3 |"
  for t in betting eb; do
    local j
    j=$("$bin/potcmp" --json --alpha $alpha --tolerance "$3" --test $t "$out/$1.pot" "$out/$2.pot" || true)
    line="$line $(echo "$j" | field verdict) $(echo "$j" | field n) |"
  done
  local score
  score=$("$bin/potcmp" --json --tolerance "$3" "$out/$1.pot" "$out/$2.pot" | field score || true)
  echo "$line $score |"
}

nstar() { awk -v a=$alpha -v e="$1" 'BEGIN { printf "%.1f", log(1/a) / -log(1-e) }'; }

echo "n* (alpha $alpha): tolerance 0.05: $(nstar 0.05), tolerance 0.01: $(nstar 0.01); $n challenges per stream"
echo
echo "| reference | candidate | tolerance | betting | n | eb | n | score |"
echo "|---|---|---|---|---|---|---|---|"
for tol in 0.05 0.01; do
  row stories stories-again $tol
  row synth1 synth1-again $tol
  row stories stories-gguf $tol
  row stories stories-f16gguf $tol
  row stories f16 $tol
  row stories int8 $tol
  row stories noise $tol
  row stories prune $tol
  row stories tampered $tol
  row stories aidreams $tol
  row synth1 synth2 $tol
done
