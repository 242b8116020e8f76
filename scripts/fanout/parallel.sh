#!/usr/bin/env bash
# Fan-out through GNU parallel, local jobs, as the README shows it: the
# challenge set is split into $SHARDS shards, potgen runs on each, two jobs
# at a time, and cat joins the outputs into out.pot. One task is killed
# mid-run (kill -9, as a crash or an OOM kill would), parallel's joblog
# records the failure, and `--resume-failed` runs that task again; potgen
# --resume keeps what it had written. seq.pot is the single-process run.
#
# Usage: scripts/fanout/parallel.sh DIR    (DIR: an empty working folder)
. "$(dirname "$0")/lib.sh"
[ $# -eq 1 ] || die "usage: $0 DIR"
cd "$1"
prepare

# The task command, as the README gives it. A first attempt writes
# out-N.pot.partial as it goes; the rerun of a killed task continues it with
# --resume. (potgen 0.1.0 given --resume where there is nothing to resume
# builds its output in a hidden temporary file instead of FILE.partial, so
# that a kill of that attempt would lose it: first attempts go without.)
task=(potgen --model "$MODEL" --challenges 'ch-{}.pot' -o 'out-{}.pot')

killer=
if [ -n "$KILL" ]; then
	kill_writer() { kill -KILL "$(writer_of "out-$KILL.pot.partial")"; }
	kill_mid_run kill_writer &
	killer=$!
fi
status=0
parallel --will-cite --joblog jobs.log -j 2 "${task[@]}" ::: $(shards) || status=$?
if [ -n "$killer" ]; then
	wait "$killer"
	# parallel's status is the number of tasks that failed.
	[ "$status" -eq 1 ] || die "parallel: $status failed tasks, want the killed one"
	[ -e "out-$KILL.pot.partial" ] && [ ! -e "out-$KILL.pot" ] || die "the killed task left no partial output"
	parallel --will-cite --joblog jobs.log --resume-failed -j 2 "${task[@]}" --resume ::: $(shards)
	say "reran shard $KILL"
else
	[ "$status" -eq 0 ] || die "parallel: $status failed tasks"
fi
finish
