#!/bin/sh
# One task of a fan-out: potgen on shard $1 of the challenges, into
# out-$1.pot. A first attempt builds out-$1.pot.partial; an attempt after
# one that was killed finds it and continues it with --resume, keeping what
# was written. (--resume is not given to a first attempt: potgen 0.1.0 then
# builds the output in a hidden temporary file, not in FILE.partial, and a
# kill loses it.) The PID goes to task-$1.pid (exec keeps it), so that a
# test can kill this task.
set -eu
resume=
if [ -e "out-$1.pot.partial" ]; then resume=--resume; fi
echo $$ > "task-$1.pid"
exec potgen --model "$MODEL" --challenges "ch-$1.pot" -o "out-$1.pot" $resume
