// phrony: umbrella header, includes every public header.
#pragma once

#include "phrony/error.hpp"
#include "phrony/json_writer.hpp"
#include "phrony/raw_json.hpp"
#include "phrony/runs.hpp"
