// trnsim._core: the C++ side of the Python module (python/trnsim/__init__.py is the API). Chip
// facts and compilation run in the Python process; every simulation runs run_program
// (tools/run.h, as `trnsim run` does) in a forked child, because SystemC allows one simulation
// per process, and sends its results back through a pipe.
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "compiler/compile.h"
#include "config/chip_config.h"
#include "config/describe.h"
#include "config/params.h"
#include "config/system_config.h"
#include "config/system_params.h"
#include "isa/asm.h"
#include "isa/program_io.h"
#include "isa/validate.h"
#include "support/error.h"
#include "tools/model_options.h"
#include "tools/npy.h"
#include "tools/run.h"
#include "tools/sweep/sweep.h"

namespace py = pybind11;

namespace trnsim::python {
namespace {

// A compiled program and what it was compiled from.
struct Program {
  isa::Program prog;
  std::string source;  // the model's path
  std::string chip;    // the chip spec it was compiled for

  std::vector<std::string> nodes() const {  // distinct source tags, in program order
    std::vector<std::string> out;
    std::vector<bool> seen(prog.strings.size(), false);
    for (const auto& core : prog.cores)
      for (const auto& stream : core.streams)
        for (const auto& in : stream)
          if (in.tag != 0 && in.tag < seen.size() && !seen[in.tag]) {
            seen[in.tag] = true;
            out.push_back(prog.str(in.tag));
          }
    return out;
  }
  py::list tensors(isa::TensorRole role) const {
    py::list out;
    for (const auto& t : prog.tensors)
      if (t.role == role)
        out.append(py::dict(py::arg("name") = t.display_name(),
                            py::arg("dtype") = std::string(isa::dtype_name(t.dtype)),
                            py::arg("shape") = py::tuple(py::cast(t.shape))));
    return out;
  }
};

py::object param_value(const config::ChipConfig& c, const config::ParamInfo& p) {
  if (p.int_field) return py::int_(c.*p.int_field);
  if (p.float_field) return py::float_(c.*p.float_field);
  return py::str(c.*p.string_field);
}

py::object system_param_value(const config::SystemConfig& s, const config::SysParamInfo& p) {
  if (p.int_field) return py::int_(s.*p.int_field);
  if (p.float_field) return py::float_(s.*p.float_field);
  if (p.string_field) return py::str(s.*p.string_field);
  if (p.int_list_field) return py::cast(s.*p.int_list_field);
  return py::cast(s.*p.float_list_field);
}

py::dict param_entry(py::object value, std::string_view unit, std::string_view doc,
                     const char* scope) {
  return py::dict(py::arg("value") = value, py::arg("unit") = std::string(unit),
                  py::arg("doc") = std::string(doc), py::arg("scope") = scope);
}

// Every parameter of a chip (or of a system, then its chip's as chip.KEY): key -> value,
// unit, doc, scope.
py::dict describe(const std::string& chip, const std::vector<std::string>& sets,
                  const std::string& system) {
  py::dict out;
  if (!system.empty()) {
    config::SystemConfig s = config::load_system(system, sets);
    for (const auto& p : config::system_param_table())
      out[py::str(std::string(p.key))] = param_entry(system_param_value(s, p), p.unit, p.doc, "system");
    for (const auto& p : config::param_table())  // "chip.": both have keys such as "name"
      out[py::str("chip." + std::string(p.key))] =
          param_entry(param_value(s.chip_config, p), p.unit, p.doc, "chip");
    return out;
  }
  config::ChipConfig c = config::load_chip(chip, sets);
  for (const auto& p : config::param_table())
    out[py::str(std::string(p.key))] = param_entry(param_value(c, p), p.unit, p.doc, "chip");
  return out;
}

py::list chips() {
  py::list out;
  for (const auto& n : config::preset_names())
    out.append(py::dict(py::arg("name") = n, py::arg("title") = config::preset_title(n),
                        py::arg("summary") = config::chip_summary(config::load_chip(n))));
  return out;
}

py::list systems() {
  py::list out;
  for (const auto& n : config::system_preset_names()) {
    config::SystemConfig s = config::load_system(n);
    out.append(py::dict(py::arg("name") = n,
                        py::arg("title") = config::yaml_title(n, config::system_preset_yaml(n)),
                        py::arg("chips") = s.total_chips(), py::arg("chip") = s.chip_config.name,
                        py::arg("topology") = s.topology, py::arg("dims") = s.dims,
                        py::arg("link_bandwidth_gbps") = s.link_bandwidth_gbps,
                        py::arg("ranks") = s.total_ranks()));
  }
  return out;
}

Program compile(const std::string& model, const std::string& chip,
                const std::vector<std::string>& sets, const std::vector<std::string>& shapes,
                const std::string& dtype, int cores, bool timing_only) {
  Program p;
  p.source = model;
  p.chip = chip;
  py::gil_scoped_release release;  // compiling a large model takes seconds
  config::ChipConfig c = config::load_chip(chip, sets);
  compiler::CompileOptions opts = cli::model_options(shapes, dtype, cores);
  opts.timing_only = timing_only;
  p.prog = compiler::compile_onnx(model, c, opts);
  isa::validate(p.prog, c.target());
  return p;
}

// ---- The child's answer: a status, then length-prefixed fields ----
void put_u64(std::string& b, uint64_t v) { b.append(reinterpret_cast<const char*>(&v), 8); }
void put_f64(std::string& b, double v) {
  uint64_t u;
  std::memcpy(&u, &v, 8);
  put_u64(b, u);
}
void put_str(std::string& b, const std::string& s) {
  put_u64(b, s.size());
  b += s;
}

struct Reader {
  const std::string& b;
  size_t at = 0;
  uint64_t u64() {
    if (at + 8 > b.size()) throw std::runtime_error("simulation process: truncated answer");
    uint64_t v;
    std::memcpy(&v, b.data() + at, 8);
    at += 8;
    return v;
  }
  double f64() {
    const uint64_t u = u64();
    double v;
    std::memcpy(&v, &u, 8);
    return v;
  }
  std::string str() {
    const uint64_t n = u64();
    if (n > b.size() - at) throw std::runtime_error("simulation process: truncated answer");
    std::string s = b.substr(at, n);
    at += n;
    return s;
  }
};

enum Status : uint64_t { kOk = 0, kInternal = 1, kBadInput = 2, kSimFault = 3 };

// Runs in the forked child: never touches Python, ends with _exit.
[[noreturn]] void child_main(cli::RunRequest& req, int fd) {
  std::string out, check_text;
  req.check_sink = [&](const std::string& t) { check_text += t; };
  try {
    cli::RunResult r = cli::run_program(req);
    put_u64(out, kOk);
    put_f64(out, r.sim_time_ns);
    put_str(out, r.stats_json);
    put_str(out, r.summary);
    put_str(out, check_text);
    put_u64(out, r.check_problems);
    put_u64(out, r.chips.size());
    for (const auto& c : r.chips) {
      put_u64(out, c.seed);
      put_u64(out, c.generated_inputs.size());
      for (const auto& g : c.generated_inputs) put_str(out, g);
      put_u64(out, c.outputs.size());
      for (const auto& [name, arr] : c.outputs) {
        put_str(out, name);
        const std::vector<uint8_t> npy = cli::encode_npy(arr);
        put_str(out, std::string(npy.begin(), npy.end()));
      }
    }
  } catch (const InputError& e) {
    out.clear();
    put_u64(out, kBadInput);
    put_str(out, e.what());
  } catch (const SimFault& e) {
    out.clear();
    put_u64(out, kSimFault);
    put_str(out, e.what());
    put_str(out, check_text);
  } catch (const std::exception& e) {
    out.clear();
    put_u64(out, kInternal);
    put_str(out, e.what());
  } catch (...) {
    out.clear();
    put_u64(out, kInternal);
    put_str(out, "unknown exception");
  }
  for (size_t at = 0; at < out.size();) {
    ssize_t n = ::write(fd, out.data() + at, out.size() - at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(1);
    at += static_cast<size_t>(n);
  }
  ::close(fd);
  _exit(0);
}

// Reads everything the child writes; Ctrl-C (or the timeout) kills it. Returns the wait status.
int collect(pid_t pid, int fd, double timeout_s, std::string& buf) {
  const auto start = std::chrono::steady_clock::now();
  char chunk[65536];
  bool eof = false;
  while (!eof) {
    {
      py::gil_scoped_release release;
      pollfd p{fd, POLLIN, 0};
      int r = ::poll(&p, 1, 100);
      if (r > 0) {
        ssize_t n = ::read(fd, chunk, sizeof(chunk));
        if (n > 0) buf.append(chunk, static_cast<size_t>(n));
        else if (n == 0 || errno != EINTR) eof = true;
      }
    }
    if (eof) break;
    const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (PyErr_CheckSignals() != 0 || (timeout_s > 0 && el > timeout_s)) {
      ::kill(pid, SIGKILL);
      ::close(fd);
      int st = 0;
      while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
      }
      if (PyErr_Occurred()) throw py::error_already_set();
      PyErr_SetString(PyExc_TimeoutError,
                      fmt::format("run: the simulation took longer than timeout={} s and was "
                                  "killed", timeout_s).c_str());
      throw py::error_already_set();
    }
  }
  ::close(fd);
  int st = 0;
  {
    py::gil_scoped_release release;
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
  }
  return st;
}

py::dict run(const py::object& program, const std::string& path, const std::string& chip,
             const std::string& system, const std::vector<std::string>& sets,
             const std::vector<std::pair<std::string, py::bytes>>& inputs, bool timing_only,
             const std::string& trace, uint64_t seed, int64_t max_instructions,
             const std::vector<std::string>& shapes, const std::string& dtype, int cores,
             bool check, double timeout_s) {
  cli::RunRequest req;
  const Program* compiled = program.is_none() ? nullptr : &program.cast<const Program&>();
  req.program = compiled ? compiled->source : path;
  req.compiled = compiled ? &compiled->prog : nullptr;
  req.chip = chip;
  req.system = system;
  req.sets = sets;
  req.trace = trace;
  req.timing_only = timing_only;
  req.seed = seed;
  req.max_instructions = max_instructions;
  req.shapes = shapes;
  req.dtype = dtype;
  req.cores = cores;
  req.check = check;
  for (const auto& [name, npy] : inputs) {
    const std::string label = "inputs['" + name + "']";
    char* data = nullptr;
    Py_ssize_t size = 0;
    if (PyBytes_AsStringAndSize(npy.ptr(), &data, &size) != 0) throw py::error_already_set();
    // Parsed here, by the CLI's .npy reader: a bad array fails before anything is forked.
    req.inputs.push_back({label, name, label,
                          cli::parse_npy(reinterpret_cast<const uint8_t*>(data),
                                         static_cast<size_t>(size), label)});
  }

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("run: cannot create a pipe");
  std::fflush(nullptr);  // nothing buffered is written twice
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw std::runtime_error(std::string("run: cannot fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::close(fds[0]);
    // Python's handlers are not for this process: SIGINT's only sets a flag nobody reads here,
    // and faulthandler's would print the parent's Python stack for a crash in C++.
    for (int sig : {SIGINT, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) ::signal(sig, SIG_DFL);
    child_main(req, fds[1]);
  }
  ::close(fds[1]);
  std::string buf;
  const int st = collect(pid, fds[0], timeout_s, buf);
  if (WIFSIGNALED(st))
    throw std::runtime_error(fmt::format("internal error: the simulation process was killed by "
                                         "signal {} ({})", WTERMSIG(st), strsignal(WTERMSIG(st))));
  if (buf.empty())
    throw std::runtime_error(fmt::format("internal error: the simulation process exited with "
                                         "code {} and no answer", WEXITSTATUS(st)));
  Reader rd{buf};
  const uint64_t status = rd.u64();
  if (status == kBadInput) throw InputError(rd.str());
  if (status == kSimFault) {
    const std::string msg = rd.str();
    py::object fault = py::module_::import("trnsim._errors").attr("SimFault")(msg);
    fault.attr("report") = rd.str();
    PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(fault.ptr())), fault.ptr());
    throw py::error_already_set();
  }
  if (status != kOk) throw std::runtime_error("internal error: " + rd.str());
  py::dict res;
  res["sim_time_ns"] = rd.f64();
  res["stats_json"] = rd.str();
  res["summary"] = rd.str();
  res["check_report"] = rd.str();
  res["check_problems"] = rd.u64();
  py::list chips_out;
  const uint64_t n = rd.u64();
  for (uint64_t c = 0; c < n; ++c) {
    py::dict chip_res;
    chip_res["seed"] = rd.u64();
    py::list gen;
    for (uint64_t k = rd.u64(); k > 0; --k) gen.append(rd.str());
    chip_res["generated_inputs"] = gen;
    py::list outs;
    for (uint64_t k = rd.u64(); k > 0; --k) {
      std::string name = rd.str();
      outs.append(py::make_tuple(name, py::bytes(rd.str())));
    }
    chip_res["outputs"] = outs;
    chips_out.append(chip_res);
  }
  res["chips"] = chips_out;
  return res;
}

// The design points of a sweep spec (checks it as `trnsim sweep` does before running).
size_t sweep_points(const std::string& spec) {
  return cli::sweep::expand_points(cli::sweep::load_spec(spec)).size();
}

}  // namespace
}  // namespace trnsim::python

PYBIND11_MODULE(_core, m) {
  using namespace trnsim::python;
  namespace tp = trnsim::python;
  m.doc() = "C++ side of the trnsim Python module (use the trnsim package, not this)";
  // The exception classes live in trnsim._errors (pure Python), so the child's SimFault can
  // carry its report; C++ InputError/SimFault thrown here become them.
  // Kept for the life of the process (no reference released after Python has finalised).
  py::object errors = py::module_::import("trnsim._errors");
  static PyObject* input_error = py::object(errors.attr("InputError")).release().ptr();
  static PyObject* sim_fault = py::object(errors.attr("SimFault")).release().ptr();
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const trnsim::InputError& e) {
      PyErr_SetString(input_error, e.what());
    } catch (const trnsim::SimFault& e) {
      PyErr_SetString(sim_fault, e.what());
    }
  });

  py::class_<tp::Program>(m, "Program",
                          "A compiled program (trnsim.compile): to_tasm(), save(path), "
                          "num_instructions, nodes, inputs, outputs; pass it to trnsim.run.")
      .def("to_tasm", [](const tp::Program& p) { return trnsim::isa::disassemble(p.prog); })
      .def(
          "save",
          [](const tp::Program& p, const py::object& path) {  // str or os.PathLike
            trnsim::isa::save_program(p.prog,
                                      py::module_::import("os").attr("fspath")(path).cast<std::string>());
          },
          py::arg("path"))
      .def_property_readonly("num_instructions",
                             [](const tp::Program& p) { return p.prog.num_instructions(); })
      .def_property_readonly("nodes", &tp::Program::nodes)
      .def_property_readonly("inputs",
                             [](const tp::Program& p) { return p.tensors(trnsim::isa::TensorRole::Input); })
      .def_property_readonly("outputs",
                             [](const tp::Program& p) { return p.tensors(trnsim::isa::TensorRole::Output); })
      .def_property_readonly("num_cores", [](const tp::Program& p) { return p.prog.cores.size(); })
      .def("__repr__",
           [](const tp::Program& p) {
             return fmt::format("<trnsim.Program {} for {}: {} instructions, {} nodes>", p.source,
                                p.chip, p.prog.num_instructions(), p.nodes().size());
           })
      .def_readonly("source", &tp::Program::source)
      .def_readonly("chip", &tp::Program::chip);

  m.def("chips", &chips);
  m.def("systems", &systems);
  m.def("describe", &describe);
  m.def("compile", &compile);
  m.def("run", &run);
  m.def("sweep_points", &sweep_points);
  m.attr("TRNSIM_EXE") = TRNSIM_EXE;
  m.attr("VERSION") = TRNSIM_VERSION;
}
