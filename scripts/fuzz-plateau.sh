#!/usr/bin/env bash
# Runs each fuzz target on its growing corpus until QUIET seconds of fuzzing have found no new
# coverage (the plateau) or MAX seconds are spent, then prints one line per target: runs,
# seconds, executions, coverage (edges), features, corpus size, crashes, plateau.
#
#   scripts/fuzz-plateau.sh [TARGET...]        (all five when none is named)
#   QUIET=300 MAX=2400 scripts/fuzz-plateau.sh cert_load
#   scripts/fuzz-plateau.sh --keep [TARGET...]
#   WORKERS=2 scripts/fuzz-plateau.sh profile_parse
#   COVERAGE=own scripts/fuzz-plateau.sh profile_parse
#
# A run starts from the kept corpus, fuzz/corpora/<target>.tar.xz, when fuzz/corpus/<target> is
# empty, so a new machine goes on where the last run stopped. `--keep` minimises each target's
# corpus (libFuzzer -merge=1: the smallest set with the same coverage) and writes that archive.
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`); libFuzzer needs unstable compiler flags,
# hence RUSTC_BOOTSTRAP. Logs go to fuzz/logs/, the corpus to fuzz/corpus/ (both ignored).
# A target's libFuzzer dictionary, fuzz/dicts/<target>.dict, is used when there is one.
#
# WORKERS (default 1): more libFuzzer processes on the same corpus; the first one is watched and
# takes up what the others find (libFuzzer reloads the corpus directory), and they stop with it.
# The watched process prints each new edge's address (-print_pcs); after the run they are
# symbolised (llvm-symbolizer) and counted by the crate their code comes from, so a table line
# can say whether certprobe's own code is still gaining coverage or only a dependency is.
#
# COVERAGE=own builds with coverage instrumentation in certprobe and the fuzz targets only
# (fuzz/own-coverage-rustc, into fuzz/target-own), so the edges counted, and the plateau, are
# those of certprobe's own code and the generic code instantiated for it; not those of the
# regex compiler or the TOML lexer, which are fuzzed by their own projects. Its corpus is
# corpus-own/<target> (started from the kept corpus), its logs <target>.own.<run>.log; `--keep`
# merges it into the kept corpus with the fully instrumented build.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

keep=no
if [ "${1:-}" = "--keep" ]; then
  keep=yes
  shift
fi
QUIET="${QUIET:-300}"
MAX="${MAX:-2400}"
WORKERS="${WORKERS:-1}"
COVERAGE="${COVERAGE:-all}"
[ "$keep" = no ] || COVERAGE=all
case $COVERAGE in
  all) tdir=target corpus=corpus tag="" ;;
  own)
    export RUSTC_WRAPPER="$PWD/own-coverage-rustc" CARGO_TARGET_DIR="$PWD/target-own"
    tdir=target-own corpus=corpus-own tag=.own
    ;;
  *)
    echo "fuzz-plateau.sh: COVERAGE is all or own, not '$COVERAGE'" >&2
    exit 2
    ;;
esac
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(cert_load pkcs12_load profile_parse page_classify legacy_hello)

export RUSTC_BOOTSTRAP=1
cargo fuzz build -s none -a >/dev/null
mkdir -p logs

if [ "$keep" = yes ]; then
  mkdir -p corpora
  for t in "${targets[@]}"; do
    min="$(mktemp -d)"
    # From a copy: a fuzzer still running on these folders replaces files in them, and a merge
    # that finds a listed file gone starts over without end.
    snap="$(mktemp -d)" dirs=()
    for d in corpus corpus-own; do
      if [ -d "$d/$t" ]; then
        cp -r "$d/$t" "$snap/$d"
        dirs+=("$snap/$d")
      fi
    done
    cargo fuzz run -s none -a "$t" "$min" "${dirs[@]}" "seeds/$t" -- -merge=1 \
      -timeout=10 -rss_limit_mb=2048 >"logs/$t.merge.log" 2>&1
    rm -rf "$snap"
    # Same bytes for the same corpus: names sorted, no times or owners.
    ls "$min" | tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
      -C "$min" -cJf "corpora/$t.tar.xz" -T -
    echo "$t: $(ls "$min" | wc -l) inputs ($(du -sh "$min" | cut -f1)) -> corpora/$t.tar.xz ($(du -h "corpora/$t.tar.xz" | cut -f1))"
    rm -rf "$min"
  done
  exit 0
fi

# The last "cov:" / "ft:" figures libFuzzer printed in a log.
last() { grep -oE "$1: [0-9]+" "$2" | tail -1 | grep -oE '[0-9]+' || echo 0; }
first_inited() { grep -m1 'INITED' "$1" | grep -oE "$2: [0-9]+" | grep -oE '[0-9]+' || echo 0; }
# The edges a run found after loading its corpus, by the crate their code comes from
# ("certprobe" when any inlined frame is in its own src/), with the last execution that found one.
edges_by_crate() { # target log base
  local t=$1 log=$2 base=$3 root pcs
  if ! command -v llvm-symbolizer >/dev/null || [ -z "$base" ]; then
    echo "$t: new edges not attributed (needs llvm-symbolizer, Debian package llvm)"
    return 0
  fi
  root=$(cd .. && pwd)
  pcs=$(mktemp)
  # "execution address" for every NEW_PC line; the status line after them carries the execution.
  awk '/INITED/ { on = 1; next }
       on && $1 == "NEW_PC:" { pending[n++] = $2; next }
       on && /^#[0-9]+/ && n { for (i = 0; i < n; i++) print substr($1, 2), pending[i]; n = 0 }' \
    "$log" >"$pcs"
  echo "$t: $(wc -l <"$pcs") new edges after the corpus was loaded, by crate; executions of the watched process: $(last stat::number_of_executed_units "$log")"
  cut -d' ' -f2 "$pcs" |
    llvm-symbolizer --obj="$tdir/x86_64-unknown-linux-gnu/release/$t" --adjust-vma="$base" |
    awk -v src="$root/src/" -v fz="$root/fuzz/" 'BEGIN { RS = ""; FS = "\n" } {
        for (i = 2; i <= NF; i += 2) if (index($i, src) == 1) { print "certprobe"; next }
        f = $NF # the outermost frame: the function the code was compiled into
        if (f ~ /\/registry\/src\//) {
          sub(/.*\/registry\/src\/[^\/]+\//, "", f); sub(/\/.*/, "", f); sub(/-[0-9].*/, "", f); print f
        } else if (f ~ /\/library\//) { print "std-generic"
        } else if (index(f, fz) == 1) { print "fuzz-target"
        } else { print "unknown" }
      }' | paste -d' ' <(cut -d' ' -f1 "$pcs") - |
    awk '{ n[$2]++; if ($1 > at[$2]) at[$2] = $1 } END {
        for (c in n) printf "%8d  %-20s last at execution %d\n", n[c], c, at[c] }' | sort -nr
  rm -f "$pcs"
}
# Stops a fuzzer: SIGINT, on which libFuzzer prints its final statistics and exits; SIGKILL if
# it is still there 30 s later (seen once: stuck on a lock in its exit after the statistics).
stop() { # pid
  kill -INT "$1" 2>/dev/null || return 0
  for _ in $(seq 30); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 1
  done
  kill -KILL "$1" 2>/dev/null || true
}
# Sum of one figure over all logs of a target.
total() {
  cat logs/"$1$tag".[0-9]*.log | { grep -oE "$2" || true; } | { grep -oE '[0-9]+$' || true; } |
    awk '{ s += $1 } END { print s + 0 }'
}

edges=()
printf '%-18s %5s %7s %12s %13s %7s %7s %8s %s\n' \
  target runs seconds executions cov ft corpus crashes plateau
for t in "${targets[@]}"; do
  mkdir -p "$corpus/$t" "artifacts/$t"
  if [ -z "$(ls -A "$corpus/$t")" ] && [ -f "corpora/$t.tar.xz" ]; then
    tar -C "$corpus/$t" -xJf "corpora/$t.tar.xz"
  fi
  # Earlier runs on the same corpus count too: their logs are kept and numbered on.
  run=$(($(ls logs | grep -cE "^$t$tag\.[0-9]+\.log$" || true) + 1))
  log="logs/$t$tag.$run.log"
  dict=()
  [ -f "dicts/$t.dict" ] && dict=(-dict="dicts/$t.dict")
  artifacts_before=$(ls "artifacts/$t" | wc -l)

  # One libFuzzer process (the corpus is loaded once), watched: it is stopped (SIGINT, which
  # still prints the final statistics) once QUIET seconds of fuzzing brought no new edge.
  bin="$tdir/x86_64-unknown-linux-gnu/release/$t"
  fuzz() { # run in the background: exec makes $! the fuzzer itself
    exec "$bin" -artifact_prefix="artifacts/$t/" -max_total_time="$MAX" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 "${dict[@]}" "$@" "$corpus/$t" "seeds/$t"
  }
  fuzz -print_pcs=1 >"$log" 2>&1 &
  pid=$!
  start=$(date +%s) best=-1 gained=$start plateau=no
  # Where the binary is mapped, to symbolise the printed addresses afterwards.
  base=""
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    base=$(awk -v b="$(readlink -f "$bin")" '$6 == b { split($1, a, "-"); print "0x" a[1]; exit }' \
      "/proc/$pid/maps" 2>/dev/null || true)
    [ -n "$base" ] && break
    sleep 0.2
  done
  others=() other_logs=()
  for ((w = 2; w <= WORKERS; w++)); do
    other_logs+=("logs/$t$tag.$((run + w - 1)).log")
    fuzz >"${other_logs[-1]}" 2>&1 &
    others+=($!)
  done
  while kill -0 "$pid" 2>/dev/null; do
    sleep 5
    now=$(date +%s)
    if ! grep -q INITED "$log"; then
      gained=$now # still loading the corpus
      continue
    fi
    cov=$(last cov <(tail -n 4000 "$log" | grep -v NEW_PC | tail -n 40)) # status lines carry cov
    if [ "$cov" -gt "$best" ]; then
      best=$cov gained=$now
    elif [ $((now - gained)) -ge "$QUIET" ]; then
      plateau=yes
      stop "$pid"
      break
    fi
  done
  rc=0
  wait "$pid" || rc=$?
  echo "certprobe-fuzz: seconds=$(($(date +%s) - start)) exit=$rc base=$base" >>"$log"
  for i in "${!others[@]}"; do
    stop "${others[$i]}"
    orc=0
    wait "${others[$i]}" || orc=$?
    echo "certprobe-fuzz: seconds=$(($(date +%s) - start)) exit=$orc" >>"${other_logs[$i]}"
  done
  crashes=$(($(ls "artifacts/$t" | wc -l) - artifacts_before))
  # 72: libFuzzer's exit code when interrupted (the watcher's SIGINT, or a hand-stopped run);
  # 137: killed by `stop` after its statistics.
  if [ "$crashes" -gt 0 ] || { [ "$rc" -ne 0 ] && [ "$rc" -ne 72 ] && [ "$rc" -ne 137 ]; }; then
    echo "$t: a crash or failure (exit $rc), see fuzz/$log and fuzz/artifacts/$t" >&2
  fi
  # Seconds of each run: the watcher's own line, else libFuzzer's "Done N runs in S second(s)".
  seconds=0
  for f in logs/"$t$tag".[0-9]*.log; do
    s=$(grep -oE 'certprobe-fuzz: seconds=[0-9]+' "$f" || grep -oE 'runs in [0-9]+' "$f" || echo 0)
    seconds=$((seconds + ${s##*[!0-9]}))
  done
  printf '%-18s %5s %7s %12s %13s %7s %7s %8s %s\n' "$t$tag" "$run" "$seconds" \
    "$(total "$t" 'stat::number_of_executed_units: *[0-9]+')" \
    "$(first_inited "$log" cov)->$(last cov "$log")" "$(last ft "$log")" \
    "$(ls "$corpus/$t" | wc -l)" "$crashes" "$plateau"
  edges_by_crate "$t" "$log" "$base" >"logs/$t$tag.$run.edges"
  edges+=("logs/$t$tag.$run.edges")
done
cat "${edges[@]}"
