#!/usr/bin/env bash
# phrony-run (and phrony-coro, when given: over TCP, and over TLS with a test CA made here) against
# phrony-emulator: exit statuses, the decisions and outputs they print, and the API key never
# appearing in what they print.
# usage: phrony_run_test.sh path/to/phrony-emulator path/to/phrony-run [path/to/phrony-coro]
set -uo pipefail
emulator=${1:?usage: phrony_run_test.sh EMULATOR PHRONY_RUN [PHRONY_CORO]}
phrony_run=${2:?usage: phrony_run_test.sh EMULATOR PHRONY_RUN [PHRONY_CORO]}
coro=${3:-}
tmp=$(mktemp -d)
source "$(dirname "$0")/with_emulator.sh"
start_emulator || exit 1

key=phk_emulator_all
agent() { printf 'a1000000-0000-4000-8000-%012d' "$1"; }
failures=0
# check NAME WANT_EXIT WANT_TEXT COMMAND...: runs COMMAND (at most 20 s), then checks its exit
# status, that its output holds WANT_TEXT, and that it holds no API key.
check() {
  local name=$1 want=$2 text=$3
  shift 3
  timeout 20 "$@" >"$tmp/out" 2>&1
  local got=$?
  local why=""
  [[ $got == "$want" ]] || why="exit $got, want $want"
  grep -qF -- "$text" "$tmp/out" || why="$why; output lacks: $text"
  ! grep -q 'phk_' "$tmp/out" || why="$why; OUTPUT SHOWS AN API KEY"
  if [[ -z $why ]]; then
    echo "ok   - $name"
  else
    echo "FAIL - $name: $why" >&2
    sed 's/^/       | /' "$tmp/out" >&2
    failures=$((failures + 1))
  fi
}

run=("$phrony_run" --base "$base")
check "approve, streaming, libcurl" 0 '"refundApproved":true' \
  "${run[@]}" --key "$key" --agent "$(agent 1)" --approve
check "approve, polling, cpp-httplib" 0 '"refundApproved":true' \
  "${run[@]}" --key "$key" --agent "$(agent 1)" --approve --poll --transport httplib
check "reject, streaming, cpp-httplib" 0 '"refundApproved":false' \
  "${run[@]}" --key "$key" --agent "$(agent 1)" --reject --transport httplib
check "the decision is printed" 0 '> decision     reject' \
  "${run[@]}" --key "$key" --agent "$(agent 1)" --reject --poll
check "option, text and number answers" 0 '{"resolution":"escalate","note":"On it","points":250}' \
  "${run[@]}" --key "$key" --agent "$(agent 2)" --option escalate --text "On it" --number 250
check "a failing run exits 2" 2 'CRM unavailable' "${run[@]}" --key "$key" --agent "$(agent 6)"
check "a failing run exits 2 (polling)" 2 'failed' \
  "${run[@]}" --key "$key" --agent "$(agent 6)" --poll
check "the key may come from PHRONY_API_KEY" 0 '"answer":42' \
  env PHRONY_API_KEY=$key "${run[@]}" --agent "$(agent 7)"
check "input is sent" 0 '{"input":{"ticket":"ZD-7"}}' \
  "${run[@]}" --key "$key" --agent "$(agent 9)" --input '{"ticket":"ZD-7"}'
check "no decision for a pending approval exits 1" 1 'no answer given' \
  "${run[@]}" --key "$key" --agent "$(agent 1)"
check "a wrong key exits 1 and is not printed" 1 'HTTP 401' \
  "${run[@]}" --key phk_wrong_secret_value --agent "$(agent 1)"
check "an agent out of the key's scope exits 1" 1 'HTTP 403' \
  "${run[@]}" --key phk_emulator_approval_only --agent "$(agent 2)"
check "an unknown agent exits 1" 1 'HTTP 404' \
  "${run[@]}" --key "$key" --agent 00000000-0000-4000-8000-000000000000
check "malformed --input is a usage error (64)" 64 'not a JSON object' \
  "${run[@]}" --key "$key" --agent "$(agent 9)" --input '[1,2'
check "an unreachable server exits 1" 1 'phrony-run:' \
  "$phrony_run" --base http://127.0.0.1:9 --key "$key" --agent "$(agent 7)"

# --- command-line manners (issue 12): --help, --version, usage errors -------------------------
version=$(sed -n 's/^#define PHRONY_VERSION_STRING "\(.*\)"$/\1/p' \
  "$(dirname "$0")/../../include/phrony/version.hpp")
# manners NAME WANT_EXIT STDOUT_HAS STDERR_HAS COMMAND...: exit status, a fixed string in stdout
# and one in stderr ("" for: must be empty).
manners() {
  local name=$1 want=$2 out_has=$3 err_has=$4
  shift 4
  timeout 20 "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
  local got=$?
  local why=""
  [[ $got == "$want" ]] || why="exit $got, want $want"
  if [[ -z $out_has ]]; then
    [[ ! -s $tmp/out ]] || why="$why; stdout not empty"
  else
    grep -qF -- "$out_has" "$tmp/out" || why="$why; stdout lacks: $out_has"
  fi
  if [[ -z $err_has ]]; then
    [[ ! -s $tmp/err ]] || why="$why; stderr not empty"
  else
    grep -qF -- "$err_has" "$tmp/err" || why="$why; stderr lacks: $err_has"
  fi
  ! grep -q 'phk_' "$tmp/out" "$tmp/err" || why="$why; OUTPUT SHOWS AN API KEY"
  if [[ -z $why ]]; then
    echo "ok   - $name"
  else
    echo "FAIL - $name: $why" >&2
    sed 's/^/       | /' "$tmp/out" "$tmp/err" >&2
    failures=$((failures + 1))
  fi
}
flunk() {
  echo "FAIL - $1" >&2
  failures=$((failures + 1))
}
for prog in "$phrony_run" "$emulator" ${coro:+"$coro"}; do
  n=$(basename "$prog")
  manners "$n --help: usage on stdout, exit 0" 0 "usage: $n" "" "$prog" --help
  manners "$n --version" 0 "$n $version" "" "$prog" --version
  [[ $(cat "$tmp/out") == "$n $version" ]] || flunk "$n --version: one line, \"$n $version\""
  manners "$n: an unknown option is a usage error (64)" 64 "" "usage: $n" "$prog" --bogus
  manners "$n: a missing value is a usage error (64)" 64 "" "usage: $n" "$prog" --port-file
done
manners "phrony-run without --agent: usage error" 64 "" "--agent is required" \
  "$phrony_run" --key "$key"
manners "phrony-run without a key: usage error" 64 "" "no key" \
  env -u PHRONY_API_KEY "$phrony_run" --agent "$(agent 7)"
manners "phrony-run --timeout x: usage error" 64 "" "--timeout wants" \
  "$phrony_run" --key "$key" --agent "$(agent 7)" --timeout x
if [[ $(basename "$phrony_run") == phrony-run ]]; then # its own wording and --transport
  manners "phrony-run --help lists the exit codes" 0 "64  a usage error" "" "$phrony_run" --help
  manners "phrony-run --help gives the default --timeout" 0 "(default 600; 0 = none)" "" \
    "$phrony_run" --help
  manners "phrony-run --transport x: usage error" 64 "" "--transport is" \
    "$phrony_run" --key "$key" --agent "$(agent 7)" --transport x
fi
manners "phrony-emulator --seed x: usage error" 64 "" "--seed" "$emulator" --seed x
printf '{"api_keys":[],"agents":[{"id":"x","steps":[{"type":"wait"}]}]}' >"$tmp/bad.json"
manners "phrony-emulator: a bad scenario exits 1, naming the field" 1 "" "/agents/0/steps/0/type" \
  "$emulator" --port 0 --scenario "$tmp/bad.json"
# --timeout bounds the whole command: a dashboard-only task ends it with 3; an emulator that
# answers nothing for 3 s (--delay-ms), already the start call, with 1 after about a second.
check "--timeout 2 on a dashboard-only task exits 3" 3 'waiting for a person' \
  "${run[@]}" --key "$key" --agent "$(agent 13)" --timeout 2
fast_base=$base
start_emulator --delay-ms 3000 || exit 1
began=$SECONDS
check "--timeout 1 against a server that does not answer exits 1" 1 'phrony-run:' \
  "$phrony_run" --base "$base" --key "$key" --agent "$(agent 7)" --timeout 1
((SECONDS - began <= 3)) || flunk "--timeout 1 ended phrony-run after $((SECONDS - began)) s"
base=$fast_base

# The same checks for phrony-coro (Boost.Beast, coroutines): client_checks LABEL BASE ARGS...
client_checks() {
  local label=$1 b=$2
  shift 2
  local c=("$coro" --base "$b" "$@")
  check "$label: approve, streaming" 0 '"refundApproved":true' \
    "${c[@]}" --key "$key" --agent "$(agent 1)" --approve
  check "$label: approve, polling" 0 '"refundApproved":true' \
    "${c[@]}" --key "$key" --agent "$(agent 1)" --approve --poll
  check "$label: reject, streaming" 0 '"refundApproved":false' \
    "${c[@]}" --key "$key" --agent "$(agent 1)" --reject
  check "$label: the decision is printed" 0 '> decision     reject' \
    "${c[@]}" --key "$key" --agent "$(agent 1)" --reject --poll
  check "$label: option, text and number answers" 0 \
    '{"resolution":"escalate","note":"On it","points":250}' \
    "${c[@]}" --key "$key" --agent "$(agent 2)" --option escalate --text "On it" --number 250
  check "$label: a failing run exits 2" 2 'CRM unavailable' "${c[@]}" --key "$key" --agent "$(agent 6)"
  check "$label: a failing run exits 2 (polling)" 2 'failed' \
    "${c[@]}" --key "$key" --agent "$(agent 6)" --poll
  check "$label: the key may come from PHRONY_API_KEY" 0 '"answer":42' \
    env PHRONY_API_KEY=$key "${c[@]}" --agent "$(agent 7)"
  check "$label: input is sent" 0 '{"input":{"ticket":"ZD-7"}}' \
    "${c[@]}" --key "$key" --agent "$(agent 9)" --input '{"ticket":"ZD-7"}'
  check "$label: no decision for a pending approval exits 1" 1 'no answer given' \
    "${c[@]}" --key "$key" --agent "$(agent 1)"
  check "$label: a wrong key exits 1 and is not printed" 1 'HTTP 401' \
    "${c[@]}" --key phk_wrong_secret_value --agent "$(agent 1)"
  check "$label: an agent out of the key's scope exits 1" 1 'HTTP 403' \
    "${c[@]}" --key phk_emulator_approval_only --agent "$(agent 2)"
  check "$label: an unknown agent exits 1" 1 'HTTP 404' \
    "${c[@]}" --key "$key" --agent 00000000-0000-4000-8000-000000000000
}

if [[ -n $coro ]]; then
  tcp_base=$base
  client_checks "phrony-coro over TCP" "$tcp_base"
  check "phrony-coro: malformed --input is a usage error (64)" 64 'not a JSON object' \
    "$coro" --base "$tcp_base" --key "$key" --agent "$(agent 9)" --input '[1,2'
  check "phrony-coro: an unreachable server exits 1" 1 'phrony-coro: connecting to' \
    "$coro" --base http://127.0.0.1:9 --key "$key" --agent "$(agent 7)"
  check "phrony-coro: --help gives the exit codes" 0 '3 --timeout ended while a task waited' \
    "$coro" --help
  check "phrony-coro: --timeout 2 on a dashboard-only task exits 3" 3 'waiting for a person' \
    "$coro" --base "$tcp_base" --key "$key" --agent "$(agent 13)" --timeout 2
  start_emulator --delay-ms 3000 || exit 1
  began=$SECONDS
  check "phrony-coro: --timeout 1 against a server that does not answer exits 1" 1 \
    'phrony-coro: --timeout (1 s) ended it before the run started' \
    "$coro" --base "$base" --key "$key" --agent "$(agent 7)" --timeout 1
  ((SECONDS - began <= 3)) || flunk "--timeout 1 ended phrony-coro after $((SECONDS - began)) s"

  # 429: an emulator allowing one active session per key; the first run is left waiting.
  start_emulator --max-concurrent 1 || exit 1
  check "phrony-coro: a run left waiting (setting up the 429)" 1 'no answer given' \
    "$coro" --base "$base" --key "$key" --agent "$(agent 1)"
  check "phrony-coro: 429 on start exits 1 and names it" 1 'HTTP 429' \
    "$coro" --base "$base" --key "$key" --agent "$(agent 7)"

  # TLS: a test CA and certificates made now; the emulator serves https.
  certs=$tmp/certs
  bash "$(dirname "$0")/make_test_certs.sh" "$certs" || exit 1
  start_emulator --tls-cert "$certs/server.pem" --tls-key "$certs/server.key" || exit 1
  tls_base=${base/http:/https:}
  client_checks "phrony-coro over TLS" "$tls_base" --ca-file "$certs/ca.pem"
  check "phrony-coro over TLS: by host name (localhost), 5 runs at once" 0 \
    '[5]               completed      {"refundApproved":true' \
    "$coro" --base "${tls_base/127.0.0.1/localhost}" --ca-file "$certs/ca.pem" --key "$key" \
    --agent "$(agent 1)" --approve --runs 5
  check "phrony-coro over TLS: a CA that did not sign the certificate fails" 1 \
    'does not verify: unable to get local issuer certificate' \
    "$coro" --base "$tls_base" --ca-file "$certs/other-ca.pem" --key "$key" --agent "$(agent 7)"
  check "phrony-coro over TLS: the system store does not trust the test CA" 1 \
    'does not verify: unable to get local issuer certificate' \
    "$coro" --base "$tls_base" --key "$key" --agent "$(agent 7)"
  check "phrony-coro over TLS: plain HTTP to the TLS port fails" 1 'phrony-coro: ' \
    "$coro" --base "${tls_base/https:/http:}" --key "$key" --agent "$(agent 7)" --timeout 5
  start_emulator --tls-cert "$certs/wrong-host.pem" --tls-key "$certs/wrong-host.key" || exit 1
  check "phrony-coro over TLS: a certificate for another host fails" 1 \
    "certificate is not valid for 127.0.0.1" \
    "$coro" --base "${base/http:/https:}" --ca-file "$certs/ca.pem" --key "$key" --agent "$(agent 7)"
fi

if ((failures > 0)); then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "all checks passed"
