// SCALE-Sim v2's three CSV reports (COMPUTE, BANDWIDTH, DETAILED_ACCESS) with its exact headers and
// Python number formatting.
#pragma once

#include <string>
#include <vector>

#include "models/scalesim/systolic_model.h"

namespace trnsim::model::scalesim {

// Python's repr() of a float: shortest round-trip digits, "12.0", "0.0001", "1e-05", "1e+16".
std::string python_float(double v);

std::string compute_report(const std::vector<LayerResult>& layers);
std::string bandwidth_report(const std::vector<LayerResult>& layers);
std::string detailed_access_report(const std::vector<LayerResult>& layers);

// Writes the three reports into DIR (created if needed), each atomically.
void write_reports(const std::string& dir, const std::vector<LayerResult>& layers);

}  // namespace trnsim::model::scalesim
