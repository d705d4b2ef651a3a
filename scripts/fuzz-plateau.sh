#!/usr/bin/env bash
# Runs each fuzz target in rounds on its growing corpus until a whole round finds no new
# coverage (the plateau) or the time allowed for the target is spent, then prints one line per
# target: rounds, seconds, executions, coverage (edges), features, corpus size, crashes.
#
#   scripts/fuzz-plateau.sh [TARGET...]        (all five when none is named)
#   ROUND=300 MAX=2400 scripts/fuzz-plateau.sh cert_load
#   scripts/fuzz-plateau.sh --keep [TARGET...]
#
# A run starts from the kept corpus, fuzz/corpora/<target>.tar.xz, when fuzz/corpus/<target> is
# empty, so a new machine goes on where the last run stopped. `--keep` minimises each target's
# corpus (libFuzzer -merge=1: the smallest set with the same coverage) and writes that archive.
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`); libFuzzer needs unstable compiler flags,
# hence RUSTC_BOOTSTRAP. Logs go to fuzz/logs/, the corpus to fuzz/corpus/ (both ignored).
# A target's libFuzzer dictionary, fuzz/dicts/<target>.dict, is used when there is one.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

keep=no
if [ "${1:-}" = "--keep" ]; then
  keep=yes
  shift
fi
ROUND="${ROUND:-300}"
MAX="${MAX:-2400}"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(cert_load pkcs12_load profile_parse page_classify legacy_hello)

export RUSTC_BOOTSTRAP=1
cargo fuzz build -s none -a >/dev/null
mkdir -p logs

if [ "$keep" = yes ]; then
  mkdir -p corpora
  for t in "${targets[@]}"; do
    min="$(mktemp -d)"
    cargo fuzz run -s none -a "$t" "$min" "corpus/$t" "seeds/$t" -- -merge=1 \
      -timeout=10 -rss_limit_mb=2048 >"logs/$t.merge.log" 2>&1
    # Same bytes for the same corpus: names sorted, no times or owners.
    ls "$min" | tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
      -C "$min" -cJf "corpora/$t.tar.xz" -T -
    echo "$t: $(ls "$min" | wc -l) inputs ($(du -sh "$min" | cut -f1)) -> corpora/$t.tar.xz ($(du -h "corpora/$t.tar.xz" | cut -f1))"
    rm -rf "$min"
  done
  exit 0
fi

# The last "cov:" / "ft:" / "corp:" figures libFuzzer printed in a log.
last() { grep -oE "$1: [0-9]+" "$2" | tail -1 | grep -oE '[0-9]+' || echo 0; }
first_inited() { grep -m1 'INITED' "$1" | grep -oE "$2: [0-9]+" | grep -oE '[0-9]+' || echo 0; }

printf '%-14s %6s %7s %12s %6s %7s %7s %8s %s\n' target rounds seconds executions cov ft corpus crashes plateau
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  if [ -z "$(ls -A "corpus/$t")" ] && [ -f "corpora/$t.tar.xz" ]; then
    tar -C "corpus/$t" -xJf "corpora/$t.tar.xz"
  fi
  # Rounds of earlier runs on the same corpus count too: their logs are kept and numbered on.
  round=$(ls logs | grep -cE "^$t\.[0-9]+\.log$" || true)
  spent=$((round * ROUND)) plateau=no crashes=0
  limit=$((spent + MAX))
  while [ "$spent" -lt "$limit" ]; do
    round=$((round + 1))
    log="logs/$t.$round.log"
    dict=()
    [ -f "dicts/$t.dict" ] && dict=(-dict="dicts/$t.dict")
    if ! cargo fuzz run -s none -a "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$ROUND" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        "${dict[@]}" >"$log" 2>&1; then
      crashes=$((crashes + 1))
      echo "$t: a crash or failure, see fuzz/$log and fuzz/artifacts/$t" >&2
      break
    fi
    spent=$((spent + ROUND))
    # Coverage when the corpus was loaded against coverage at the end of the round.
    start_cov=$(first_inited "$log" cov)
    end_cov=$(last cov "$log")
    if [ "$end_cov" -le "$start_cov" ]; then
      plateau=yes
      break
    fi
  done
  execs=$(cat logs/"$t".*.log | grep -oE 'stat::number_of_executed_units: *[0-9]+' |
    grep -oE '[0-9]+$' | awk '{ s += $1 } END { print s + 0 }')
  printf '%-14s %6s %7s %12s %6s %7s %7s %8s %s\n' "$t" "$round" "$spent" "$execs" \
    "$(last cov "$log")" "$(last ft "$log")" "$(ls "corpus/$t" | wc -l)" "$crashes" "$plateau"
done
