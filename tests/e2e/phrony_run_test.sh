#!/usr/bin/env bash
# phrony-run (and phrony-asio-stream, when given) against phrony-emulator: exit statuses, the
# decisions and outputs they print, and the API key never appearing in what they print.
# usage: phrony_run_test.sh path/to/phrony-emulator path/to/phrony-run [path/to/phrony-asio-stream]
set -uo pipefail
emulator=${1:?usage: phrony_run_test.sh EMULATOR PHRONY_RUN [ASIO_STREAM]}
phrony_run=${2:?usage: phrony_run_test.sh EMULATOR PHRONY_RUN [ASIO_STREAM]}
asio=${3:-}
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
check "malformed --input exits 1" 1 'not a JSON object' \
  "${run[@]}" --key "$key" --agent "$(agent 9)" --input '[1,2'
check "an unreachable server exits 1" 1 'phrony-run:' \
  "$phrony_run" --base http://127.0.0.1:9 --key "$key" --agent "$(agent 7)"

if [[ -n $asio ]]; then
  check "Boost.Asio: stream and approve on one thread" 0 '"refundApproved":true' \
    "$asio" --base "$base" --key "$key" --agent "$(agent 1)"
  check "Boost.Asio: reject" 0 '"refundApproved":false' \
    "$asio" --base "$base" --key "$key" --agent "$(agent 1)" --reject
  check "Boost.Asio: a failed run exits 2" 2 'Failed' \
    "$asio" --base "$base" --key "$key" --agent "$(agent 6)"
fi

if ((failures > 0)); then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "all checks passed"
