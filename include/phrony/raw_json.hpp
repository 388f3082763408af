// phrony: verbatim JSON values and the unknown-fields list every response type carries.
#pragma once

#include <utility>
#include <vector>

#include "phrony/text.hpp"

namespace phrony {

/// Verbatim JSON text of an opaque value (output, input, arguments ...); never re-serialised.
/// Default-constructed (empty text) it stands for no value and is written as null.
struct raw_json {
  phrony::text text;

  /// True when the value is the JSON literal null.
  [[nodiscard]] bool is_null() const noexcept { return text == "null"; }

  friend bool operator==(const raw_json&, const raw_json&) = default;
};

/// Fields the library does not know, in document order, kept so nothing the server sends is lost.
using extra_fields = std::vector<std::pair<text, raw_json>>;

} // namespace phrony
