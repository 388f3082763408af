// phrony: umbrella header, includes every public header.
#pragma once

#include "phrony/client.hpp"
#include "phrony/conversation.hpp"
#include "phrony/error.hpp"
#include "phrony/events.hpp"
#include "phrony/files.hpp"
#include "phrony/follow.hpp"
#include "phrony/http_error.hpp"
#include "phrony/json_writer.hpp"
#include "phrony/raw_json.hpp"
#include "phrony/request.hpp"
#include "phrony/retry.hpp"
#include "phrony/runs.hpp"
#include "phrony/sessions.hpp"
#include "phrony/sse.hpp"
#include "phrony/transport.hpp"
#include "phrony/version.hpp"
