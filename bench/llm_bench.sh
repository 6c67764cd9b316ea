#!/usr/bin/env bash
# LLM decoding benchmark (issue #15; not a CTest): Llama-2-7B-shaped decoder (32 layers, hidden
# 4096, 32 heads of 128, SwiGLU 11008, vocabulary 32000; tests/models/llm_models.py, weights as
# external data in a sparse side file, never read) generated timing-only with tensor parallelism
# on a multi-chip system, `trnsim generate --timing-only --system S --tp N`, next to Neuron's
# published batch-1 figures (../shared/reference/hw-measured.md section 3: Transformers-NeuronX,
# SDK 2.18). Prints TTFT and TPOT (simulated, published, ratio) and the wall time of each run.
# The published TPOT is the P50 over 8,064 generated tokens with a cache growing to 8,192; the
# simulated one is the mean of the sampled decode steps (--sample) of NEW tokens, so both
# grow with the cache: say which cache lengths were simulated when quoting the ratio.
# Usage: bench/llm_bench.sh BUILD_DIR [NEW_TOKENS [SAMPLE]]   (defaults 9 and 4)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:?usage: bench/llm_bench.sh BUILD_DIR [NEW_TOKENS [SAMPLE]]}"
new="${2:-9}"
sample="${3:-4}"
trnsim="$(cd "$build" && pwd)/trnsim"
[ -x "$trnsim" ] || { echo "llm_bench: no trnsim in $build" >&2; exit 2; }
work="${LLM_BENCH_DIR:-$(mktemp -d)}"
mkdir -p "$work"
export SC_COPYRIGHT_MESSAGE=DISABLE

# name system tp prompt published_ttft_ms published_tpot_ms  (hw-measured.md §3)
runs=(
  "llama2_7b trn1.32xlarge 32 128 13.3 6.70"
  "llama2_7b inf2.48xlarge 24 128 27.6 6.47"
)

/usr/bin/python3 - "$root" "$work" <<'EOF'
import os, sys
import numpy as np
sys.path.insert(0, os.path.join(sys.argv[1], "tests", "models"))
import llm_models
work = sys.argv[2]
path = os.path.join(work, "llama2_7b.onnx")
if not os.path.exists(path):
    m, _ = llm_models.llama("llama2_7b", B=1, S=1, P=1, L=32, V=32000, Dm=4096, H=32, KVH=32,
                            FF=11008, max_pos=8192, dynamic=True,
                            external="llama2_7b.weights")(np.random.default_rng(0))
    llm_models.write_external(m, path)
EOF

printf '| model | system, TP | prompt | new tokens (simulated steps) | TTFT ms (published, ratio) | TPOT ms (published, ratio) | wall s |\n'
printf '|---|---|---|---|---|---|---|\n'
for r in "${runs[@]}"; do
  read -r name sys tp prompt pttft ptpot <<<"$r"
  stats="$work/$name.$sys.json"
  t0=$(date +%s.%N)
  if ! "$trnsim" generate "$work/$name.onnx" --system "$sys" --tp "$tp" --timing-only \
      --prompt-len "$prompt" --new-tokens "$new" --sample "$sample" --stats "$stats" \
      > "$work/$name.$sys.log" 2>&1; then
    printf '| %s | %s, %s | %s | %s | failed: %s | | |\n' "$name" "$sys" "$tp" "$prompt" "$new" \
      "$(tail -1 "$work/$name.$sys.log")"
    continue
  fi
  t1=$(date +%s.%N)
  /usr/bin/python3 - "$stats" "$name" "$sys" "$tp" "$prompt" "$new" "$pttft" "$ptpot" "$t0" "$t1" <<'EOF'
import json, sys
st = json.load(open(sys.argv[1]))
name, sys_, tp, prompt, new, pttft, ptpot, t0, t1 = sys.argv[2:]
sim = sum(1 for s in st["steps"] if s["simulated"])
ttft, tpot = st["ttft_ms"], st["tpot_ms_mean"]
print(f"| {name} | {sys_}, {tp} | {prompt} | {new} ({sim}) | {ttft:.2f} ({pttft}, "
      f"{ttft / float(pttft):.2f}x) | {tpot:.2f} ({ptpot}, {tpot / float(ptpot):.2f}x) | "
      f"{float(t1) - float(t0):.0f} |")
EOF
done
