#!/usr/bin/env bash
# Issue 15 §4: the seed's "proper statistical method" against pot's
# sequential tests, on the same pairs, through the command line. The seed
# samples every prompt under 10 seeds on both sides (N prompts x 10 seeds of
# the candidate, default 1,000 x 10 = 10,000 queries) and then computes a
# divergence (potstat --between, whose permutation p-value is the only
# decision it offers: DIFFERENT when p < alpha, otherwise nothing is
# decided). pot's rank test asks the candidate once per challenge and stops
# at a verdict; its mmd asks 10 times per challenge and stops at a verdict (at its
# default tolerance 0.05 and at 0.01). One SAME pair (stories260K sampled again under another seed) and one
# DIFFERENT pair (the tampered checkpoint), temperature 1, 16 tokens,
# alpha 0.01. For each: candidate queries and wall and user CPU time to the
# decision. The reference side (N x 10 samples of the trusted model, scored
# once) is the same for both methods and timed on its own.
# Needs `make build` and the models in $POT_MODELS (../shared/models).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$PWD/bin
export PATH=$bin:$PATH
m=${POT_MODELS:-$PWD/../shared/models}
n=${N:-1000}
j=${JOBS:-2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
s="llama2c:$m/stories260K.bin,tokenizer=$m/tok512.bin"
t="llama2c:$m/stories260K-tampered.bin,tokenizer=$m/tok512.bin"
gen="--key k.key -n $n --temperature 1 --max-tokens 16 -j $j"
# timed CMD... runs CMD under /usr/bin/time and prints "wall W s, user U s".
timed() {
  /usr/bin/time -f '%e %U' -o time.txt "$@"
  read -r wall user <time.txt
  printf 'wall %s s, user CPU %s s' "$wall" "$user"
}

potgen keygen -o k.key
echo "reference, $n x 10 samples of the trusted model: $(timed potgen --model "$s" $gen --samples 10 --seed 1 -o raw.pot)"
echo "reference scored by the trusted model (rank test only): $(timed potgen score --model "$s" -o ref.pot raw.pot)"

for c in "itself (SAME)|$s" "tampered (DIFFERENT)|$t"; do
  IFS='|' read -r name spec <<<"$c"
  echo "== $name"
  rm -f cand.pot
  tm=$(timed potgen --model "$spec" $gen --samples 10 --seed 2 -o cand.pot)
  tb=$(timed sh -c 'potstat --between raw.pot cand.pot >between.txt')
  echo "seed's method: $((n * 10)) candidate queries; sampling $tm; potstat --between $tb"
  sed -n '/across seeds/,$p' between.txt
  out=$(timed sh -c "potgen --model '$spec' $gen --seed 2 | potgen score --model '$s' - | potcmp --score rank --json ref.pot - >rank.json || true")
  echo "rank test (1 query a challenge): $out"
  cat rank.json
  for tol in 0.05 0.01; do
    out=$(timed sh -c "potgen --model '$spec' $gen --samples 10 --seed 2 | potcmp --score mmd --tolerance $tol --json raw.pot - >mmd.json || true")
    echo "mmd at tolerance $tol (10 queries a challenge): $out"
    cat mmd.json
  done
done
