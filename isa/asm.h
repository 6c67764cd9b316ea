// Text assembly (.tasm): the assembler (text -> Program) and the disassembler (Program -> text).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "isa/program.h"

namespace trnsim::isa {

// Parses .tasm text. `file_name` prefixes error messages ("prog.tasm:12:5: expected ','").
// Throws InputError for the first problem. Sets Instr::line and Program::source_name.
Program assemble(std::string_view text, const std::string& file_name);

// Canonical text of a program: assemble(disassemble(p)) == p for every program that the binary
// decoder accepts, and disassemble(assemble(t)) == t for canonical text t.
std::string disassemble(const Program& prog);

// One instruction as a single line (no comment/label lines, no indentation), for messages and
// timelines. `stream` is the instruction's engine stream (to name branch targets by label).
std::string format_instr(const Program& prog, const std::vector<Instr>& stream, size_t index);
std::string format_access_pattern(const Program& prog, const AccessPattern& ap);

// Shortest text that parses back to the same float bits ("1.5", "-0", "inf", "nan",
// "nan:0x7fc00001" for NaNs other than the default quiet NaNs).
std::string format_float(float f);

// Which memory spaces an operand kind accepts (MemSpace::None: the `-` of OutOpt and the
// immediate form of Scalar).
bool operand_allows_space(OperandKind k, MemSpace s);

// Names usable as labels and tensor names: [A-Za-z_][A-Za-z0-9_.]*
bool is_identifier(std::string_view s);
// The identifier for a foreign name (an ONNX tensor such as "onnx::Add_5" or "/enc/out 0"):
// other characters become '_', and a leading digit or '.' gets a '_' in front.
std::string to_identifier(std::string_view s);

}  // namespace trnsim::isa
