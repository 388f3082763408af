#!/usr/bin/env bash
# Smoke test of phrony-emulator with nothing but curl: the approval flow, the documented error
# statuses, the SSE stream (live and resumed) and the file upload round trip.
# usage: emulator_smoke.sh path/to/phrony-emulator
# Every curl has --max-time and every loop a bound, so a broken emulator fails the test instead
# of hanging it; the emulator is always stopped (trap).
set -uo pipefail

emulator=${1:?usage: emulator_smoke.sh path/to/phrony-emulator}
tmp=$(mktemp -d)
pid=""
extra_pids=()
cleanup() {
  for p in $pid "${extra_pids[@]}"; do
    kill "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

failures=0
pass() { echo "ok   - $1"; }
flunk() {
  echo "FAIL - $1" >&2
  failures=$((failures + 1))
}
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then pass "$what"; else flunk "$what"; fi
}

key_all=phk_emulator_all
key_no_uploads=phk_emulator_no_uploads
key_approval_only=phk_emulator_approval_only
agent_approval=a1000000-0000-4000-8000-000000000001
agent_tasks=a1000000-0000-4000-8000-000000000002

"$emulator" --port 0 --port-file "$tmp/port" --max-concurrent 3 --verbose >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 100); do
  [[ -s $tmp/port ]] && break
  sleep 0.05
done
if [[ ! -s $tmp/port ]]; then
  echo "FAIL - the emulator did not write its port file" >&2
  exit 1
fi
port=$(cat "$tmp/port")
base="http://127.0.0.1:$port"
for _ in $(seq 100); do
  grep -q "listening on $base" "$tmp/out" && break
  sleep 0.05
done
check "prints its address on stdout" grep -q "^listening on $base\$" "$tmp/out"

# call METHOD PATH KEY [BODY]: sets $status and $body (headers in $tmp/headers).
call() {
  local args=(-sS --max-time 5 -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' -X "$1")
  [[ -n $3 ]] && args+=(-H "X-API-Key: $3")
  [[ $# -ge 4 ]] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
  status=$(curl "${args[@]}" "$base$2") || status=000
  body=$(cat "$tmp/body" 2>/dev/null)
}
field() { # field NAME: the first string value of "NAME" in $body
  grep -o "\"$1\":\"[^\"]*\"" <<<"$body" | head -n 1 | cut -d'"' -f4
}
lacks() { ! grep -q "$1" <<<"$body"; }
lacks_in() { ! grep -q "$2" "$1"; }
expect() { # expect STATUS DESCRIPTION
  if [[ $status == "$1" ]]; then pass "$2 ($1)"; else flunk "$2: want $1, got $status: $body"; fi
}
wait_status() { # wait_status RUN_ID STATUS: poll GET /v1/runs/{id} (at most 5 s)
  for _ in $(seq 100); do
    call GET "/v1/runs/$1" "$key_all"
    [[ $(field status) == "$2" ]] && return 0
    sleep 0.05
  done
  return 1
}

# --- approval flow: start, poll, conversation -> user_task_id, approve, poll -----------------
call POST "/v1/agents/$agent_approval/runs" "$key_all" '{"input":{"ticket":"ZD-1"}}'
expect 202 "start run"
run=$(field runId)
check "start run returns a runId" test -n "$run"
check "run reaches WaitingForHITL" wait_status "$run" WaitingForHITL
call GET "/v1/runs/$run/conversation" "$key_all"
expect 200 "conversation"
task=$(grep -o '"user_task_id":"[^"]*"' <<<"$body" | tail -n 1 | cut -d'"' -f4)
check "conversation holds a pending UserTaskReq" grep -q '"status":"pending"' <<<"$body"
check "full mode carries the stanza" grep -q '"event_id":' <<<"$body"
call GET "/v1/runs/$run/conversation?stepContent=slim" "$key_all"
check "slim mode drops the stanza ids" lacks '"event_id":'
call POST "/v1/runs/$run/messages" "$key_all" "{\"runId\":\"$run\",\"userTaskId\":\"$task\",\"textValue\":\"x\"}"
expect 400 "an approval answered with textValue"
call POST "/v1/runs/$run/messages" "$key_all" "{\"runId\":\"$run\",\"userTaskId\":\"$task\",\"approved\":true}"
expect 202 "approve"
check "run completes" wait_status "$run" Completed
check "output reflects the approval" grep -q '"refundApproved":true' <<<"$body"

# --- error statuses ---------------------------------------------------------------------------
call GET "/v1/runs/$run" ""
expect 401 "missing key"
call GET "/v1/runs/$run" "phk_not_a_key"
expect 401 "unknown key"
check "error bodies are NestJS-style" grep -q '"statusCode":401,"message":' <<<"$body"
call POST "/v1/agents/$agent_tasks/runs" "$key_approval_only" '{}'
expect 403 "agent out of the key's scope"
call POST "/v1/file-library/presign" "$key_no_uploads" '{"filename":"a.txt","mediaType":"text/plain","maxContentLength":10}'
expect 403 "file route with a key lacking uploads"
call GET "/v1/runs/00000000-0000-4000-8000-000000000000" "$key_all"
expect 404 "unknown run"
call POST "/v1/agents/00000000-0000-4000-8000-000000000000/runs" "$key_all" '{}'
expect 404 "unknown agent"
call POST "/v1/agents/$agent_approval/runs" "$key_all" '{"input":'
expect 400 "malformed JSON"
call POST "/v1/runs/$run/messages" "$key_all" '{"runId":"someone-else","text":"hi"}'
expect 400 "runId differing from the path"
call POST "/v1/runs/$run/messages" "$key_all" "{\"runId\":\"$run\"}"
expect 400 "a message with nothing to say"
call POST "/v1/runs/$run/messages" "$key_all" "{\"runId\":\"$run\",\"userTaskId\":\"$task\",\"approved\":true}"
expect 400 "an answer for a run that is not waiting"
call POST "/v1/runs/$run/skip-agent-wait" "$key_all"
expect 400 "skip-agent-wait outside WaitingForTimer"

# --- concurrency limit: 3 active runs per key, the 4th start is refused ----------------------
waiting=()
for i in 1 2 3; do
  call POST "/v1/agents/$agent_approval/runs" "$key_all" '{}'
  expect 202 "start active run $i of 3"
  waiting+=("$(field runId)")
done
call POST "/v1/agents/$agent_approval/runs" "$key_all" '{}'
expect 429 "start beyond --max-concurrent"
check "429 carries Retry-After" grep -qi '^Retry-After: [0-9]' "$tmp/headers"

# --- stream: stays open while the run waits, ends after the session completes ---------------
live=${waiting[0]}
check "live run waits" wait_status "$live" WaitingForHITL
curl -sSN --max-time 10 -H "X-API-Key: $key_all" -o "$tmp/live.sse" "$base/v1/runs/$live/stream" &
streamer=$!
sleep 0.6 # long enough for the backlog and a keepalive comment
call GET "/v1/runs/$live/conversation" "$key_all"
live_task=$(grep -o '"user_task_id":"[^"]*"' <<<"$body" | tail -n 1 | cut -d'"' -f4)
call POST "/v1/runs/$live/input" "$key_all" "{\"runId\":\"$live\",\"userTaskId\":\"$live_task\",\"approved\":false}"
expect 202 "reject through /input"
if wait "$streamer"; then pass "stream ends after the session completes"; else flunk "stream did not end cleanly"; fi
check "stream starts with retry" grep -q '^retry: 1000$' <(head -n 1 "$tmp/live.sse")
check "stream sends keepalive comments" grep -q '^: keepalive$' "$tmp/live.sse"
check "stream events carry ids" grep -q '^id: 1$' "$tmp/live.sse"
check "stream shows the user task" grep -q 'engine.user_task.created' "$tmp/live.sse"
check "stream ends with session.completed" grep -q 'engine.session.completed' <(grep '^data:' "$tmp/live.sse" | tail -n 1)
check "rejected run still completes" wait_status "$live" Completed
check "output reflects the rejection" grep -q '"refundApproved":false' <<<"$body"
last=$(grep '^id: ' "$tmp/live.sse" | tail -n 1 | cut -d' ' -f2)
curl -sSN --max-time 5 -H "X-API-Key: $key_all" -H "Last-Event-ID: $((last - 1))" \
  -o "$tmp/resumed.sse" "$base/v1/runs/$live/stream"
check "Last-Event-ID replays only later events" test "$(grep -c '^data:' "$tmp/resumed.sse")" = 1

# --- dashboard-only tasks: refused through the API, the run keeps waiting ---------------------
agent_firewall=a1000000-0000-4000-8000-000000000013
agent_escalation=a1000000-0000-4000-8000-000000000014
call POST "/v1/agents/$agent_firewall/runs" "$key_all" '{}'
expect 202 "start a run with a firewall review"
fw=$(field runId)
check "firewall run waits in WaitingForHITL" wait_status "$fw" WaitingForHITL
call GET "/v1/runs/$fw/conversation" "$key_all"
fw_task=$(grep -o '"user_task_id":"[^"]*"' <<<"$body" | tail -n 1 | cut -d'"' -f4)
check "the pending task is an anomaly_review" grep -q '"kind":"anomaly_review"' <<<"$body"
call POST "/v1/runs/$fw/messages" "$key_all" "{\"runId\":\"$fw\",\"userTaskId\":\"$fw_task\",\"approved\":true}"
expect 400 "an anomaly_review answered through the API"
sleep 0.1
check "the run still waits after the refused answer" wait_status "$fw" WaitingForHITL
curl -sS --max-time 5 -o "$tmp/requests.json" "$base/_emulator/requests"
check "the request log holds the refused answer" \
  grep -q "\"method\":\"POST\",\"path\":\"/v1/runs/$fw/messages\",\"status\":400" "$tmp/requests.json"
check "the request log leaves out its own route" lacks_in "$tmp/requests.json" '/_emulator/'
call POST "/_emulator/runs/$live/dashboard-answer" "" '{}'
expect 400 "dashboard-answer for a run without a dashboard task"
call POST "/_emulator/runs/$fw/dashboard-answer" "" '{"allow":false}'
expect 202 "dashboard-answer"
check "the run completes after the dashboard answer" wait_status "$fw" Completed
check "its output holds the dashboard's outcome" grep -q '"review":{"allow":false}' <<<"$body"

call POST "/v1/agents/$agent_escalation/runs" "$key_all" '{}'
expect 202 "start a run whose sub-agent escalates"
esc=$(field runId)
check "the root waits in WaitingForAITL" wait_status "$esc" WaitingForAITL
call GET "/v1/runs/$esc/conversation" "$key_all"
esc_task=$(grep -o '"user_task_id":"[^"]*"' <<<"$body" | tail -n 1 | cut -d'"' -f4)
esc_child=$(grep -oE '"runId":"[^"]*","id":"[^"]*","sequence":[0-9]+,"ordinal":[0-9]+,"type":"UserTaskReq"' \
  <<<"$body" | cut -d'"' -f4)
check "the task is the sub-agent's" test -n "$esc_child" -a "$esc_child" != "$esc"
check "the escalation is the sub-agent's aitl_escalation" grep -q '"kind":"aitl_escalation"' <<<"$body"
call POST "/v1/runs/$esc_child/messages" "$key_all" "{\"runId\":\"$esc_child\",\"userTaskId\":\"$esc_task\",\"textValue\":\"clause 9\"}"
expect 400 "an aitl_escalation answered through the sub-agent's run"
call POST "/_emulator/runs/$esc/dashboard-answer" ""
expect 202 "dashboard-answer through the root run"
check "the escalating run completes" wait_status "$esc" Completed
check "its output holds the default outcome" grep -q '"decision":{"resolved":true}' <<<"$body"

# --- files: presign -> PUT -> finalize (twice) ------------------------------------------------
printf 'hello, phrony' >"$tmp/file.txt"
call POST "/v1/file-library/presign" "$key_all" '{"filename":"hello.txt","mediaType":"text/plain","maxContentLength":1000}'
expect 200 "presign"
object_key=$(field objectKey)
upload_url=$(field uploadUrl)
signature=$(field x-amz-meta-phrony-signature)
check "uploadUrl points at the emulator" grep -q "^$base/upload/" <<<"$upload_url"
put_status=$(curl -sS --max-time 5 -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: text/plain' \
  --data-binary @"$tmp/file.txt" "$upload_url")
check "PUT without the required signature header is refused (403)" test "$put_status" = 403
call POST "/v1/file-library/finalize" "$key_all" "{\"objectKey\":\"$object_key\",\"maxContentLength\":1000}"
expect 400 "finalize before anything was uploaded"
put_status=$(curl -sS --max-time 5 -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: text/plain' \
  -H "x-amz-meta-phrony-signature: $signature" --data-binary @"$tmp/file.txt" "$upload_url")
check "PUT with every required header (200)" test "$put_status" = 200
call POST "/v1/file-library/finalize" "$key_all" "{\"objectKey\":\"$object_key\",\"maxContentLength\":1000}"
expect 200 "finalize"
check "sizeBytes is a decimal string" grep -q '"sizeBytes":"13"' <<<"$body"
check "first finalize is not alreadyFinalized" grep -q '"alreadyFinalized":false' <<<"$body"
call POST "/v1/file-library/finalize" "$key_all" "{\"objectKey\":\"$object_key\",\"maxContentLength\":1000}"
expect 200 "finalize again"
check "second finalize is alreadyFinalized" grep -q '"alreadyFinalized":true' <<<"$body"
call POST "/v1/file-library/finalize" "$key_all" "{\"objectKey\":\"$object_key\",\"maxContentLength\":5}"
expect 400 "finalize with a size above maxContentLength"

# --- clean shutdown, no secrets in the logs ---------------------------------------------------
kill -TERM "$pid"
stopped=1
for _ in $(seq 100); do
  if ! kill -0 "$pid" 2>/dev/null; then
    stopped=0
    break
  fi
  sleep 0.05
done
check "stops on SIGTERM within 5 s" test "$stopped" = 0
if wait "$pid"; then pass "exits 0 after SIGTERM"; else flunk "exit status after SIGTERM"; fi
pid=""
check "never prints API keys" test -z "$(grep -l phk_ "$tmp/out" "$tmp/err")"

# --- stream payload spellings: --camel-case-events, --no-event-status --------------------------
# stream_with FLAGS...: a fresh emulator with FLAGS runs the Instant Answer agent to its end;
# its stream goes to $tmp/spelt.sse.
stream_with() {
  rm -f "$tmp/port2"
  "$emulator" --port 0 --port-file "$tmp/port2" "$@" >/dev/null 2>&1 &
  extra_pids+=($!)
  for _ in $(seq 100); do
    [[ -s $tmp/port2 ]] && break
    sleep 0.05
  done
  local b r
  b=http://127.0.0.1:$(cat "$tmp/port2")
  r=$(curl -sS --max-time 5 -X POST -H "X-API-Key: $key_all" "$b/v1/agents/a1000000-0000-4000-8000-000000000007/runs" |
    grep -o '"runId":"[^"]*"' | cut -d'"' -f4)
  curl -sSN --max-time 5 -H "X-API-Key: $key_all" -o "$tmp/spelt.sse" "$b/v1/runs/$r/stream"
}
payloads() { grep "\"subject\":\"engine\.$1\." "$tmp/spelt.sse"; } # payloads run|session|step
stream_with
check "default: run events say run_id and status" grep -q '"data":{"run_id":.*"status":"Completed"' <(payloads run)
stream_with --camel-case-events
check "camelCase: run events say runId, parentRunId" grep -q '"data":{"runId":"[^"]*","sessionId":"[^"]*",.*"parentRunId":null' <(payloads run)
check "camelCase: run and session events keep no snake_case key" \
  test -z "$(cat <(payloads run) <(payloads session) | grep -E '_id"|_used"|_model"')"
check "camelCase: session.completed says status and totalTokensUsed" \
  grep -q '"data":{"sessionId":"[^"]*","status":"Completed",.*"totalTokensUsed":' <(payloads session)
check "camelCase: step events too, but not inside their content" \
  grep -q '"data":{"stepId":"[^"]*","runId":"[^"]*","sessionId":"[^"]*","type":"output",.*"tokensUsed":.*"content":{"run_id":' <(payloads step)
check "camelCase: the envelope keeps ts, kind, subject" grep -q '^data: {"ts":"[^"]*","kind":"run","subject":"engine.run.started"' "$tmp/spelt.sse"
stream_with --no-event-status
check "no status: run and session events carry none" test -z "$(cat <(payloads run) <(payloads session) | grep '"status"')"
check "no status: the ids stay" grep -q '"data":{"run_id":' <(payloads run)
check "no status: the stream still ends with session.completed" grep -q 'engine.session.completed' <(grep '^data:' "$tmp/spelt.sse" | tail -n 1)

if ((failures > 0)); then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "all checks passed"
