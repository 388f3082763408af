#!/usr/bin/env bash
# The follow matrix (issue 9, item 2): every flow phrony-run follows, polled and streamed, against
# an emulator that spells the stream's `data` payloads three ways (snake_case as the fixtures,
# camelCase as a server written from the docs alone, no run/session `status` at all), and
# dashboard-only tasks, which a client must never answer through the API; all of it through
# phrony-run and, when given, phrony-coro (Boost.Beast and coroutines, the same flags).
#
# usage: follow_matrix.sh path/to/phrony-emulator path/to/phrony-run [path/to/phrony-coro]
#
# Every cell gets a fresh emulator (ids are deterministic, so cells do not disturb each other),
# every client runs under `timeout 20`, and each cell checks the client's exit status, the line
# that proves the outcome, that no API key is printed, and how many answers the emulator received
# (GET /_emulator/requests): exactly one per user task, none for a dashboard-only task.
# PHRONY_E2E_JOBS sets how many cells run at once (default 6: clients mostly wait).
set -uo pipefail
emulator=${1:?usage: follow_matrix.sh EMULATOR PHRONY_RUN [PHRONY_CORO]}
phrony_run=${2:?usage: follow_matrix.sh EMULATOR PHRONY_RUN [PHRONY_CORO]}
coro=${3:-}
jobs_max=${PHRONY_E2E_JOBS:-6}
tmp=$(mktemp -d)
# Cells stop their own emulators; this is for an interrupted run (each cell leaves its pid file).
cleanup() {
  local p
  for p in "$tmp"/*/emulator.pid; do
    [[ -e $p ]] && kill "$(cat "$p")" 2>/dev/null
  done
  local running
  mapfile -t running < <(jobs -p)
  ((${#running[@]} == 0)) || kill "${running[@]}" 2>/dev/null
  wait
  rm -rf "$tmp"
}
trap cleanup EXIT

key=phk_emulator_all
agent() { printf 'a1000000-0000-4000-8000-%012d' "$1"; }
# How phrony-run is told to stop waiting (on a dashboard-only task) after N seconds.
wait_limit=(--timeout)
declare -A spelling_flags=([snake]="" [camel]="--camel-case-events" [nostatus]="--no-event-status")

# One cell, in its own subshell: cell ID NAME SPELLING WANT_EXIT WANT_TEXT WANT_ANSWERS MIN_SECONDS
# DASHBOARD -- COMMAND... where WANT_EXIT is a status or "nonzero" (but not 124, timeout's own),
# WANT_ANSWERS counts POST .../messages|input requests, MIN_SECONDS is how long the client must
# at least have waited, DASHBOARD=yes answers the task in the "dashboard" once the run waits, and
# COMMAND's "@BASE@" becomes the emulator's URL. Writes $tmp/ID/verdict: "ok (T ms)" or
# "FAIL (T ms): why".
cell() {
  local id=$1 name=$2 spelling=$3 want=$4 text=$5 answers=$6 min_s=$7 dashboard=$8
  shift 9
  local dir=$tmp/$id
  mkdir -p "$dir"
  echo "$name" >"$dir/name"
  # shellcheck disable=SC2086 # the flags are one word or none
  "$emulator" --port 0 --port-file "$dir/port" ${spelling_flags[$spelling]} >"$dir/emulator.log" 2>&1 &
  local emu=$!
  echo "$emu" >"$dir/emulator.pid"
  for _ in $(seq 100); do
    [[ -s $dir/port ]] && break
    sleep 0.05
  done
  if [[ ! -s $dir/port ]]; then
    echo "FAIL (0 ms): the emulator did not start" >"$dir/verdict"
    kill "$emu" 2>/dev/null
    return
  fi
  local base
  base=http://127.0.0.1:$(cat "$dir/port")
  local cmd=("${@//@BASE@/$base}")
  local person=""
  if [[ $dashboard == yes ]]; then
    answer_in_dashboard "$base" "$dir/out" &
    person=$!
  fi
  local t0 t1 got
  t0=$(date +%s%N)
  timeout 20 "${cmd[@]}" >"$dir/out" 2>&1
  got=$?
  t1=$(date +%s%N)
  [[ -n $person ]] && wait "$person"
  local log sent
  log=$(curl -sS --max-time 5 "$base/_emulator/requests")
  sent=$(grep -oE '"method":"POST","path":"/v1/runs/[^"]*/(messages|input)"' <<<"$log" | wc -l)
  kill "$emu" 2>/dev/null
  wait "$emu" 2>/dev/null
  rm -f "$dir/emulator.pid"
  local elapsed=$(((t1 - t0) / 1000000))
  local why=""
  if [[ $want == nonzero ]]; then
    [[ $got != 0 && $got != 124 ]] || why="exit $got, want a non-zero status of its own"
  else
    [[ $got == "$want" ]] || why="exit $got, want $want"
  fi
  [[ $got != 124 ]] || why="$why (killed after 20 s)"
  grep -qF -- "$text" "$dir/out" || why="$why; output lacks: $text"
  ! grep -q 'phk_' "$dir/out" || why="$why; OUTPUT SHOWS AN API KEY"
  [[ $sent == "$answers" ]] || why="$why; the emulator got $sent answer(s), want $answers"
  ((elapsed >= min_s * 1000)) || why="$why; gave up after ${elapsed} ms, before ${min_s} s"
  if [[ -z $why ]]; then
    echo "ok (${elapsed} ms)" >"$dir/verdict"
  else
    echo "FAIL (${elapsed} ms): ${why#; }" >"$dir/verdict"
  fi
}

# A person completing the dashboard-only task: once the run printed by the client waits (and the
# client had a second to look at it), POST /_emulator/runs/{id}/dashboard-answer.
answer_in_dashboard() {
  local base=$1 out=$2 run=""
  for _ in $(seq 100); do
    run=$(grep -oE 'run [0-9a-f-]{36}' "$out" 2>/dev/null | head -n 1 | cut -d' ' -f2)
    [[ -n $run ]] && break
    sleep 0.05
  done
  [[ -n $run ]] || return
  for _ in $(seq 100); do
    curl -sS --max-time 2 -H "X-API-Key: $key" "$base/v1/runs/$run" | grep -q '"status":"Waiting' && break
    sleep 0.05
  done
  sleep 1
  curl -sS --max-time 2 -o /dev/null -X POST "$base/_emulator/runs/$run/dashboard-answer"
}

n=0
# spawn CELL-ARGS...: runs a cell in the background, at most $jobs_max at once.
spawn() {
  while (($(jobs -rp | wc -l) >= jobs_max)); do
    wait -n
  done
  n=$((n + 1))
  cell "$(printf '%03d' "$n")" "$@" &
}

# flow name, agent, expected output, answers, phrony-run arguments (one string, split on spaces)
flows=(
  "approve|1|\"refundApproved\":true|1|--approve --transport curl"
  "reject|1|\"refundApproved\":false|1|--reject --transport httplib"
  "option|10|{\"resolution\":\"store_credit\"}|1|--option store_credit --transport curl"
  "text|11|{\"note\":\"Thanks\"}|1|--text Thanks --transport httplib"
  "three tasks|2|{\"resolution\":\"escalate\",\"note\":\"On\",\"points\":250}|3|--option escalate --text On --number 250 --transport curl"
  "sub-agent approval|5|\"creditNoteApproved\":true|1|--approve --transport httplib"
  "timer 60 s (skipped)|4|{\"tracking\":\"delivered\"}|0|--transport curl"
  "timer 2 s|12|{\"rested\":true}|0|--transport httplib"
)
# Answers a naive client could send to a dashboard-only task: none may be sent.
tempting=(--approve --option refund --text ok --number 1)

clients=("$phrony_run")
[[ -n $coro ]] && clients+=("$coro")
for client in "${clients[@]}"; do
  prog=$(basename "$client")
  for spelling in snake camel nostatus; do
    for mode in --poll --stream; do
      for f in "${flows[@]}"; do
        IFS='|' read -r name agent_n text answers args <<<"$f"
        read -ra args <<<"$args"
        # phrony-coro has one HTTP stack: the --transport choice is phrony-run's alone.
        [[ $prog == phrony-run ]] || args=("${args[@]:0:${#args[@]}-2}")
        spawn "$prog $mode, $spelling: $name" "$spelling" 0 "$text" "$answers" 0 no -- \
          "$client" --base @BASE@ --key "$key" --agent "$(agent "$agent_n")" "$mode" "${args[@]}"
      done
      for d in "13|firewall review (anomaly_review)" "14|sub-agent escalation (aitl_escalation)"; do
        IFS='|' read -r agent_n what <<<"$d"
        spawn "$prog $mode, $spelling: $what, nobody answers" "$spelling" nonzero dashboard 0 3 no -- \
          "$client" --base @BASE@ --key "$key" --agent "$(agent "$agent_n")" "$mode" \
          "${tempting[@]}" "${wait_limit[@]}" 3
      done
      spawn "$prog $mode, $spelling: firewall review answered in the dashboard" "$spelling" 0 \
        '{"review":{"resolved":true}}' 0 0 yes -- \
        "$client" --base @BASE@ --key "$key" --agent "$(agent 13)" "$mode" "${tempting[@]}" \
        "${wait_limit[@]}" 15
    done
  done
done
wait

failures=0
for dir in "$tmp"/[0-9][0-9][0-9]; do
  verdict=$(cat "$dir/verdict" 2>/dev/null || echo "FAIL (?): no verdict")
  if [[ $verdict == ok* ]]; then
    echo "ok   - $(cat "$dir/name") ${verdict#ok }"
  else
    echo "FAIL - $(cat "$dir/name") ${verdict#FAIL }" >&2
    tail -n 8 "$dir/out" 2>/dev/null | sed 's/^/       | /' >&2
    failures=$((failures + 1))
  fi
done
if ((failures > 0)); then
  echo "$failures of $n cell(s) failed" >&2
  exit 1
fi
echo "all $n cells passed"
