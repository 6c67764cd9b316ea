// trnsim generate: autoregressive generation with a decoder-only LLM exported with a KV cache
// (Hugging Face / optimum form: input_ids, attention_mask, position_ids, past_key_values.*
// in; logits, present.* out). The prefill runs the prompt with a zero-length past, then every
// decode step runs one token per sequence with the cache the step before returned. Each step is
// its own `trnsim run` process (SystemC runs one simulation per process; each past length is
// its own compile, as shapes are static in a program). With numerics the steps are chained by
// their data (greedy: the next token is the argmax of the last logits, `present` becomes
// `past`); timing-only runs need no data and may sample the decode steps (--sample K).
// Reports time to first token and time per output token, as the Neuron performance tables.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "compiler/compile.h"
#include "support/error.h"
#include "support/file_util.h"
#include "support/json.h"
#include "tools/cli.h"
#include "tools/npy.h"
#include "tools/spawn.h"

namespace trnsim::cli {
namespace {

namespace fs = std::filesystem;

struct GenArgs {
  std::string model, chip = "trn1", dtype = "bf16", stats, system;
  std::vector<std::string> sets;
  int batch = 1, prompt_len = 0, new_tokens = 0, sample = 1, tp = 1;
  bool timing_only = false;
  uint64_t seed = 0;
};

// One step: `past` cached tokens, `len` new ones per sequence.
struct Step {
  int index = 0;
  int64_t past = 0, len = 0;
  bool simulated = true;
  double sim_ns = 0;
};

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

// The model's roles, found by name (the export's names are the interface).
struct Roles {
  const compiler::ModelIo* ids = nullptr;
  const compiler::ModelIo* logits = nullptr;
  std::vector<const compiler::ModelIo*> past;   // past_key_values.*
  std::map<std::string, std::string> present;   // present.* output -> its past input
};

Roles find_roles(const compiler::ModelSignature& sig, const std::string& src) {
  Roles r;
  for (const auto& in : sig.inputs) {
    if (in.name == "input_ids") r.ids = &in;
    else if (starts_with(in.name, "past_key_values")) r.past.push_back(&in);
    else if (in.name != "attention_mask" && in.name != "position_ids")
      throw InputError(fmt::format(
          "{}: input '{}' is none of input_ids, attention_mask, position_ids, past_key_values.* "
          "(trnsim generate needs a decoder exported with its KV cache)", src, in.name));
  }
  for (const auto& out : sig.outputs) {
    if (out.name == "logits") r.logits = &out;
    if (!starts_with(out.name, "present")) continue;
    const std::string past = "past_key_values" + out.name.substr(7);
    const bool known = std::any_of(r.past.begin(), r.past.end(),
                                   [&](const compiler::ModelIo* p) { return p->name == past; });
    if (!known)
      throw InputError(fmt::format("{}: output '{}' has no input '{}' to feed it back to", src,
                                   out.name, past));
    r.present[out.name] = past;
  }
  if (!r.ids) throw InputError(src + ": no input 'input_ids'");
  if (!r.logits) throw InputError(src + ": no output 'logits'");
  if (r.past.empty() || r.present.size() != r.past.size())
    throw InputError(fmt::format(
        "{}: {} past_key_values.* inputs and {} present.* outputs; generate needs one present "
        "per past (a decoder exported with its KV cache)", src, r.past.size(), r.present.size()));
  return r;
}

// The shape of input `in` at a step: batch B, `len` new tokens, `past` cached ones. Symbolic
// dims of the past tensors are the batch (dim 0) or the past length; fixed dims stay.
std::vector<int64_t> step_shape(const compiler::ModelIo& in, int64_t B, int64_t past, int64_t len) {
  if (in.name == "input_ids" || in.name == "position_ids") return {B, len};
  if (in.name == "attention_mask") return {B, past + len};
  std::vector<int64_t> s = in.dims;
  for (size_t d = 0; d < s.size(); ++d)
    if (s[d] < 0) s[d] = d == 0 ? B : past;
  return s;
}

isa::DType npy_dtype(int elem_type, const std::string& what) {
  switch (elem_type) {
    case 1: return isa::DType::Fp32;
    case 10: return isa::DType::Fp16;
    case 7: return isa::DType::Int64;
    case 6: return isa::DType::Int32;
    default: throw InputError(fmt::format("{}: element type {} is not supported by generate", what, elem_type));
  }
}

NpyArray int_array(isa::DType dt, std::vector<int64_t> shape, const std::vector<int64_t>& v) {
  NpyArray a{dt, std::move(shape), {}};
  a.data.resize(v.size() * static_cast<size_t>(isa::dtype_size(dt)));
  for (size_t i = 0; i < v.size(); ++i) isa::store_from_int(dt, v[i], a.data.data() + i * isa::dtype_size(dt));
  return a;
}

// Runs `trnsim ARGS` (this executable) with output into `log`; returns its exit status.
int run_self(const std::vector<std::string>& args, const std::string& log) {
  std::vector<std::string> argv = {"/proc/self/exe"};
  argv.insert(argv.end(), args.begin(), args.end());
  const pid_t pid = spawn_logged(argv, log);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw std::runtime_error("waitpid failed");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// "trnsim: error: ..." of a failed step, without the prefix.
std::string failure(const std::string& log) {
  std::string text = read_text_file(log), line;
  for (size_t at = 0; at < text.size();) {
    size_t nl = text.find('\n', at);
    std::string l = text.substr(at, nl == std::string::npos ? std::string::npos : nl - at);
    if (starts_with(l, "trnsim: ")) line = l.substr(8);
    // The step's own "error: " prefix: the message is wrapped in generate's, which has one.
    if (starts_with(line, "error: ")) line = line.substr(7);
    at = nl == std::string::npos ? text.size() : nl + 1;
  }
  return line.empty() ? "failed (log: " + log + ")" : line;
}

void generate(const GenArgs& a) {
  if (a.prompt_len < 1) throw InputError("--prompt-len must be >= 1");
  if (a.new_tokens < 1) throw InputError("--new-tokens must be >= 1");
  if (a.batch < 1) throw InputError("--batch must be >= 1");
  if (a.sample < 1) throw InputError("--sample must be >= 1");
  if (!a.system.empty() && a.chip != "trn1")
    throw InputError("--chip and --system: the system names its chip (use --set KEY=VALUE)");
  if (!a.sets.empty() && a.system.empty())
    throw InputError("--set applies to --system runs here (a chip preset or YAML file: --chip)");
  if (a.tp != 1 && a.system.empty())
    throw InputError(fmt::format("--tp {}: needs --system S (docs/distributed.md)", a.tp));
  if (a.sample > 1 && !a.timing_only)
    throw InputError("--sample needs --timing-only (with numerics every step feeds the next)");
  const compiler::ModelSignature sig = compiler::model_signature(a.model);
  const Roles roles = find_roles(sig, a.model);
  const int64_t vocab = roles.logits->dims.empty() ? -1 : roles.logits->dims.back();
  if (!a.timing_only && vocab < 1)
    throw InputError(a.model + ": the vocabulary (last dim of 'logits') must be fixed for numerics");

  // Steps: the prefill, then one per further token. Sampled decode steps: 1, 1+K, ..., last.
  std::vector<Step> steps;
  for (int t = 0; t < a.new_tokens; ++t) {
    Step s;
    s.index = t;
    s.past = t == 0 ? 0 : a.prompt_len + t - 1;
    s.len = t == 0 ? a.prompt_len : 1;
    s.simulated = t <= 1 || t == a.new_tokens - 1 || (t - 1) % a.sample == 0;
    steps.push_back(s);
  }
  const fs::path work = fs::temp_directory_path() / fmt::format("trnsim_generate_{}", ::getpid());
  fs::create_directories(work);
  struct Cleanup {
    fs::path p;
    ~Cleanup() { std::error_code ec; fs::remove_all(p, ec); }
  } cleanup{work};

  std::mt19937_64 rng(a.seed);
  const int64_t B = a.batch;
  std::vector<int64_t> next_ids;  // per sequence, the tokens of the step to run
  std::map<std::string, std::string> past_files;  // past input -> its .npy (numerics)
  std::vector<std::vector<int64_t>> generated(static_cast<size_t>(B));
  if (!a.timing_only) {
    std::uniform_int_distribution<int64_t> tok(0, vocab - 1);
    for (int64_t i = 0; i < B * a.prompt_len; ++i) next_ids.push_back(tok(rng));
  }
  const std::vector<int64_t> prompt = next_ids;
  for (Step& s : steps) {
    if (!s.simulated) continue;
    const std::string tag = s.index == 0 ? "prefill" : fmt::format("decode step {}", s.index);
    const fs::path dir = work / fmt::format("step{}", s.index);
    fs::create_directories(dir);
    const std::string stats = (dir / "stats.json").string(), log = (dir / "log.txt").string();
    std::vector<std::string> args = {"run", a.model, "--dtype", a.dtype, "--stats", stats};
    if (a.system.empty()) {
      args.insert(args.end(), {"--chip", a.chip});
    } else {  // every step on the system, its shapes pinned (a system run takes no data shapes)
      args.insert(args.end(), {"--system", a.system});
      for (const auto& kv : a.sets) args.insert(args.end(), {"--set", kv});
    }
    if (a.tp != 1) args.insert(args.end(), {"--tp", std::to_string(a.tp)});
    if (a.timing_only) args.push_back("--timing-only");
    if (a.timing_only || !a.system.empty()) {
      for (const auto& in : sig.inputs) {
        const auto shape = step_shape(in, B, s.past, s.len);
        std::string dims;
        for (int64_t d : shape) dims += (dims.empty() ? "" : "x") + std::to_string(d);
        args.push_back("--shape");
        args.push_back(in.name + "=" + dims);
      }
    }
    if (!a.timing_only) {
      for (const auto& in : sig.inputs) {
        const auto shape = step_shape(in, B, s.past, s.len);
        const std::string file = (dir / (fmt::format("in{}.npy", &in - sig.inputs.data()))).string();
        const isa::DType dt = npy_dtype(in.elem_type, a.model + ": input '" + in.name + "'");
        if (in.name == "input_ids") {
          write_npy(file, int_array(dt, shape, next_ids));
        } else if (in.name == "attention_mask") {
          write_npy(file, int_array(dt, shape, std::vector<int64_t>(static_cast<size_t>(B * (s.past + s.len)), 1)));
        } else if (in.name == "position_ids") {
          std::vector<int64_t> pos;
          for (int64_t b = 0; b < B; ++b)
            for (int64_t k = 0; k < s.len; ++k) pos.push_back(s.past + k);
          write_npy(file, int_array(dt, shape, pos));
        } else if (s.index == 0) {  // an empty past
          write_npy(file, NpyArray{dt, shape, {}});
        } else {
          args.push_back("--input");
          args.push_back(in.name + "=" + past_files.at(in.name));
          continue;
        }
        args.push_back("--input");
        args.push_back(in.name + "=" + file);
      }
      args.push_back("--output-dir");
      args.push_back((dir / "out").string());
    }
    const int rc = run_self(args, log);
    if (rc != 0) {
      const std::string msg = fmt::format("{}: {} (past {}, {} new token(s)): {}", a.model, tag,
                                          s.past, s.len, failure(log));
      if (rc == 3) throw SimFault(msg);
      throw InputError(msg);
    }
    s.sim_ns = json::parse_file(stats)["sim_time_ns"]["value"].as_number();
    if (a.timing_only) continue;
    // Outputs, by the "output NAME: PATH" lines of the run.
    std::map<std::string, std::string> outs;
    const std::string text = read_text_file(log);
    for (size_t at = 0; (at = text.find("output ", at)) != std::string::npos;) {
      const size_t colon = text.find(": ", at), nl = text.find('\n', at);
      if (colon == std::string::npos || colon > nl) break;
      // First occurrence: chip 0's on a system (every chip computes the same sequences).
      outs.emplace(text.substr(at + 7, colon - at - 7), text.substr(colon + 2, nl - colon - 2));
      at = nl;
    }
    const NpyArray logits = read_npy(outs.at("logits"));
    if (logits.shape.size() != 3 || logits.shape[0] != B || logits.shape[1] != s.len)
      throw InputError(fmt::format("{}: {}: logits have shape [{}], expected [{}, {}, vocab]",
                                   a.model, tag, fmt::join(logits.shape, ", "), B, s.len));
    const int64_t V = logits.shape[2];
    next_ids.clear();
    for (int64_t b = 0; b < B; ++b) {
      const int64_t base = (b * s.len + s.len - 1) * V;
      int64_t best = 0;
      float best_v = -INFINITY;
      for (int64_t v = 0; v < V; ++v) {
        const float x = isa::load_as_float(logits.dtype, logits.data.data() + (base + v) * isa::dtype_size(logits.dtype));
        if (x > best_v) best_v = x, best = v;  // the first maximum, as argmax
      }
      next_ids.push_back(best);
      generated[static_cast<size_t>(b)].push_back(best);
    }
    for (const auto& [present, past] : roles.present) past_files[past] = outs.at(present);
  }
  // Interpolate the decode steps that were not simulated (linear in the past length).
  for (size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].simulated) continue;
    size_t lo = i, hi = i;
    while (!steps[lo].simulated) --lo;
    while (!steps[hi].simulated) ++hi;
    const double f = static_cast<double>(steps[i].past - steps[lo].past) /
                     static_cast<double>(steps[hi].past - steps[lo].past);
    steps[i].sim_ns = steps[lo].sim_ns + f * (steps[hi].sim_ns - steps[lo].sim_ns);
  }
  const double ttft = steps[0].sim_ns;
  double tpot = 0, lo = 0, hi = 0;
  for (size_t i = 1; i < steps.size(); ++i) {
    tpot += steps[i].sim_ns;
    lo = i == 1 ? steps[i].sim_ns : std::min(lo, steps[i].sim_ns);
    hi = std::max(hi, steps[i].sim_ns);
  }
  const size_t decodes = steps.size() - 1;
  if (decodes) tpot /= static_cast<double>(decodes);
  const std::string where =
      a.system.empty() ? a.chip : fmt::format("{} (--tp {})", a.system, a.tp);
  std::printf("generate %s on %s (--dtype %s, batch %d, prompt %d, %d new token(s)%s)\n",
              a.model.c_str(), where.c_str(), a.dtype.c_str(), a.batch, a.prompt_len,
              a.new_tokens, a.timing_only ? ", timing-only" : "");
  std::printf("%6s %-8s %8s %8s %12s\n", "step", "kind", "past", "tokens", "sim_us");
  for (const Step& s : steps)
    std::printf("%6d %-8s %8lld %8lld %12.3f%s\n", s.index, s.index ? "decode" : "prefill",
                static_cast<long long>(s.past), static_cast<long long>(s.len), s.sim_ns / 1000.0,
                s.simulated ? "" : "  (interpolated)");
  std::printf("time to first token: %.3f ms\n", ttft / 1e6);
  if (decodes)
    std::printf("time per output token: %.3f ms mean over %zu decode step(s) (%.3f to %.3f)\n",
                tpot / 1e6, decodes, lo / 1e6, hi / 1e6);
  if (!a.timing_only)
    for (int64_t b = 0; b < B; ++b)
      std::printf("sequence %lld tokens: %s\n", static_cast<long long>(b),
                  fmt::format("{}", fmt::join(generated[static_cast<size_t>(b)], " ")).c_str());
  if (!a.stats.empty()) {
    std::string j = "{\n  \"steps\": [";
    for (const Step& s : steps)
      j += fmt::format("{}\n    {{\"step\": {}, \"kind\": \"{}\", \"past\": {}, \"tokens\": {}, "
                       "\"sim_time_ns\": {}, \"simulated\": {}}}",
                       s.index ? "," : "", s.index, s.index ? "decode" : "prefill", s.past, s.len,
                       s.sim_ns, s.simulated ? "true" : "false");
    j += fmt::format("\n  ],\n  \"ttft_ms\": {},\n  \"tpot_ms_mean\": {}", ttft / 1e6, tpot / 1e6);
    if (!a.timing_only) {
      j += ",\n  \"prompt\": [";
      for (int64_t b = 0; b < B; ++b)
        j += fmt::format("{}[{}]", b ? ", " : "",
                         fmt::join(prompt.begin() + b * a.prompt_len,
                                   prompt.begin() + (b + 1) * a.prompt_len, ", "));
      j += "]";
      j += ",\n  \"tokens\": [";
      for (int64_t b = 0; b < B; ++b)
        j += fmt::format("{}[{}]", b ? ", " : "", fmt::join(generated[static_cast<size_t>(b)], ", "));
      j += "]";
    }
    j += "\n}\n";
    write_file_atomic(a.stats, j);
    std::printf("stats: %s\n", a.stats.c_str());
  }
}

}  // namespace

void add_generate_command(CLI::App& app) {
  auto a = std::make_shared<GenArgs>();
  auto* cmd = app.add_subcommand(
      "generate", "autoregressive generation with a decoder exported with its KV cache: "
                  "prefill, then one decode step per token; time to first token and per token");
  cmd->add_option("model", a->model, "decoder-only model (.onnx, Hugging Face / optimum form)")
      ->required();
  cmd->add_option("--chip", a->chip, "preset name or chip YAML file (default trn1)");
  cmd->add_option("--system", a->system,
                  "run every step on this multi-chip system (preset or YAML file)");
  cmd->add_option("--set", a->sets, "with --system: override a system or chip parameter, "
                                    "key=value (repeatable)");
  cmd->add_option("--tp", a->tp,
                  "tensor parallelism over this many NeuronCores (with --system; "
                  "docs/distributed.md)");
  cmd->add_option("--prompt-len", a->prompt_len, "prompt tokens per sequence")->required();
  cmd->add_option("--new-tokens", a->new_tokens, "tokens to generate per sequence")->required();
  cmd->add_option("--batch", a->batch, "sequences (default 1)");
  cmd->add_option("--dtype", a->dtype, "matmul/conv dtype: bf16 (default) or fp32");
  cmd->add_flag("--timing-only", a->timing_only, "no data: shapes only (weights never read)");
  cmd->add_option("--sample", a->sample,
                  "timing-only: simulate every K-th decode step (and the first and last), "
                  "interpolate the others linearly in the past length (default 1: every step)");
  cmd->add_option("--seed", a->seed, "seed of the random prompt tokens (default 0)");
  cmd->add_option("--stats", a->stats, "write the per-step times, TTFT and TPOT as JSON");
  cmd->callback([a] { generate(*a); });
}

}  // namespace trnsim::cli
