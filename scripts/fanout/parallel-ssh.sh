#!/usr/bin/env bash
# Fan-out through GNU parallel over ssh (--sshlogin), for real: an sshd on
# 127.0.0.1, started here with its own host key, stands in for a worker
# machine. Each task gets its shard copied over (--transferfile), runs
# potgen in a folder of its own on the worker (--workdir ...), and sends
# its output back (--return) before the worker's copies are removed
# (--cleanup); nothing is shared but what parallel copies. The worker finds
# potgen on the PATH it is given (--env PATH): on real workers, install it.
#
# Usage: scripts/fanout/parallel-ssh.sh DIR    (DIR: an empty working folder; run as root)
. "$(dirname "$0")/lib.sh"
[ $# -eq 1 ] || die "usage: $0 DIR"
cd "$1"

# The worker: sshd on a free port of 127.0.0.1, keys made here.
mkdir -p /run/sshd # sshd's privilege separation folder
ssh-keygen -q -t ed25519 -N '' -C pot-fanout-host -f host_key
ssh-keygen -q -t ed25519 -N '' -C pot-fanout-client -f client_key
cp client_key.pub authorized_keys
sshd=
stop() { if [ -n "$sshd" ]; then kill "$sshd" 2>/dev/null || true; wait "$sshd" 2>/dev/null || true; fi; }
trap stop EXIT
for attempt in 1 2 3 4 5; do
	port=$((20000 + RANDOM % 20000))
	cat > sshd_config <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $PWD/host_key
AuthorizedKeysFile $PWD/authorized_keys
PidFile $PWD/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
CONF
	cat > ssh_config <<CONF
Host potworker
	HostName 127.0.0.1
	Port $port
	User $(id -un)
	IdentityFile $PWD/client_key
	IdentitiesOnly yes
	StrictHostKeyChecking no
	UserKnownHostsFile /dev/null
	BatchMode yes
	LogLevel ERROR
CONF
	/usr/sbin/sshd -D -e -f "$PWD/sshd_config" 2> sshd.log &
	sshd=$!
	for _ in $(seq 50); do
		if ssh -F ssh_config potworker true 2>/dev/null; then break 2; fi
		kill -0 "$sshd" 2>/dev/null || break
		sleep 0.1
	done
	stop
	sshd=
done
[ -n "$sshd" ] || die "could not start sshd: $(tail -n 3 sshd.log)"
say "worker potworker: sshd on 127.0.0.1:$port"

prepare
parallel --will-cite --ssh "ssh -F $PWD/ssh_config" -S 2/potworker --env PATH \
	--workdir ... --transferfile 'ch-{}.pot' --return 'out-{}.pot' --cleanup \
	potgen --model "$MODEL" --challenges 'ch-{}.pot' -o 'out-{}.pot' ::: $(shards)
finish
