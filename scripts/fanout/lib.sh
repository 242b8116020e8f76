# Shared by the fan-out scripts: the challenge set, its shards and the
# single-process run that the fanned-out one must equal, record for record.
# Sourced, not run. Settings come from the environment:
#   MODEL   potgen --model SPEC            (synth:1)
#   N       challenges                     (120)
#   SHARDS  shards, tasks of the fan-out   (4)
#   KILL    shard whose task is killed mid-run and rerun; "" for none (2)
set -euo pipefail

MODEL=${MODEL:-synth:1}
N=${N:-120}
SHARDS=${SHARDS:-4}
KILL=${KILL-2}
FANOUT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export MODEL FANOUT

say() { printf '%s: %s\n' "$(basename "$0")" "$*"; }
die() { say "$*" >&2; exit 1; }

# prepare makes, in the current folder, the secret key, the challenge set,
# its shards and the single-process run seq.pot.
prepare() {
	potgen keygen -o audit.key
	potgen challenges --key audit.key -n "$N" -o ch.pot
	potsplit -n "$SHARDS" -o 'ch-{}.pot' ch.pot
	potgen --model "$MODEL" --challenges ch.pot -o seq.pot
}

# shards prints the shard indices, one a line.
shards() { seq 0 $((SHARDS - 1)); }

# size prints a file's size in bytes, 0 when it does not exist.
size() { if [ -e "$1" ]; then wc -c < "$1"; else echo 0; fi; }

# kill_mid_run waits until shard $KILL's potgen has flushed some records
# into out-$KILL.pot.partial, then runs "$@" to kill it. It fails if the
# task ends before it can be killed: a test that meant to kill a task must
# not pass without doing so.
kill_mid_run() {
	local partial=out-$KILL.pot.partial tries=0
	# A header frame is a few hundred bytes; a records frame of these
	# outputs about a kilobyte a record.
	while [ "$(size "$partial")" -lt 3000 ]; do
		if [ -e "out-$KILL.pot" ]; then
			die "shard $KILL finished before it could be killed; raise N"
		fi
		tries=$((tries + 1))
		[ "$tries" -lt 6000 ] || die "shard $KILL never started"
		sleep 0.02
	done
	"$@"
	say "killed shard $KILL with $(size "$partial") bytes in $partial"
}

# writer_of prints the PID of the process that has the file $1 open: the
# potgen writing it, which started in this folder, so that it is killed by
# its own id and no other process is touched.
writer_of() {
	local want fd pid
	want=$(cd "$(dirname "$1")" && pwd -P)/$(basename "$1")
	fd=$(find /proc/[0-9]*/fd -maxdepth 1 -lname "$want" 2>/dev/null | head -n 1 || true)
	[ -n "$fd" ] || return 1
	pid=${fd#/proc/}
	echo "${pid%%/*}"
}

# finish joins the shards' outputs into out.pot, checks it, and compares
# it with the single-process run (the Go test compares every record).
finish() {
	cat $(shards | sed 's/.*/out-&.pot/') > out.pot
	potstat --verify out.pot
	potcmp seq.pot out.pot
}
