#!/usr/bin/env bash
# Fan-out through a Slurm job array, for real: munged, slurmctld and slurmd
# are started here, as root, on this one machine, with a minimal slurm.conf
# in DIR (its own ports, state and logs; nothing under /etc is changed).
# The array has a task per shard; one task is killed mid-run
# (scancel --signal=KILL, as a node failure would), the array finishes
# without it, and a second sbatch --array of that index alone runs it
# again: potgen --resume keeps what it had written.
#
# Usage: scripts/fanout/slurm.sh DIR    (DIR: an empty working folder; run as root)
. "$(dirname "$0")/lib.sh"
[ $# -eq 1 ] || die "usage: $0 DIR"
cd "$1"
chmod 0711 . # munged wants its socket's folder searchable by all
mkdir -p slurm/state slurm/spool

daemons=()
stop() {
	local pid
	for pid in "${daemons[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${daemons[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop EXIT

# munge: a key of our own, a socket in DIR.
dd if=/dev/urandom of=slurm/munge.key bs=1024 count=1 2>/dev/null
chmod 0600 slurm/munge.key
munged -F -f --socket="$PWD/slurm/munge.sock" --key-file="$PWD/slurm/munge.key" \
	--log-file="$PWD/slurm/munged.log" --pid-file="$PWD/slurm/munged.pid" --seed-file="$PWD/slurm/munged.seed" 2> slurm/munged.err &
daemons+=($!)

node=$(hostname -s)
port=$((20000 + RANDOM % 20000))
export SLURM_CONF=$PWD/slurm/slurm.conf
cat > "$SLURM_CONF" <<CONF
ClusterName=pot
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$PWD/slurm/munge.sock
CredType=cred/munge
StateSaveLocation=$PWD/slurm/state
SlurmdSpoolDir=$PWD/slurm/spool
SlurmctldPidFile=$PWD/slurm/slurmctld.pid
SlurmdPidFile=$PWD/slurm/slurmd.pid
SlurmctldLogFile=$PWD/slurm/slurmctld.log
SlurmdLogFile=$PWD/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
NodeName=$node NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=pot Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
for _ in $(seq 50); do [ -S slurm/munge.sock ] && break; sleep 0.1; done
slurmctld -D -i 2> slurm/slurmctld.err &
daemons+=($!)
slurmd -D 2> slurm/slurmd.err &
daemons+=($!)
for _ in $(seq 100); do
	[ "$(sinfo -h -o %t 2>/dev/null)" = idle ] && break
	sleep 0.1
done
[ "$(sinfo -h -o %t 2>/dev/null)" = idle ] || die "the Slurm node did not come up: $(tail -n 3 slurm/slurmctld.log slurm/slurmd.log)"
say "Slurm: node $node idle, slurmctld on port $port"

prepare
# The job script, as the README gives it. The rerun of a killed task
# finds out-N.pot.partial and continues it with --resume (see parallel.sh
# for why a first attempt goes without).
cat > potgen.sbatch <<'JOB'
#!/bin/sh
#SBATCH --job-name=potgen
#SBATCH --output=slurm-%A_%a.out
i=$SLURM_ARRAY_TASK_ID
resume=
if [ -e "out-$i.pot.partial" ]; then resume=--resume; fi
exec potgen --model "$MODEL" --challenges "ch-$i.pot" -o "out-$i.pot" $resume
JOB

# wait_array waits until no task of job $1 is queued or running.
wait_array() {
	local tries=0
	while [ -n "$(squeue -h -j "$1" 2>/dev/null)" ]; do
		tries=$((tries + 1))
		[ "$tries" -lt 3000 ] || die "job $1 did not finish"
		sleep 0.1
	done
}
job=$(sbatch --parsable --array="0-$((SHARDS - 1))" potgen.sbatch)
say "submitted array job $job"
if [ -n "$KILL" ]; then
	kill_mid_run scancel --signal=KILL "${job}_$KILL"
fi
wait_array "$job"
if [ -n "$KILL" ]; then
	[ -e "out-$KILL.pot.partial" ] && [ ! -e "out-$KILL.pot" ] || die "the killed task left no partial output"
	sbatch --wait --array="$KILL" potgen.sbatch > /dev/null
	say "reran shard $KILL"
fi
for s in $(shards); do [ -e "out-$s.pot" ] || die "shard $s: no output; see slurm-*_$s.out"; done
finish
