#!/usr/bin/env bash
# The main job of pot on built-in synthetic models, with nothing to download:
# a reference set from a trusted model, then three candidates compared with it
# by potcmp, which stops the candidate's potgen as soon as it can decide.
set -euo pipefail
cd "$(dirname "$0")/.."
# POT_BIN names another folder of built tools (the README examples test uses its own).
bin=${POT_BIN:-$PWD/bin}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=300

# Bold commands on a terminal only: piped or captured output stays plain text.
if [ -t 1 ] && [ "${TERM:-dumb}" != dumb ] && [ -z "${NO_COLOR:-}" ]; then
  bold=$'\033[1m' plain=$'\033[0m'
else
  bold= plain=
fi
step() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; }

step potgen keygen -o audit.key
"$bin/potgen" keygen -o "$work/audit.key"

step potgen --model synth:1 --key audit.key -n $n -o ref.pot
"$bin/potgen" --model synth:1 --key "$work/audit.key" -n $n -o "$work/ref.pot"

step potstat ref.pot
"$bin/potstat" "$work/ref.pot"

for cand in synth:1 synth:1,perturb=noise:0.05 synth:2; do
  step "potgen --model $cand --key audit.key -n $n | potcmp ref.pot -"
  status=0
  "$bin/potgen" --model "$cand" --key "$work/audit.key" -n $n | "$bin/potcmp" "$work/ref.pot" - || status=$?
  case $status in
    0) echo "(exit 0: SAME)" ;;
    1) echo "(exit 1: DIFFERENT)" ;;
    3) echo "(exit 3: UNDECIDED)" ;;
    *) echo "demo: potcmp failed with status $status" >&2; exit 1 ;;
  esac
done
