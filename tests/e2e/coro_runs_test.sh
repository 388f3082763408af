#!/usr/bin/env bash
# phrony-coro --runs N: N runs of an agent with three user tasks, followed concurrently on one
# thread (one io_context), polled and streamed. Checks every run completed with the right output,
# the runs were under way together (several "started" lines before the first "completed"), the
# process never had a second thread, and the emulator got exactly 3 answers per run (one per
# task, GET /_emulator/requests), and no key is printed.
# usage: coro_runs_test.sh path/to/phrony-emulator path/to/phrony-coro [N]
set -uo pipefail
emulator=${1:?usage: coro_runs_test.sh EMULATOR PHRONY_CORO [N]}
coro=${2:?usage: coro_runs_test.sh EMULATOR PHRONY_CORO [N]}
n=${3:-20}
tmp=$(mktemp -d)
source "$(dirname "$0")/with_emulator.sh"
key=phk_emulator_all
agent=a1000000-0000-4000-8000-000000000002
want='{"resolution":"escalate","note":"On it","points":250}'
failures=0

for mode in --poll --stream; do
  start_emulator || exit 1
  t0=$(date +%s%N)
  timeout 60 "$coro" --base "$base" --key "$key" --agent "$agent" "$mode" --runs "$n" \
    --option escalate --text "On it" --number 250 >"$tmp/out" 2>&1 &
  pid=$!
  threads=0
  while kill -0 "$pid" 2>/dev/null; do # the most threads phrony-coro had (timeout's child)
    c=$(pgrep -P "$pid" | head -n 1)
    if [[ -n $c ]]; then
      t=$(ls "/proc/$c/task" 2>/dev/null | wc -l)
      ((t > threads)) && threads=$t
    fi
    sleep 0.02
  done
  wait "$pid"
  got=$?
  ms=$((($(date +%s%N) - t0) / 1000000))
  log=$(curl -sS --max-time 5 "$base/_emulator/requests")
  stop_emulators
  why=""
  [[ $got == 0 ]] || why="exit $got, want 0"
  done_runs=$(grep -cF "completed      $want" "$tmp/out")
  [[ $done_runs == "$n" ]] || why="$why; $done_runs of $n runs completed"
  tags=$(grep -oE '^\[[0-9]+\] +completed' "$tmp/out" | grep -oE '^\[[0-9]+\]' | sort -u | wc -l)
  [[ $tags == "$n" ]] || why="$why; completions from $tags distinct runs, want $n"
  together=$(sed -n '/^\[[0-9]*\] *completed/q;p' "$tmp/out" | grep -cE '^\[[0-9]+\] +started')
  # Not all n: the emulator's cpp-httplib listens with a backlog of 5, so some connects wait
  # for a SYN retry (1 s) while the first runs go ahead.
  ((together >= 2)) || why="$why; only $together run(s) started before the first completed"
  ((threads == 1)) || why="$why; phrony-coro had $threads threads, want 1"
  starts=$(grep -oE '"method":"POST","path":"/v1/agents/[^"]*/runs"' <<<"$log" | wc -l)
  [[ $starts == "$n" ]] || why="$why; the emulator got $starts starts, want $n"
  answers=$(grep -oE '"method":"POST","path":"/v1/runs/[^"]*/messages"' <<<"$log")
  total=$(wc -l <<<"$answers")
  [[ $total == $((3 * n)) ]] || why="$why; the emulator got $total answers, want $((3 * n))"
  per_run=$(sort <<<"$answers" | uniq -c | awk '{print $1}' | sort -u | tr '\n' ' ')
  [[ $per_run == "3 " ]] || why="$why; answers per run: $per_run(want 3 each)"
  ! grep -q 'phk_' "$tmp/out" || why="$why; OUTPUT SHOWS AN API KEY"
  if [[ -z $why ]]; then
    echo "ok   - $n runs at once on one thread, $mode (${ms} ms; $together started before one completed)"
  else
    echo "FAIL - $n runs at once on one thread, $mode (${ms} ms): ${why#; }" >&2
    tail -n 20 "$tmp/out" | sed 's/^/       | /' >&2
    failures=$((failures + 1))
  fi
done
((failures == 0)) || exit 1
echo "all checks passed"
