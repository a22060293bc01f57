#pragma once

#include <stdint.h>

// Severity of a log line; a line is printed when its level is at or below the threshold.
enum class LogLevel : uint8_t { none = 0, error = 1, warning = 2, info = 3, debug = 4 };
