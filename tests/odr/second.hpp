// tests/odr: what second.cpp defines (see first.cpp).
#pragma once

/// Parses a run status in the second translation unit: the same parser as first.cpp's.
bool second_unit_ok();
