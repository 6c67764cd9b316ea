#!/usr/bin/env bash
# Starts a private single-node Slurm cluster (slurmctld, slurmd, munged on localhost, as root),
# runs an 8-point sweep as a 4-task job array, merges the shards and compares the table with the
# same sweep run locally. Usage: slurm_test.sh TRNSIM SPEC.yaml
set -euo pipefail
trnsim=$(readlink -f "$1")
spec=$(readlink -f "$2")
for tool in slurmctld slurmd munged sbatch squeue sinfo; do
  command -v $tool >/dev/null || { echo "slurm_test: $tool not installed (setup.sh installs slurm-wlm and munge)"; exit 1; }
done
[[ $(id -u) == 0 ]] || { echo "slurm_test: must run as root (the daemons run as root)"; exit 1; }

d=$(mktemp -d /tmp/trnsim-slurm.XXXXXX)
chmod 755 "$d"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$d"
}
trap cleanup EXIT

node=$(hostname -s)
# Free ports for this cluster so that parallel runs or a system Slurm don't collide.
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ctld_port=$(port); slurmd_port=$(port)
mkdir -p "$d/state" "$d/spool" "$d/munge" "$d/out"
dd if=/dev/urandom of="$d/munge/munge.key" bs=1024 count=1 status=none
chmod 700 "$d/munge"; chmod 400 "$d/munge/munge.key"
cat > "$d/slurm.conf" <<CONF
ClusterName=trnsimtest
SlurmctldHost=$node
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$d/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool
SlurmctldPidFile=$d/slurmctld.pid
SlurmdPidFile=$d/slurmd.pid
SlurmctldLogFile=$d/slurmctld.log
SlurmdLogFile=$d/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/builtin
SchedulerParameters=sched_interval=1
MessageTimeout=30
NodeName=$node CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$d/slurm.conf

munged -F --force --key-file="$d/munge/munge.key" --socket="$d/munge/munge.sock" \
  --pid-file="$d/munge/munged.pid" --log-file="$d/munge/munged.log" --seed-file="$d/munge/seed" \
  > "$d/munge/munged.stdout" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [[ -S $d/munge/munge.sock ]] && break; sleep 0.1; done
slurmctld -D -i -f "$SLURM_CONF" > "$d/slurmctld.stdout" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" -N "$node" > "$d/slurmd.stdout" 2>&1 &
pids+=($!)
ready=0
for _ in $(seq 120); do
  if sinfo -h -o %t 2>/dev/null | grep -qE '^idle'; then ready=1; break; fi
  sleep 0.5
done
if [[ $ready != 1 ]]; then
  echo "slurm_test: the cluster did not come up"; sinfo 2>&1 || true
  tail -5 "$d/slurmctld.log" "$d/slurmd.log" 2>/dev/null || true
  exit 1
fi

job=$(sbatch --parsable --array=1-4 --chdir="$d/out" --output="$d/out/task_%a.out" \
  "$(dirname "$0")/../../tools/slurm/sweep_array.sbatch" "$spec" "$d/out/shards" "$trnsim")
echo "slurm_test: submitted job array $job"
for _ in $(seq 600); do
  [[ -z $(squeue -h -j "$job" 2>/dev/null) ]] && break
  sleep 0.5
done
if [[ -n $(squeue -h -j "$job" 2>/dev/null) ]]; then echo "slurm_test: job array did not finish"; exit 1; fi

"$trnsim" sweep merge "$d"/out/shards/shard_*.csv --spec "$spec" -o "$d/merged.csv"
"$trnsim" sweep "$spec" -o "$d/local.csv" -j 2 > /dev/null
if ! cmp -s "$d/merged.csv" "$d/local.csv"; then
  echo "slurm_test: merged table differs from the local run"; diff "$d/merged.csv" "$d/local.csv" | head
  exit 1
fi
echo "slurm_test: 8 points over a 4-task job array match the local sweep ($(($(wc -l < "$d/merged.csv") - 1)) rows)"
