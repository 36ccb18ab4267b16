#!/usr/bin/env bash
# bench/run.sh: futures against xargs -P and GNU parallel (see bench/README.md).
#
#   bash bench/run.sh              full run (~5-10 min on 2 cores)
#   QUICK=1 bash bench/run.sh      smoke run: fewer items and runs (< 1 min)
#   FUTURES=/path/to/futures ...   benchmark that binary instead of bin/futures
#   BENCH_ROWS="1 5" ...           run only those workloads (numbered as in the table)
#
# Only medians and ratios between commands measured in the same run are judged;
# the commands of a workload are measured in alternating rounds (the order
# rotating each round), so a noisy neighbour hurts them all alike.
# The table goes to stdout and to bench/results.md; progress goes to stderr.
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RESULTS=${RESULTS:-$ROOT/bench/results.md}
QUICK=${QUICK:-0}
[ "$QUICK" = 0 ] || QUICK=1
T0=$(date +%s)

log() { printf '%s\n' "bench [$(($(date +%s) - T0))s]: $*" >&2; }
# selected N: whether workload N is to run (BENCH_ROWS, e.g. "1 5"; empty: all).
selected() { [ -z "${BENCH_ROWS:-}" ] || [[ " ${BENCH_ROWS//,/ } " == *" $1 "* ]]; }
die() { log "$*"; exit 1; }

# ---------------------------------------------------------------- tools
need=()
command -v hyperfine >/dev/null 2>&1 || need+=(hyperfine)
command -v parallel >/dev/null 2>&1 || need+=(parallel)
command -v jq >/dev/null 2>&1 || need+=(jq)
[ -x /usr/bin/time ] || need+=(time)
command -v xargs >/dev/null 2>&1 || need+=(findutils)
# task-spooler's client is tsp on Debian (ts elsewhere); rows 9-11 only.
if selected 9 && ! command -v tsp >/dev/null 2>&1 && ! command -v ts >/dev/null 2>&1; then need+=(task-spooler); fi
if [ ${#need[@]} -gt 0 ]; then
	log "installing ${need[*]} with apt-get"
	SUDO=()
	[ "$(id -u)" = 0 ] || SUDO=(sudo)
	"${SUDO[@]}" apt-get update -qq
	"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
# GNU parallel reads extra options from $PARALLEL: no citation notice.
export PARALLEL=--will-cite

# ---------------------------------------------------------------- binary
if [ -n "${FUTURES:-}" ]; then
	FUT=$FUTURES
else
	FUT=$ROOT/bin/futures
	if [ ! -x "$FUT" ] || [ -n "$(find "$ROOT" -path "$ROOT/.git" -prune -o \( -name '*.go' -o -name go.mod -o -name go.sum \) -newer "$FUT" -print -quit)" ]; then
		log "building bin/futures"
		(cd "$ROOT" && CGO_ENABLED=0 go build -o bin/futures .) # static, as make build and the releases
	fi
fi
[ -x "$FUT" ] || die "no futures binary at $FUT"
[ "$(timeout 60 "$FUT" map -q echo ::: ok 2>&1)" = ok ] || die "$FUT has no working 'map' command yet"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/futures-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# Every run spools (futures) and groups (parallel) into this directory; it
# must be empty again at the end.
mkdir "$TMP/spool"
export TMPDIR=$TMP/spool

F=$(printf %q "$FUT")
TIME="/usr/bin/time -f %M -o $TMP/rss"

# The floors. Start-up (rows 9 and 16): a Go program that does nothing
# (bench/floor/hello), and one that links the modules futures must use,
# cobra, progressbar (which links net/http) and modernc.org/sqlite, and
# nothing of futures (bench/floor/stack). Memory (row 15): futures' own
# binary running the jobs with no goroutine per job (bench/floor/jobs).
# Built as futures is.
if selected 9 || selected 15 || selected 16; then
	(cd "$ROOT" && CGO_ENABLED=0 go build -o "$TMP/floor-hello" ./bench/floor/hello &&
		CGO_ENABLED=0 go build -o "$TMP/floor-stack" ./bench/floor/stack &&
		CGO_ENABLED=0 go build -o "$TMP/floor-jobs" ./bench/floor/jobs) || die "building bench/floor failed"
fi

# ---------------------------------------------------------------- sizes
MiB=1048576
if [ "$QUICK" = 1 ]; then
	N_TRIVIAL=500 N_GROUP=50 N_DRY=100000 N_JSON=10000 N_JSON_SMALL=1000 N_GIB=128 N_EXEC=500 N_PIPE=128 N_SSH=100 N_SLURM=50 N_REPORT=100000 N_SUBMIT=200 N_SEM=20 N_BATCH=10000 N_HOLD=10000 N_PIPEPART=512
	ROUNDS=2 ONE_RUNS=3 RSS_RUNS=1 PIPE_ROUNDS=1
	N_SLEEP=3000 SLEEP_ROUNDS=1 N_MILLION=100000
else
	N_TRIVIAL=2000 N_GROUP=200 N_DRY=1000000 N_JSON=100000 N_JSON_SMALL=10000 N_GIB=1024 N_EXEC=2000 N_PIPE=2048 N_SSH=500 N_SLURM=200 N_REPORT=100000 N_SUBMIT=1000 N_SEM=50 N_BATCH=10000 N_HOLD=100000 N_PIPEPART=2048
	ROUNDS=7 ONE_RUNS=5 RSS_RUNS=3 PIPE_ROUNDS=3
	N_SLEEP=3000 SLEEP_ROUNDS=3 N_MILLION=1000000
fi
# A command's sanity run is stopped after this long: 600 s, or more for row
# 17's million jobs (about 15 min a command on a 2-CPU VM).
SANITY_TIMEOUT=$((N_MILLION / 400 > 600 ? N_MILLION / 400 : 600))

head -c $MiB /dev/urandom >"$TMP/mib"
repeat() { # repeat N LINE: N lines
	awk -v n="$1" -v l="$2" 'BEGIN { for (i = 0; i < n; i++) print l }'
}
repeat "$N_GROUP" "$TMP/mib" >"$TMP/files-group"
repeat "$N_GIB" "$TMP/mib" >"$TMP/files-gib"
{ echo slow; repeat $((N_GIB - 1)) "$TMP/mib"; } >"$TMP/files-slow"

# ---------------------------------------------------------------- results
declare -A MED=()  # command -> median seconds
declare -A FAIL=() # command -> why it was not measured
ROWS=()

show() { # a command as the table shows it
	local s=$1
	s=${s//"$TIME $F"/futures}
	s=${s//"$TIME "/}
	s=${s//"$F"/futures}
	s=${s//"$TMP"/\$TMP}
	s=${s//|/\\|}
	printf '%s' "$s"
}
calc() { awk "BEGIN { printf \"%.6g\", $* }"; }
fmt_s() { awk -v x="$1" 'BEGIN { printf "%.4f", x }'; }
fmt_r() { awk -v x="$1" 'BEGIN { printf "%.2f", x }'; }
fmt_mib() { awk -v x="$1" 'BEGIN { printf "%.1f MiB", x / 1024 }'; }
yesno() { awk "BEGIN { exit !($*) }" && echo yes || echo no; }
row() { # row WORKLOAD COMMAND VALUE RATIO TARGET MET
	ROWS+=("| $1 | \`$(show "$2")\` | $3 | $4 | $5 | $6 |")
}

# sanity CMD [EXPECTED]: run CMD once under bash -o pipefail; it must exit 0
# and, if EXPECTED is given, print exactly that (after trimming blanks).
sanity() {
	local cmd=$1 rc=0 out
	timeout "$SANITY_TIMEOUT" bash -o pipefail -c "$cmd" >"$TMP/out" 2>"$TMP/err" || rc=$?
	if [ $rc != 0 ]; then
		FAIL[$cmd]="exit $rc"
		log "FAILED (exit $rc): $(show "$cmd")"
		head -c 2000 "$TMP/err" | sed 's/^/bench:   /' >&2
		return 1
	fi
	if [ $# -ge 2 ]; then
		out=$(tr -d ' \t' <"$TMP/out")
		if [ "$out" != "$2" ]; then
			FAIL[$cmd]="wrong output"
			log "WRONG OUTPUT: $(show "$cmd"): got '$(head -c 200 <<<"$out")', want '$2'"
			return 1
		fi
	fi
}

# measure ID RUNS EXPECTED CMD...: check each command once, then ROUNDS
# hyperfine rounds of RUNS runs of every command, the order rotating each
# round; MED[cmd] = median over all rounds. PREPARE, when set, is a command
# hyperfine runs before each run, untimed (it is not run before the check).
measure() {
	local id=$1 runs=$2 expected=$3 c r i
	shift 3
	local -a ok=() order=() warm=() prep=()
	[ -z "${PREPARE:-}" ] || prep=(--prepare "$PREPARE")
	for c in "$@"; do
		if sanity "$c" "$expected"; then ok+=("$c"); fi
	done
	[ ${#ok[@]} -gt 0 ] || return 0
	for ((r = 0; r < ROUNDS; r++)); do
		order=()
		for ((i = 0; i < ${#ok[@]}; i++)); do order+=("${ok[$(((i + r) % ${#ok[@]}))]}"); done
		warm=()
		[ $r != 0 ] || warm=(--warmup 1)
		log "$id: round $((r + 1))/$ROUNDS"
		if ! hyperfine "${warm[@]}" "${prep[@]}" --runs "$runs" --style none \
			--export-json "$TMP/$id.$r.json" "${order[@]}" >"$TMP/hf.log" 2>&1; then
			cat "$TMP/hf.log" >&2
			for c in "${ok[@]}"; do FAIL[$c]="hyperfine failed"; done
			return 0
		fi
	done
	for c in "${ok[@]}"; do
		MED[$c]=$(jq -s --arg c "$c" '
			[.[].results[] | select(.command == $c) | .times[]] | sort
			| if length % 2 == 1 then .[length / 2 | floor]
			  else (.[length / 2 - 1] + .[length / 2]) / 2 end' "$TMP/$id".*.json)
	done
}

# time_row WORKLOAD CMD [PEER LIMIT PEERNAME]...: the command's median and,
# for each peer, its ratio to the peer and whether it is within LIMIT.
time_row() {
	local w=$1 cmd=$2 peer limit name r
	shift 2
	if [ -n "${FAIL[$cmd]:-}" ]; then row "$w" "$cmd" "FAIL: ${FAIL[$cmd]}" - - no; return; fi
	if [ $# = 0 ]; then row "$w" "$cmd" "$(fmt_s "${MED[$cmd]}")" "" "(peer)" ""; return; fi
	while [ $# -ge 3 ]; do
		peer=$1 limit=$2 name=$3
		shift 3
		if [ -n "${FAIL[$peer]:-}" ]; then
			row "$w" "$cmd" "$(fmt_s "${MED[$cmd]}")" "n/a ($name failed)" "≤ ${limit}× $name" "n/a"
			continue
		fi
		r=$(calc "${MED[$cmd]} / ${MED[$peer]}")
		row "$w" "$cmd" "$(fmt_s "${MED[$cmd]}")" "$(fmt_r "$r")× $name" "≤ ${limit}× $name" "$(yesno "$r <= $limit")"
	done
}
peer_row() {
	local w=$1 cmd=$2
	if [ -n "${FAIL[$cmd]:-}" ]; then row "$w" "$cmd" "FAIL: ${FAIL[$cmd]}" - "(peer)" ""; return; fi
	row "$w" "$cmd" "$(fmt_s "${MED[$cmd]}")" "" "(peer)" ""
}

# floor_row WORKLOAD CMD PEER NAME: a start-up floor (bench/floor), its
# time and its ratio to PEER's, judged against no target.
floor_row() {
	local w=$1 cmd=$2 peer=$3 name=$4
	if [ -n "${FAIL[$cmd]:-}" ]; then row "$w" "$cmd" "FAIL: ${FAIL[$cmd]}" - "(floor)" ""; return; fi
	if [ -n "${FAIL[$peer]:-}" ] || [ -z "${MED[$peer]:-}" ]; then row "$w" "$cmd" "$(fmt_s "${MED[$cmd]}")" "" "(floor)" ""; return; fi
	row "$w" "$cmd" "$(fmt_s "${MED[$cmd]}")" "$(fmt_r "$(calc "${MED[$cmd]} / ${MED[$peer]}")")× $name" "(floor)" ""
}

# rss CMD RUNS [EXPECTED]: the largest peak RSS (KiB) of the process that
# /usr/bin/time wraps ($TIME in CMD) over RUNS runs, or "" on failure.
declare -A RSS=()
rss() {
	local cmd=$1 runs=$2 i k max=0
	shift 2
	for ((i = 0; i < runs; i++)); do
		rm -f "$TMP/rss"
		sanity "$cmd" "$@" || return 0
		k=$(tail -n 1 "$TMP/rss")
		[ "$k" -gt "$max" ] && max=$k
	done
	RSS[$cmd]=$max
}
rss_row() { # rss_row WORKLOAD CMD LIMIT_MIB
	local w=$1 cmd=$2 lim=$3
	if [ -z "${RSS[$cmd]:-}" ]; then row "$w" "$cmd" "FAIL: ${FAIL[$cmd]:-?}" - "< $lim MiB" no; return; fi
	row "$w" "$cmd" "$(fmt_mib "${RSS[$cmd]}")" "" "< $lim MiB" "$(yesno "${RSS[$cmd]} < $lim * 1024")"
}

# ================================================================ 1. trivial jobs
if selected 1; then
log "1. trivial jobs ($N_TRIVIAL × true, -j2)"
W="1. $N_TRIVIAL trivial jobs"
fut="seq $N_TRIVIAL | $F map -q -j2 true"
xa="seq $N_TRIVIAL | xargs -P2 -n1 true"
par="seq $N_TRIVIAL | parallel -j2 true"
measure w1 1 "" "$fut" "$xa" "$par"
time_row "$W" "$fut" "$xa" 1.10 xargs "$par" 0.25 parallel
peer_row "$W" "$xa"
peer_row "$W" "$par"
fi

# ================================================================ 2. grouped output
if selected 2; then
log "2. grouped output ($N_GROUP × cat of 1 MiB, -j2)"
W="2. $N_GROUP × 1 MiB output"
want=$((N_GROUP * MiB))
fut="$F map -q -j2 cat < $TMP/files-group | wc -c"
futc="$F map -q -j2 --keep-order=false cat < $TMP/files-group | wc -c"
xa="xargs -P2 -n1 cat < $TMP/files-group | wc -c"
par="parallel -j2 cat < $TMP/files-group | wc -c"
measure w2 1 "$want" "$fut" "$futc" "$xa" "$par"
time_row "$W" "$fut" "$xa" 1.5 xargs
time_row "$W" "$futc" "$xa" 1.5 xargs
peer_row "$W" "$xa"
peer_row "$W" "$par"
fi

# ================================================================ 3. one job
if selected 3; then
log "3. one job"
W="3. one job"
fut="echo hi | $F map -q echo"
xa="echo hi | xargs echo"
par="echo hi | parallel echo"
measure w3 "$ONE_RUNS" hi "$fut" "$xa" "$par"
if [ -n "${FAIL[$fut]:-}" ]; then
	row "$W" "$fut" "FAIL: ${FAIL[$fut]}" - "≤ 3× xargs + 10 ms" no
elif [ -n "${FAIL[$xa]:-}" ]; then
	row "$W" "$fut" "$(fmt_s "${MED[$fut]}")" "n/a" "≤ 3× xargs + 10 ms" n/a
else
	r=$(calc "${MED[$fut]} / ${MED[$xa]}")
	lim=$(calc "3 * ${MED[$xa]} + 0.010")
	row "$W" "$fut" "$(fmt_s "${MED[$fut]}")" "$(fmt_r "$r")× xargs" "≤ 3× xargs + 10 ms (= $(fmt_s "$lim") s)" \
		"$(yesno "${MED[$fut]} <= 3 * ${MED[$xa]} + 0.010")"
fi
peer_row "$W" "$xa"
peer_row "$W" "$par"
fi

# ================================================================ 4. memory
if selected 4; then
log "4. memory (peak RSS)"
W="4. peak RSS"
c_dry="seq $N_DRY | $TIME $F map -q --dry-run echo > /dev/null"
rss "$c_dry" "$RSS_RUNS"
rss_row "$W: $N_DRY items --dry-run" "$c_dry" 32

c_json="seq $N_JSON | $TIME $F map -q -j2 --json true > /dev/null"
c_json_small="seq $N_JSON_SMALL | $TIME $F map -q -j2 --json true > /dev/null"
log "4. $N_JSON × --json true (the longest step)"
rss "$c_json" 1
rss "$c_json_small" 1
rss_row "$W: $N_JSON jobs --json" "$c_json" 64

c_gib="$TIME $F map -q -j2 cat < $TMP/files-gib | wc -c"
rss "$c_gib" "$RSS_RUNS" $((N_GIB * MiB))
rss_row "$W: $N_GIB MiB output, group" "$c_gib" 64

c_slow="$TIME $F map -q -k -j2 sh -c 'case \$1 in slow) sleep 2;; *) cat \"\$1\";; esac' _ < $TMP/files-slow | wc -c"
rss "$c_slow" "$RSS_RUNS" $(((N_GIB - 1) * MiB))
rss_row "$W: $N_GIB MiB output, -k behind a 2 s job" "$c_slow" 64

# flatness: 10× the jobs should not mean (much) more memory
Wf="$W: flat, $N_JSON_SMALL vs $N_JSON jobs --json"
if [ -n "${RSS[$c_json]:-}" ] && [ -n "${RSS[$c_json_small]:-}" ]; then
	r=$(calc "${RSS[$c_json]} / ${RSS[$c_json_small]}")
	row "$Wf" "$c_json_small" "$(fmt_mib "${RSS[$c_json_small]}")" "" "(baseline)" ""
	row "$Wf" "$c_json" "$(fmt_mib "${RSS[$c_json]}")" "$(fmt_r "$r")× $N_JSON_SMALL jobs" "≤ 1.5× (flat)" "$(yesno "$r <= 1.5")"
else
	row "$Wf" "$c_json" "FAIL" - "≤ 1.5× (flat)" no
fi
fi

# ================================================================ 5. executors
if selected 5; then
log "5. executors"
W="5. $N_EXEC jobs, process vs thread"
if timeout 60 "$FUT" map -q --executor process true ::: 1 >/dev/null 2>&1; then
	th="seq $N_EXEC | $F map -q -j2 --executor thread true"
	pr="seq $N_EXEC | $F map -q -j2 --executor process true"
	measure w5 1 "" "$th" "$pr"
	time_row "$W" "$pr" "$th" 1.2 thread
	peer_row "$W" "$th"
else
	log "process executor: not built yet"
	ROWS+=("| $W | process executor: not built yet | | | ≤ 1.2× thread | n/a |")
fi
fi

# ================================================================ 6. block mode
# pipe_workload: N_PIPE MiB of ~100-byte lines through `--pipe -j2 wc -l`, against
# `parallel --pipe -j2 wc -l` and one `wc -l`; and futures' peak RSS, which
# --pipe bounds to about (jobs + 2) blocks.
pipe_workload() {
	local W="6. --pipe: $N_PIPE MiB, wc -l" sum="| awk '{ s += \$1 } END { print s }'"
	local fut futb futp par one want c16 c64 i
	log "6. --pipe ($N_PIPE MiB through wc -l, -j2)"
	# A MiB of text lines, repeated: the content does not matter to wc -l.
	head -c $((MiB * 3 / 4)) /dev/urandom | base64 -w 99 | head -c $MiB >"$TMP/pipe-mib"
	for ((i = 0; i < N_PIPE; i++)); do cat "$TMP/pipe-mib"; done >"$TMP/pipe-in"
	want=$(wc -l <"$TMP/pipe-in")
	# --block 1M: a regular file without --block is cut one block per slot (workload 10).
	fut="$F map -q --pipe --block 1M -j2 wc -l < $TMP/pipe-in $sum"
	futb="$F map -q --pipe --block 64M -j2 wc -l < $TMP/pipe-in $sum"
	futp="cat $TMP/pipe-in | $F map -q --pipe -j2 wc -l $sum"
	par="parallel --pipe -j2 wc -l < $TMP/pipe-in $sum"
	one="wc -l < $TMP/pipe-in"
	ROUNDS=$PIPE_ROUNDS measure w6 1 "$want" "$fut" "$futb" "$futp" "$par" "$one"
	time_row "$W" "$fut" "$par" 0.33 parallel "$one" 1.5 "wc -l"
	time_row "$W" "$futb" "$one" 1.5 "wc -l"
	time_row "$W" "$futp" "$par" 0.33 parallel
	peer_row "$W" "$par"
	peer_row "$W" "$one"

	# Memory: blocks read from a pipe are held in memory, about (jobs + 2) × --block.
	c16="cat $TMP/pipe-in | $TIME $F map -q --pipe --block 16M -j2 wc -l $sum"
	c64="cat $TMP/pipe-in | $TIME $F map -q --pipe -j2 wc -l $sum"
	rss "$c64" "$RSS_RUNS" "$want"
	rss_row "6. peak RSS: --pipe, 1M blocks from a pipe" "$c64" 64
	rss "$c16" "$RSS_RUNS" "$want"
	rss_row "6. peak RSS: --pipe, 16M blocks from a pipe" "$c16" 96
	rm -f "$TMP/pipe-in" "$TMP/pipe-mib"
}
! selected 6 || pipe_workload

# ================================================================ 7. ssh hosts
# ssh_workload and slurm_workload: trivial jobs on two loopback "hosts" of a real sshd
# (testdata/daemons/sshd), futures -S against parallel -S with the same
# --ssh; then in a real single-node Slurm allocation (testdata/daemons/slurm),
# futures --launcher srun against one srun step per job. One round each:
# GNU parallel over ssh takes tens of seconds per run.
ssh_workload() {
	local W fut par d="$ROOT/testdata/daemons" sshdir="$TMP/sshd"
	W="7. $N_SSH trivial jobs on 2 ssh hosts"
	log "7. ssh ($N_SSH × true over h1, h2)"
	if ! bash "$d/sshd" start "$sshdir" >"$TMP/sshd.log" 2>&1; then
		log "sshd could not start: $(tail -n 3 "$TMP/sshd.log")"
		ROWS+=("| $W | sshd could not start (testdata/daemons/sshd) | | | ≥ 20× faster than parallel -S | n/a |")
	else
		local SSH="ssh -F $sshdir/ssh_config"
		fut="seq $N_SSH | $F map -q -S h1 -S h2 --ssh '$SSH' true"
		par="seq $N_SSH | parallel -S h1,h2 --ssh '$SSH' true"
		ROUNDS=1 measure w7 1 "" "$fut" "$par"
		time_row "$W" "$fut" "$par" 0.05 parallel
		peer_row "$W" "$par"
		bash "$d/sshd" stop "$sshdir" >/dev/null 2>&1 || true
	fi
}

slurm_workload() {
	local W fut par d="$ROOT/testdata/daemons" slurmdir="$TMP/slurm" job
	W="8. $N_SLURM trivial jobs in a Slurm allocation (-n2)"
	log "8. slurm ($N_SLURM × true, srun)"
	chmod 755 "$TMP" # munged wants every directory above its socket searchable
	if ! bash "$d/slurm" start "$slurmdir" >"$TMP/slurm.log" 2>&1; then
		log "slurm could not start: $(tail -n 3 "$TMP/slurm.log")"
		ROWS+=("| $W | slurm could not start (testdata/daemons/slurm) | | | ≥ 10× faster than parallel srun | n/a |")
		return 0
	fi
	export SLURM_CONF=$slurmdir/slurm.conf
	# One allocation for both, held by salloc --no-shell: both pay for
	# their job steps, neither for the allocation.
	job=$(salloc -n2 --no-shell 2>&1 | sed -n 's/.*Granted job allocation \([0-9]*\).*/\1/p')
	if [ -z "$job" ]; then
		ROWS+=("| $W | salloc failed | | | ≥ 10× faster than parallel srun | n/a |")
	else
		local A="SLURM_JOB_ID=$job SLURM_JOBID=$job SLURM_NTASKS=2 SLURM_NPROCS=2"
		fut="seq $N_SLURM | env $A $F map -q --launcher srun true"
		par="seq $N_SLURM | env $A parallel -j2 srun -n1 --exclusive true"
		ROUNDS=1 measure w8 1 "" "$fut" "$par"
		time_row "$W" "$fut" "$par" 0.10 "parallel srun"
		peer_row "$W" "$par"
		scancel "$job" >/dev/null 2>&1 || true
	fi
	bash "$d/slurm" stop "$slurmdir" >/dev/null 2>&1 || true
	unset SLURM_CONF
}
! selected 7 || ssh_workload
! selected 8 || slurm_workload

# ================================================================ 9-11. the executor service
# A private service (its socket and store under $TMP), one slot (-j1) like
# tsp's default and sem -j1, so a queue that ran its last job ran them all:
# each command submits in a loop, then waits for its last job (futures wait,
# tsp -w, sem --wait). What is compared is the cost of a submit call.
export XDG_RUNTIME_DIR=$TMP/xdg-run XDG_STATE_HOME=$TMP/xdg-state
mkdir -p -m 0700 "$XDG_RUNTIME_DIR" "$XDG_STATE_HOME"
# svc_pid NAME: the pid of the service NAME; vm PID FIELD: its VmRSS or
# VmHWM in KiB (/proc/PID/status).
svc_pid() { cat "$XDG_RUNTIME_DIR/futures/$1/service.pid"; }
vm() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

submit_workload() {
	local W fut tsp sem TSP r lim hello stack
	W="9. $N_SUBMIT × submit one \`true\` from a shell loop (-j1)"
	log "9. submit calls ($N_SUBMIT × futures submit --detach, tsp; $N_SEM × sem)"
	TSP=$(command -v tsp || command -v ts)
	export TS_SOCKET=$TMP/tsp.sock TS_SLOTS=1
	mkdir -p "$TMP/tsp-out"
	"$F" start -j1 --service bench >/dev/null || die "futures start failed"
	fut="for i in \$(seq $N_SUBMIT); do $F submit --detach --service bench -- true; done > $TMP/ids && $F wait --service bench \$(tail -n 1 $TMP/ids) > /dev/null"
	# tsp writes each job's output to a file in TMPDIR: keep them apart from the spool.
	tsp="export TMPDIR=$TMP/tsp-out; for i in \$(seq $N_SUBMIT); do $TSP true; done > /dev/null && $TSP -w"
	sem="for i in \$(seq $N_SEM); do sem -j1 --id futures-bench true; done && sem --wait --id futures-bench"
	# The floors: the same loop starting a Go program that does nothing,
	# and one built on futures' modules (see "The start-up floors").
	hello="for i in \$(seq $N_SUBMIT); do $TMP/floor-hello x; done > /dev/null"
	stack="for i in \$(seq $N_SUBMIT); do $TMP/floor-stack x; done > /dev/null"
	measure w9 1 "" "$fut" "$tsp" "$sem" "$hello" "$stack"
	time_row "$W" "$fut" "$tsp" 1.5 tsp
	if [ -z "${FAIL[$fut]:-}" ] && [ -z "${FAIL[$sem]:-}" ] && [ -n "${MED[$sem]:-}" ]; then
		# sem takes ~0.15 s a call: it makes N_SEM calls, scaled to N_SUBMIT.
		r=$(calc "(${MED[$fut]} / $N_SUBMIT) / (${MED[$sem]} / $N_SEM)")
		row "$W" "$fut" "$(fmt_s "${MED[$fut]}")" "$(fmt_r "$r")× sem (per call)" "≤ 0.033× sem (30× faster)" "$(yesno "$r <= 1 / 30")"
	fi
	peer_row "$W" "$tsp"
	peer_row "9. $N_SEM × sem (scaled ×$((N_SUBMIT / N_SEM)) in the ratio)" "$sem"
	floor_row "$W: floor, a Go program that does nothing" "$hello" "$tsp" tsp
	floor_row "$W: floor, a Go program on futures' modules" "$stack" "$tsp" tsp
	"$TSP" -K >/dev/null 2>&1 || true
	"$F" shutdown --cancel-futures --service bench >/dev/null 2>&1 || true
}

batch_workload() {
	local W fut
	W="10. $N_BATCH lines to one submit --detach"
	log "10. seq $N_BATCH | futures submit --detach"
	# Each run leaves N_BATCH jobs queued: a fresh service before each run
	# (untimed) keeps them from running under the next one.
	fut="seq $N_BATCH | sed 's/^/echo /' | $F submit --detach --service batch | wc -l"
	# Cancelling 10,000 futures takes seconds: 2 rounds (an absolute target).
	ROUNDS=$PIPE_ROUNDS PREPARE="$F shutdown --cancel-futures --service batch > /dev/null 2>&1; $F start -j1 --service batch > /dev/null" \
		measure w10 "$ONE_RUNS" "$N_BATCH" "$fut"
	if [ -n "${FAIL[$fut]:-}" ]; then
		row "$W" "$fut" "FAIL: ${FAIL[$fut]}" - "< 1 s" no
	else
		row "$W" "$fut" "$(fmt_s "${MED[$fut]}")" "" "< 1 s" "$(yesno "${MED[$fut]} < 1")"
	fi
	"$F" shutdown --cancel-futures --service batch >/dev/null 2>&1 || true
}

# memory_workload: the service's memory (/proc/PID/status) idle, after one
# future, and holding N_HOLD finished futures, submitted N_BATCH at a time,
# each batch waited for (its last id: one slot runs them in order).
memory_workload() {
	local W="11. service memory" pid idle n=0 last rss hwm c
	log "11. service memory (idle; $N_HOLD finished futures)"
	c="$F start -j1 --service mem"
	if ! sanity "$c"; then row "$W: idle" "$c" "FAIL: ${FAIL[$c]}" - "< 20 MiB" no; return 0; fi
	pid=$(svc_pid mem)
	sanity "$F submit --detach --service mem -- true > $TMP/ids && $F wait --service mem \$(cat $TMP/ids)" || return 0
	idle=$(vm "$pid" VmHWM)
	row "$W: idle, after one future (peak, VmHWM)" "$c" "$(fmt_mib "$idle")" "" "< 20 MiB" "$(yesno "$idle < 20 * 1024")"
	repeat "$N_BATCH" true >"$TMP/true-lines"
	c="$F submit --detach --service mem < $TMP/true-lines > $TMP/ids && $F wait --service mem \$(tail -n 1 $TMP/ids) > /dev/null"
	while [ $n -lt "$N_HOLD" ]; do
		sanity "$c" || { row "$W: holding $N_HOLD finished futures" "$c" "FAIL: ${FAIL[$c]}" - "< 64 MiB" no; return 0; }
		n=$((n + N_BATCH))
		log "11. $n futures finished"
	done
	rss=$(vm "$pid" VmRSS) hwm=$(vm "$pid" VmHWM)
	row "$W: holding $N_HOLD finished futures (VmRSS)" "$c" "$(fmt_mib "$rss")" "" "< 64 MiB" "$(yesno "$rss < 64 * 1024")"
	row "$W: peak while running them, $N_BATCH queued at a time (VmHWM)" "$c" "$(fmt_mib "$hwm")" "" "< 64 MiB" "$(yesno "$hwm < 64 * 1024")"
	"$F" shutdown --service mem >/dev/null 2>&1 || true
}
! selected 9 || submit_workload
! selected 10 || batch_workload
! selected 11 || memory_workload

# ================================================================ 12. report
# futures report of N_REPORT --json records (8 workers, 10-16 ms jobs, one
# in 997 failing with a line of stderr; made by awk, not by running them):
# its time against jq parsing the same records once, the page's size, and
# its peak RSS.
report_workload() {
	local W="12. report of $N_REPORT --json records" rec=$TMP/records.jsonl page=$TMP/report.html size
	log "12. report of $N_REPORT records"
	awk -v n="$N_REPORT" 'BEGIN {
		base = 1796600000
		for (i = 1; i <= n; i++) {
			w = (i - 1) % 8; t = base + int((i - 1) / 8) * 0.02 + w * 0.001
			sec = int(t); ms = int((t - sec) * 1000 + 0.5); if (ms == 1000) { sec++; ms = 0 }
			ec = (i % 997 == 0) ? 1 : 0
			printf "{\"seq\":%d,\"command\":\"process item-%d\",\"args\":[\"item-%d\"],\"worker\":\"worker_%d\",\"state\":\"FINISHED\",\"exit_code\":%d,\"signal\":\"\",\"error\":\"\",\"start\":\"%s.%03dZ\",\"duration_ms\":%d,\"max_rss_kb\":2048,\"user_ms\":1.1,\"sys_ms\":0.9,\"stdout\":\"ok\\n\",\"stderr\":\"%s\"}\n",
				i, i, i, w, ec, strftime("%Y-%m-%dT%H:%M:%S", sec, 1), ms, 10 + (i % 7), ec ? "error: item failed\\n" : ""
		}
	}' >"$rec"
	local fut="$F report -o $page $rec" peer="jq -c . $rec > /dev/null"
	measure w12 "$ONE_RUNS" "" "$fut" "$peer"
	time_row "$W" "$fut" "$peer" 2 "jq -c ."
	peer_row "$W" "$peer"
	if [ -s "$page" ]; then
		size=$(wc -c <"$page")
		row "$W: page size" "$fut" "$(awk -v x="$size" 'BEGIN { printf "%.0f KiB", x / 1024 }')" "" "< 2 MiB" "$(yesno "$size < 2 * $MiB")"
	fi
	rss "$TIME $fut" 1
	rss_row "$W: peak RSS" "$TIME $fut" 256
}
! selected 12 || report_workload

# ================================================================ 13. a warm remote service
# A service whose workers run on the loopback ssh host h1, warmed by one
# job: a job submitted to it and its result, against one `ssh h1 true`.
warm_remote_workload() {
	local W fut peer d="$ROOT/testdata/daemons" sshdir="$TMP/sshd13"
	W="13. one job on a warm remote service (-S h1) vs ssh h1 true"
	log "13. warm remote service"
	if ! bash "$d/sshd" start "$sshdir" >"$TMP/sshd13.log" 2>&1; then
		log "sshd could not start: $(tail -n 3 "$TMP/sshd13.log")"
		ROWS+=("| $W | sshd could not start (testdata/daemons/sshd) | | | ≤ 1× ssh h1 true | n/a |")
		return 0
	fi
	local SSH="ssh -F $sshdir/ssh_config"
	"$F" start --service warm -S 1/h1 --ssh "$SSH" >/dev/null || die "futures start -S h1 failed"
	"$F" result --service warm "$("$F" submit --detach --service warm -- true)" >/dev/null || die "the warm-up job failed"
	fut="$F result --service warm \$($F submit --detach --service warm -- true)"
	peer="$SSH h1 true"
	measure w13 "$ONE_RUNS" "" "$fut" "$peer"
	time_row "$W" "$fut" "$peer" 1 "ssh h1 true"
	peer_row "$W" "$peer"
	"$F" shutdown --service warm >/dev/null 2>&1 || true
	bash "$d/sshd" stop "$sshdir" >/dev/null 2>&1 || true
}
! selected 13 || warm_remote_workload

# ================================================================ 14. a file through --pipe
# pipepart_workload: a regular file of N_PIPEPART MiB of ~100-byte lines through
# `--pipe -j2 wc -l` with the default block (one block per slot: each job reads
# its region of the file, the runner copies nothing), from stdin and with -a,
# against one `wc -l` and GNU parallel's --pipe-part --block -1; and futures'
# peak RSS, which should not grow with the file.
pipepart_workload() {
	local W="14. a file through --pipe: $N_PIPEPART MiB, wc -l" sum="| awk '{ s += \$1 } END { print s }'"
	local in=$TMP/part-in fut futa par one want i
	log "14. a file through --pipe ($N_PIPEPART MiB through wc -l, -j2, default block)"
	head -c $((MiB * 3 / 4)) /dev/urandom | base64 -w 99 | head -c $MiB >"$TMP/part-mib"
	for ((i = 0; i < N_PIPEPART; i++)); do cat "$TMP/part-mib"; done >"$in"
	want=$(wc -l <"$in")
	fut="$F map -q --pipe -j2 wc -l < $in $sum"
	futa="$F map -q --pipe -j2 -a $in wc -l $sum"
	par="parallel --pipe-part -a $in --block -1 -j2 wc -l $sum"
	one="wc -l < $in"
	ROUNDS=$PIPE_ROUNDS measure w14 1 "$want" "$fut" "$futa" "$par" "$one"
	time_row "$W" "$fut" "$one" 1.2 "wc -l" "$par" 1 "parallel --pipe-part"
	time_row "$W" "$futa" "$one" 1.2 "wc -l"
	peer_row "$W" "$par"
	peer_row "$W" "$one"
	rss "$TIME $fut" "$RSS_RUNS" "$want"
	rss_row "14. peak RSS: --pipe, a $N_PIPEPART MiB file" "$TIME $fut" 32
	rm -f "$in" "$TMP/part-mib"
}
! selected 14 || pipepart_workload

# ================================================================ 15-17. at scale
# (issue 19) 11: N_SLEEP × `sleep 1` at -j1000, a thousand jobs at once that
# print nothing: peak RSS (what each running job costs) and wall time against
# xargs -P1000. 12: one job, `futures map -q echo ::: hi`, against xargs:
# start-up. 13: N_MILLION trivial jobs at -j2 against xargs, one run each
# (about 4 min each at 1,000,000 on 2 CPUs), and peak RSS against a tenth of
# them (flat); its timed runs are the RSS runs at n.
sleep_workload() {
	local W="15. $N_SLEEP × sleep 1, -j1000" fut xa
	log "15. $N_SLEEP × sleep 1 at -j1000"
	repeat "$N_SLEEP" 1 >"$TMP/ones"
	fut="$F map -q -j1000 sleep < $TMP/ones"
	xa="xargs -P1000 -n1 sleep < $TMP/ones"
	ROUNDS=$SLEEP_ROUNDS measure w15 1 "" "$fut" "$xa"
	time_row "$W" "$fut" "$xa" 1.05 xargs
	peer_row "$W" "$xa"
	rss "$TIME $fut" "$RSS_RUNS"
	rss_row "$W: peak RSS" "$TIME $fut" 24
	rss "$TIME $xa" 1
	row "$W: peak RSS" "$xa" "$(fmt_mib "${RSS[$TIME $xa]:-0}")" "" "(peer)" ""
	# The floor: futures' binary, one epoll loop, no goroutine per job.
	rss "$TIME $TMP/floor-jobs < $TMP/ones" 1
	row "$W: peak RSS, floor of futures' binary with no goroutine per job" "$TIME $TMP/floor-jobs < $TMP/ones" "$(fmt_mib "${RSS[$TIME $TMP/floor-jobs < $TMP/ones]:-0}")" "" "(floor)" ""
}
! selected 15 || sleep_workload

one_workload() {
	local W="16. one job" fut xa lim hello stack
	log "16. one job (start-up)"
	fut="$F map -q echo ::: hi"
	xa="xargs echo hi < /dev/null"
	hello="$TMP/floor-hello hi"
	stack="$TMP/floor-stack hi"
	measure w16 $((ONE_RUNS * 10)) hi "$fut" "$xa" "$hello" "$stack"
	if [ -n "${FAIL[$fut]:-}" ] || [ -n "${FAIL[$xa]:-}" ]; then
		row "$W" "$fut" "FAIL: ${FAIL[$fut]:-${FAIL[$xa]}}" - "≤ xargs + 2 ms" no
	else
		lim=$(calc "${MED[$xa]} + 0.002")
		row "$W" "$fut" "$(fmt_s "${MED[$fut]}")" "+$(awk -v a="${MED[$fut]}" -v b="${MED[$xa]}" 'BEGIN { printf "%.1f ms", (a - b) * 1000 }') over xargs" \
			"≤ xargs + 2 ms (= $(fmt_s "$lim") s)" "$(yesno "${MED[$fut]} <= $lim")"
	fi
	peer_row "$W" "$xa"
	floor_row "$W: floor, a Go program that does nothing" "$hello" "$xa" xargs
	floor_row "$W: floor, a Go program on futures' modules" "$stack" "$xa" xargs
}
! selected 16 || one_workload

million_workload() {
	local n=$N_MILLION tenth=$((N_MILLION / 10)) W fut xa futt r
	W="17. $n trivial jobs, -j2"
	log "17. $n × true at -j2 (one run each)"
	fut="seq $n | $TIME $F map -q -j2 true"
	futt="seq $tenth | $TIME $F map -q -j2 true"
	xa="seq $n | xargs -P2 -n1 true"
	ROUNDS=1 measure w17 1 "" "$fut" "$xa"
	time_row "$W" "$fut" "$xa" 1.10 xargs
	peer_row "$W" "$xa"
	# The timed runs wrapped futures in $TIME (xargs not): the last %M
	# written is futures' at n jobs, so n jobs run only twice in all.
	[ -n "${FAIL[$fut]:-}" ] || RSS[$fut]=$(tail -n 1 "$TMP/rss")
	rss "$futt" 1
	if [ -n "${RSS[$fut]:-}" ] && [ -n "${RSS[$futt]:-}" ]; then
		r=$(calc "${RSS[$fut]} / ${RSS[$futt]}")
		row "$W: peak RSS" "$futt" "$(fmt_mib "${RSS[$futt]}")" "" "(baseline)" ""
		row "$W: peak RSS" "$fut" "$(fmt_mib "${RSS[$fut]}")" "$(fmt_r "$r")× $tenth jobs" "≤ 1.2× (flat)" "$(yesno "$r <= 1.2")"
	else
		row "$W: peak RSS" "$fut" "FAIL" - "≤ 1.2× (flat)" no
	fi
}
! selected 17 || million_workload

# ================================================================ report
leftover=$(find "$TMP/spool" -mindepth 1 | wc -l)
elapsed=$(($(date +%s) - T0))
{
	echo "# futures benchmarks"
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')$([ "$QUICK" = 1 ] && echo ' — QUICK=1 (fewer items and runs: smoke check only)')"
	echo "- machine: $(nproc) CPUs, $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- futures: $("$FUT" --version 2>/dev/null | head -1) ($FUT; $(cd "$ROOT" && git describe --tags --always --dirty 2>/dev/null || echo no git))"
	echo "- peers: $(xargs --version | head -1); $(parallel --version | head -1); $(hyperfine --version)$(t=$(command -v tsp || command -v ts) && echo "; $("$t" -V 2>&1 | head -1)")"
	echo "- method: hyperfine, $ROUNDS alternating rounds (order rotated each round); medians of all runs; ratio = futures median / peer median; peak RSS = largest /usr/bin/time %M of $RSS_RUNS run(s)"
	echo "- spool files left in \$TMPDIR: $leftover; wall time of this benchmark: ${elapsed}s"
	[ -z "${BENCH_ROWS:-}" ] || echo "- workloads: $BENCH_ROWS only (BENCH_ROWS)"
	echo
	echo "| workload | command | median s / peak RSS | ratio | target | met |"
	echo "| --- | --- | --- | --- | --- | --- |"
	printf '%s\n' "${ROWS[@]}"
} >"$TMP/results.md"
cp "$TMP/results.md" "$RESULTS"
cat "$TMP/results.md"
