#!/bin/bash
# SFT on several nodes under SLURM, one deepspeed launcher per node (no ssh between nodes needed).
#   sbatch train/slurm_example.sh                       # train/sft.yaml
#   CONFIG=train/my.yaml sbatch train/slurm_example.sh
# Requeue-safe: the recipe resumes from the last checkpoint in output_dir (resume: auto).
#SBATCH --job-name=theoremllama-sft
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=1
#SBATCH --gpus-per-node=8
#SBATCH --cpus-per-task=32
#SBATCH --time=24:00:00
#SBATCH --requeue
#SBATCH --output=runs/slurm-%j.out

set -euo pipefail
CONFIG=${CONFIG:-train/sft.yaml}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
MASTER_ADDR=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)
MASTER_PORT=${MASTER_PORT:-29500}

cd "${SLURM_SUBMIT_DIR:-.}"
source .venv/bin/activate

# The launcher learns the nodes from a hostfile; with --no_ssh each node starts only its own
# workers and takes its place from --node_rank.
HOSTFILE=runs/hostfile-${SLURM_JOB_ID}
mkdir -p runs
scontrol show hostnames "$SLURM_JOB_NODELIST" | sed "s/\$/ slots=${GPUS_PER_NODE}/" > "$HOSTFILE"

srun --kill-on-bad-exit=1 bash -c "deepspeed --no_ssh --hostfile $HOSTFILE --node_rank \$SLURM_NODEID \
    --master_addr $MASTER_ADDR --master_port $MASTER_PORT \
    --module theoremllama.train.launch --config $CONFIG $*"
