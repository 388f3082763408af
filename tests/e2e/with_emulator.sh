# Sourced by the end-to-end scripts: start_emulator [FLAGS...] starts phrony-emulator ($emulator)
# on a free loopback port and sets $base; it is stopped on exit, whatever happens.
# The caller sets $emulator and $tmp (a scratch directory it owns).
emulator_pids=()
stop_emulators() {
  for p in "${emulator_pids[@]}"; do
    kill "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  emulator_pids=()
}
trap 'stop_emulators; rm -rf "$tmp"' EXIT

start_emulator() {
  local port_file
  port_file=$(mktemp -u "$tmp/port.XXXXXX")
  "$emulator" --port 0 --port-file "$port_file" "$@" >"$port_file.log" 2>&1 &
  emulator_pids+=($!)
  for _ in $(seq 100); do # at most 5 s
    [[ -s $port_file ]] && break
    sleep 0.05
  done
  if [[ ! -s $port_file ]]; then
    echo "phrony-emulator did not start:" >&2
    cat "$port_file.log" >&2
    return 1
  fi
  base="http://127.0.0.1:$(cat "$port_file")"
}
