#!/usr/bin/env bash
# Runs the Rust test suite of crates/corio (unit + integration tests, without loom) under
# valgrind memcheck: any invalid read/write, use of uninitialised memory, bad free, or
# *definite* leak makes the run fail.
#
# Why valgrind: it needs no nightly toolchain (LeakSanitizer/AddressSanitizer need
# `-Zsanitizer`) and checks the very debug binaries `cargo test` builds.
#
#   bash scripts/memcheck.sh                # every test binary, 2 test threads
#   bash scripts/memcheck.sh tcp_net udp    # only binaries whose name starts with these
#   bash scripts/memcheck.sh --node         # instead: node (--jitless) running a small echo
#                                           # over the built addon (npm run build:native first)
#
# A failing binary is reported as "valgrind errors" (memcheck found something: exit 99) or
# "tests failed" (libtest's 101: a test failed, typically one too slow under valgrind).
#
# Environment:
#   MEMCHECK_TEST_THREADS  libtest --test-threads (default 2; valgrind runs one thread at a time
#                          anyway, more only adds contention)
#   MEMCHECK_TIMEOUT       seconds allowed per test binary (default 1800)
#   MEMCHECK_LOG_DIR       where valgrind logs go (default target/memcheck)
#   CARGO_TARGET_DIR       as for cargo (default: the shared target/, debug profile)
#
# Not covered, on purpose:
# - doc tests (rustdoc compiles and runs each in its own process; they exercise the same code
#   as the unit tests and would multiply the valgrind start-up cost by hundreds);
# - loom models (`scripts/test-loom.sh`; they replace std's atomics and threads by loom's);
# - child processes a test spawns (net_faults re-runs itself under a low `ulimit -n`, where
#   valgrind's own descriptors would change what is measured); the parent side is checked.
#
# Leak policy: only `definite` leaks are errors and shown. "still reachable" and "possibly
# lost" blocks at exit are expected in a test binary: runtime worker threads, libtest's
# threads and std's thread-locals (e.g. the output capture) are still alive or not yet
# destroyed when `main` returns, and their memory is reachable through their stacks. A corio
# object that nobody can reach any more (a task or a ScheduledIo whose refcount never hits 0)
# is a definite leak and fails the run. The Rust tests use no suppression at all; the --node
# run suppresses two things that are not corio's (in the --node branch below, with reasons).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v valgrind >/dev/null || { echo "memcheck: valgrind is not installed" >&2; exit 2; }

threads=${MEMCHECK_TEST_THREADS:-2}
per_bin_timeout=${MEMCHECK_TIMEOUT:-1800}
target_dir=${CARGO_TARGET_DIR:-target}
logdir=${MEMCHECK_LOG_DIR:-$target_dir/memcheck}
mkdir -p "$logdir"
vg_common=(--tool=memcheck --error-exitcode=99 --leak-check=full
  --errors-for-leak-kinds=definite --show-leak-kinds=definite --num-callers=40)

if [[ ${1:-} == --node ]]; then
  # Node itself under valgrind: slow (minutes) and only meaningful for the addon's frames, so
  # it is a separate, opt-in run over one small script. --jitless: no JIT code for valgrind to
  # re-translate; the addon's native code is the same.
  rm -f "$logdir"/node.vg.*
  supp="$logdir/node.supp"
  cat >"$supp" <<'SUPP'
# V8's garbage collector scans the machine stack conservatively, reading stack words that were
# never written; memcheck reports each such read as a conditional jump on uninitialised data.
{
   v8-conservative-stack-scan
   Memcheck:Cond
   fun:*IteratePointersInStack*
}
# napi-rs keeps one reference per #[napi] class constructor (napi_create_reference at module
# registration) for the whole life of the Node environment; the main environment is not torn
# down at process exit, so those references (40 bytes per class, once per process) are never
# deleted. Not a per-socket or per-operation allocation.
{
   napi-rs-class-constructor-references
   Memcheck:Leak
   match-leak-kinds: definite
   fun:_Znwm
   fun:napi_create_reference
   fun:napi_register_module_v1
}
SUPP
  t0=$(date +%s)
  status=0
  timeout -k 10 "${MEMCHECK_TIMEOUT:-1800}" valgrind "${vg_common[@]}" --fair-sched=yes \
    --suppressions="$supp" --log-file="$logdir/node.vg.%p" \
    node --jitless --expose-gc __test__/fixtures/leak-valgrind-echo.js || status=$?
  log=$(ls "$logdir"/node.vg.* | head -1)
  grep -E 'ERROR SUMMARY|definitely lost' "$log" | sed 's/^==[0-9]*== /memcheck (node): /'
  echo "memcheck (node): $(($(date +%s) - t0))s wall, exit $status, log $log"
  exit "$status"
fi

rm -f "$logdir"/*.vg.* "$logdir"/*.out
start=$(date +%s)
echo "memcheck: building test binaries (cargo test -p corio --lib --tests --no-run)"
mapfile -t exes < <(
  cargo test -p corio --lib --tests --no-run --message-format=json-render-diagnostics |
    jq -r 'select(.reason == "compiler-artifact" and .executable != null) | .executable'
)

total_tests=0
ran=0
failed=()
for exe in "${exes[@]}"; do
  name=$(basename "$exe")
  name=${name%-*} # strip cargo's hash
  if (($# > 0)); then
    want=0
    for p in "$@"; do [[ $name == "$p"* ]] && want=1; done
    ((want)) || continue
  fi
  ran=$((ran + 1))
  t0=$(date +%s)
  status=0
  # --fair-sched=yes: valgrind runs one thread at a time; the fair scheduler hands the CPU
  # round-robin so a spinning/parking worker cannot starve the thread it waits for.
  RUST_BACKTRACE=0 timeout -k 10 "$per_bin_timeout" valgrind "${vg_common[@]}" \
    --fair-sched=yes --log-file="$logdir/$name.vg.%p" \
    "$exe" --test-threads="$threads" >"$logdir/$name.out" 2>&1 || status=$?
  t1=$(date +%s)
  passed=$(grep -ho 'test result: [A-Za-z]*\. [0-9]* passed' "$logdir/$name.out" | grep -o '[0-9]*' | paste -sd+ | bc || true)
  passed=${passed:-0}
  total_tests=$((total_tests + passed))
  vglog=$(ls "$logdir/$name".vg.* 2>/dev/null | head -1)
  errs=$(grep -ho 'ERROR SUMMARY: [0-9]*' "$logdir/$name".vg.* 2>/dev/null | grep -o '[0-9]*' | paste -sd+ | bc || true)
  def=$(grep -ho 'definitely lost: [0-9,]* bytes' "$logdir/$name".vg.* 2>/dev/null | tr -d , | grep -o '[0-9]*' | paste -sd+ | bc || true)
  printf 'memcheck: %-22s %4ss  tests passed %3s  errors %s  definitely lost %s bytes  exit %s\n' \
    "$name" $((t1 - t0)) "$passed" "${errs:-0}" "${def:-0}" "$status"
  if ((status != 0)); then
    case $status in
      99) why="valgrind errors" ;;
      101) why="tests failed" ;;
      124 | 137) why="timed out" ;;
      *) why="exit $status" ;;
    esac
    failed+=("$name ($why)")
    echo "  test output: $logdir/$name.out   valgrind log: ${vglog:-none}"
  fi
done

end=$(date +%s)
echo "memcheck: $ran binaries, $total_tests tests passed, $((end - start))s wall"
if ((${#failed[@]})); then
  printf 'memcheck: FAILED: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "memcheck: clean (no memcheck errors, no definite leaks)"
