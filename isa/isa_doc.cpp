#include "isa/isa_doc.h"

#include <fmt/format.h>

#include "isa/asm.h"
#include "isa/binary.h"
#include "isa/isa.h"
#include "isa/program.h"

namespace trnsim::isa {
namespace {

// The example program of the reference. It is assembled and printed back in canonical form
// when the page is generated, so a syntax change that breaks it fails `trnsim isa-doc`.
constexpr const char* kExample = R"(# y = relu(x^T w) on one core: load, multiply, activate, store.

.tensor x input bf16 [128, 128]
.tensor w input bf16 [128, 512]
.tensor y output fp32 [128, 512]

.core 0
.engine pe
  matmul psum[0:128]+0:fp32[1,512], sbuf[0:128]+0:bf16[1,128], sbuf[0:128]+256:bf16[1,512], zero  wait(s0>=2) inc(s1) @mm
.engine act
  act sbuf[0:128]+2048:fp32[1,512], psum[0:128]+0:fp32[1,512], relu, 1, 0, -  wait(s1>=1) inc(s2) @relu
.engine sp
  # both loads on one queue; each completion increments s0
  dma q0, sbuf[0:128]+0:bf16[1,128], hbm.x+0:bf16{128,128}[1,128]  inc(s0)
  dma q0, sbuf[0:128]+256:bf16[1,512], hbm.w+0:bf16{512,128}[1,512]  inc(s0)
  dma q1, hbm.y+0:fp32{512,128}[1,512], sbuf[0:128]+2048:fp32[1,512]  wait(s2>=1)
)";

constexpr const char* kLoopExample = R"(.core 0
.engine dve
  movi r1, 0
loop:
  ts sbuf[0:128]+0+r1:fp32[1,64], sbuf[0:128]+0+r1:fp32[1,64], mul, 2, bypass, 0
  addi r1, r1, 256
  blt r1, 1024, loop
)";

std::string kind_doc(OperandKind k) {
  switch (k) {
    case OperandKind::PsumAcc: return "PSUM access pattern, written (and read when `acc`)";
    case OperandKind::PsumOut: return "PSUM access pattern, written";
    case OperandKind::SbufIn: return "SBUF access pattern, read";
    case OperandKind::Out: return "SBUF or PSUM access pattern, written";
    case OperandKind::In: return "SBUF or PSUM access pattern, read";
    case OperandKind::OutOpt: return "SBUF or PSUM access pattern, written, or `-` (absent)";
    case OperandKind::MemOut: return "HBM, SBUF or PSUM access pattern, written";
    case OperandKind::MemIn: return "HBM, SBUF or PSUM access pattern, read";
    case OperandKind::Scalar: return "fp32 literal, or a per-partition `[P,1]` SBUF/PSUM access pattern";
    case OperandKind::ActFn: return "activation function name (table below)";
    case OperandKind::Alu: return "ALU op name (table below)";
    case OperandKind::AccFlag: return "`zero` (overwrite) or `acc` (accumulate)";
    case OperandKind::Int: return "signed 64-bit decimal integer";
    case OperandKind::Float: return "fp32 literal";
    case OperandKind::Reg: return "engine register `r0`..`r15`";
    case OperandKind::Target: return "label in the same stream, or `#N` (instruction index)";
    case OperandKind::Queue: return "DMA queue `qN`";
    case OperandKind::Engines: return "engine set, e.g. `pe|act|dve`";
  }
  return "";
}

std::string engine_list(EngineMask m) {
  std::string out;
  for (int e = 0; e < kNumEngines; ++e)
    if (m & (1u << e)) out += fmt::format("{}{}", out.empty() ? "" : ", ", engine_name(static_cast<Engine>(e)));
  return out;
}

std::string escape_cell(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\|";
    else out += c;
  }
  return out;
}

}  // namespace

std::string isa_reference_markdown() {
  std::string o;
  auto add = [&](const std::string& s) { o += s; };
  add("<!-- generated from isa/isa.def by `trnsim isa-doc`, do not edit -->\n");
  add("# trnsim instruction set\n\n");
  add("Every table on this page comes from `isa/isa.def`, the single definition of the instruction "
      "set. Regenerate with `trnsim isa-doc -o docs/isa.md`.\n\n");

  add("## Engines\n\nEach core runs one in-order instruction stream per engine, plus DMA queues.\n\n");
  add("| engine | role |\n|---|---|\n");
  for (int e = 0; e < kNumEngines; ++e)
    add(fmt::format("| `{}` | {} |\n", engine_name(static_cast<Engine>(e)), engine_doc(static_cast<Engine>(e))));

  add("\n## Opcodes\n\n");
  add("Operands are written in the order listed, separated by `, `. Every instruction may also carry "
      "waits, increments and a tag (see Synchronisation).\n\n");
  add("| mnemonic | engines | operands | meaning |\n|---|---|---|---|\n");
  for (const auto& info : opcode_table()) {
    std::string ops;
    for (int k = 0; k < info.num_operands; ++k)
      ops += fmt::format("{}`{}`: {}", k ? ", " : "", info.operands[k].name,
                         operand_kind_name(info.operands[k].kind));
    add(fmt::format("| `{}` | {} | {} | {} |\n", info.mnemonic, engine_list(info.engines),
                    ops.empty() ? "none" : ops, escape_cell(info.doc)));
  }

  add("\n## Operand kinds\n\n| kind | written as |\n|---|---|\n");
  for (int k = 0; k <= static_cast<int>(OperandKind::Engines); ++k) {
    auto kind = static_cast<OperandKind>(k);
    add(fmt::format("| `{}` | {} |\n", operand_kind_name(kind), escape_cell(kind_doc(kind))));
  }

  add("\n## Activation functions (`act`)\n\n| name | f(x) |\n|---|---|\n");
  for (int f = 0; f < kNumActFns; ++f)
    add(fmt::format("| `{}` | {} |\n", act_fn_name(static_cast<ActFn>(f)),
                    escape_cell(std::string(act_fn_doc(static_cast<ActFn>(f))))));

  add("\n## ALU ops\n\nInteger-only ops need integer dtypes on every access pattern of the "
      "instruction.\n\n| name | result | integer only |\n|---|---|---|\n");
  for (int a = 0; a < kNumAluOps; ++a) {
    auto op = static_cast<AluOp>(a);
    add(fmt::format("| `{}` | {} | {} |\n", alu_op_name(op), escape_cell(std::string(alu_op_doc(op))),
                    alu_op_int_only(op) ? "yes" : ""));
  }

  add("\n## Data types\n\n`int64` and `bool` exist only at the HBM boundary: only `dma`/`dma_gather` "
      "may move them.\n\n| name | bytes | kind | engines compute on it |\n|---|---|---|---|\n");
  for (int t = 0; t < kNumDTypes; ++t) {
    auto d = static_cast<DType>(t);
    add(fmt::format("| `{}` | {} | {} | {} |\n", dtype_name(d), dtype_size(d),
                    dtype_is_float(d) ? "float" : "integer", dtype_is_engine_legal(d) ? "yes" : "no (DMA only)"));
  }

  add(R"(
## Access patterns

An access pattern names the memory an operand reads or writes.

| form | meaning |
|---|---|
| `sbuf[P0:P1]+OFF:DTYPE[s,c]...` | SBUF partitions `P0`..`P1-1`; in each, elements of `DTYPE` starting at byte `OFF` |
| `psum[P0:P1]+OFF:DTYPE[s,c]...` | the same in PSUM (bank = byte offset / bank size) |
| `hbm.NAME+OFF:DTYPE{ps,rows}[s,c]...` | HBM tensor `NAME` from byte `OFF`; `rows` rows (the partition dimension, starting at row 0; 1 to 2^31-1, so a dma_gather table can span a large vocabulary), row `r` starting `r*ps` elements in |
| `...+OFF+rN:...` | register-addressed: the value of engine register `rN` is added to `OFF` at run time |
| `-` | absent (only where the kind is `out-opt`) |

- `OFF` is a signed byte offset and is always written with its sign (`+0`, `+256`, `-4`).
- `[s,c]` are free dimensions, outermost first, up to 4: `c` elements (`c >= 1`) `s` elements apart
  (`s` may be 0 or negative). With no free dimension the pattern is one element per partition.
- Elements per partition = product of the counts; the dtype belongs to the pattern, so copies and
  DMAs convert between the dtypes of their two sides.

## Synchronisation

After the operands an instruction may carry, separated by spaces, in this order when printed:

| syntax | meaning |
|---|---|
| `wait(sN>=V)` | start only when semaphore `N` of this core is `>= V` (up to 2 waits) |
| `wait(sN>=rM)` | ... `>=` the value of engine register `rM` |
| `inc(sN)` / `inc(sN,A)` | when the instruction completes, add 1 / `A` to semaphore `N` (up to 2 increments) |
| `inc(cK.sN)` / `inc(cK.sN,A)` | ... to semaphore `N` of core `K` |
| `@name` / `@"any text"` | source tag (graph node); quoted form escapes `\"` `\\` `\n` `\t` `\xHH` |

Semaphores start at 0 and only increase. For `dma` and `dma_gather` the increments fire when the
transfer completes on its queue; the issuing engine moves on after issuing.

## Text assembly (.tasm)

```
file        := line*
line        := blank | comment | directive | label | instruction
comment     := '#' text                 (one space after '#' is dropped)
directive   := '.tensor' NAME ROLE DTYPE '[' [INT (',' INT)*] ']' ['name' STRING]
                 ['=' ('base64:' DATA | 'absent')]
             | '.core' INT | '.engine' ENGINE
label       := IDENT ':'                (names the next instruction of the same stream)
instruction := MNEMONIC [operand (',' operand)*] sync* ['@' TAG]
sync        := 'wait(' 's'INT '>=' (INT | 'r'INT) ')' | 'inc(' ['c'INT '.'] 's'INT [',' INT] ')'
ROLE        := input | output | const | scratch         (const tensors carry their bytes or `absent`)
IDENT, NAME := [A-Za-z_][A-Za-z0-9_.]*
STRING      := '"' (char | '\"' | '\\' | '\n' | '\t' | '\x' HEX HEX)+ '"'
```

- `name "..."` gives the name users know a tensor by when it is not an identifier: the compiler
  keeps an ONNX input or output called `13` or `1 minute timer` as `.tensor _13 ... name "13"`.
  `trnsim run --input` accepts either name, and `--output-dir` writes the file under this one.
- `= absent`: a const tensor whose bytes were left out (`trnsim compile --timing-only`). Such a
  program simulates only with `--timing-only`.
- Dimensions are 0 to 2^40 and a tensor holds at most 2^40 elements. A zero dimension is an empty
  tensor (an empty ONNX slice, a zero-length KV-cache past): no bytes, no instruction touches it;
  an empty const is written `= base64:`.
- Instructions belong to the stream chosen by the last `.core N` and `.engine E`; directives may
  return to an earlier stream, whose instructions are appended.
- Comment lines directly before a `.tensor`, label or instruction are kept with it and printed
  again by `trnsim disasm`; comment lines at the top of the file followed by a blank line are the
  file's header comment.
- `trnsim disasm` prints canonical text: two spaces of indentation, operands separated by `, `,
  two spaces before the first wait/inc/tag, floats in the shortest form that reads back to the same
  bits (`1.5`, `-0`, `inf`, `nan`, `nan:0x7fc00001`), branch targets by label (`#N` when the target
  has no label). Canonical text survives text -> binary -> text byte for byte.
- Errors name the place: `prog.tasm:12:5: expected ',', found 'sbuf'`.

Example (a matmul fed by two DMAs, with semaphores):

```
)");
  add(disassemble(assemble(kExample, "example.tasm")));
  add("```\n\nA loop with a register-addressed operand:\n\n```\n");
  add(disassemble(assemble(kLoopExample, "loop.tasm")));
  add(fmt::format(R"(```

## Binary (.tbin)

Little-endian; integers are LEB128 varints (signed ones zigzag-encoded) unless a width is given.
Operands are encoded in table order by their kind, so the layout follows `isa/isa.def`.

| part | contents |
|---|---|
| header | `TBIN`, u16 format version (this trnsim writes {} and reads 1 to {}) |
| strings | count, then each as length + bytes; id 0 is the empty string; ids are numbered in order of first use |
| header comment | string id |
| tensors | count, then each: name (length + bytes), external name (length + bytes; version 2), u8 role, u8 dtype, rank, dims, comment id, data length, data (const only; length 0 = absent, version 2) |
| cores | count, then per core and per engine (`pe act dve pool sp`): instruction count, instructions |
| instruction | u8 opcode, u8 flags (waits, incs<<2, tag<<4, label<<5, comment<<6), operands, waits, incs, tag/label/comment ids |
| access pattern | u8 (space, ndims<<2, has_reg<<5), u8 dtype, [u8 register], HBM: tensor, row stride, rows / SBUF, PSUM: start partition, partitions; offset; per dim stride, count |
| scalar | access pattern (space 0 = immediate) followed by the fp32 bits when immediate |
| wait / inc | semaphore, u8 register+1, value (when no register) / core (-1 = own), semaphore, amount |

Decoding checks every length against the bytes left and every value against its range, and
reports `FILE: truncated .tbin at byte N` or `FILE: corrupt .tbin at byte N: WHAT`.
)",
                  kTbinVersion, kTbinVersion));
  return o;
}

}  // namespace trnsim::isa
