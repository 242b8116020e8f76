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

killer=
if [ -n "$KILL" ]; then
	kill_mid_run sh -c "kill -KILL \$(cat task-$KILL.pid)" &
	killer=$!
fi
status=0
parallel --will-cite --joblog jobs.log -j 2 "$FANOUT/task.sh" {} ::: $(shards) || status=$?
if [ -n "$killer" ]; then
	wait "$killer"
	# parallel's status is the number of tasks that failed.
	[ "$status" -eq 1 ] || die "parallel: $status failed tasks, want the killed one"
	[ -e "out-$KILL.pot.partial" ] && [ ! -e "out-$KILL.pot" ] || die "the killed task left no partial output"
	parallel --will-cite --joblog jobs.log --resume-failed -j 2 "$FANOUT/task.sh" {} ::: $(shards)
	say "reran shard $KILL"
else
	[ "$status" -eq 0 ] || die "parallel: $status failed tasks"
fi
finish
