# lib.sh: helpers of the daemon scripts in this directory (sourced, not
# run). They read /proc, so that a minimal container needs no procps or
# iproute2, and with bash's read rather than a process per file.

# die MESSAGE: print "NAME: MESSAGE" to stderr and exit 1.
die() {
	echo "${0##*/}: $*" >&2
	exit 1
}

# port_in_use PORT: whether a TCP socket listens on PORT.
port_in_use() {
	local hex
	hex=$(printf ':%04X ' "$1")
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
		awk -v p="$hex" '$4 == "0A" && index($2 " ", p) { found = 1 } END { exit !found }'
}

# free_port [EXCEPT…]: a port below the ephemeral range (32768 and up,
# where the kernel picks the local ports of connections) that nothing
# listens on and that is none of EXCEPT.
free_port() {
	local p
	for _ in $(seq 100); do
		p=$((20000 + RANDOM % 12000))
		case " $* " in *" $p "*) continue ;; esac
		port_in_use "$p" || {
			echo "$p"
			return
		}
	done
	die "no free port found"
}

# alive PID: whether PID runs (a zombie does not).
alive() {
	local stat
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	set -- ${stat##*) } # past the command name, which may hold spaces
	[ "$1" != Z ]
}

# descendants PID…: the pids of the processes the PIDs started, and of
# theirs, and so on. Daemons put their children in sessions of their own,
# so neither a process group nor a session holds them all.
descendants() {
	local roots=("$@") f stat pid p
	local -A kids=()
	for f in /proc/[0-9]*/stat; do
		{ read -r stat <"$f"; } 2>/dev/null || continue
		pid=${stat%% *}
		set -- ${stat##*) } # state, ppid, …
		kids[$2]+=" $pid"
	done
	local todo=("${roots[@]}")
	while [ ${#todo[@]} -gt 0 ]; do
		p=${todo[0]}
		todo=("${todo[@]:1}")
		for pid in ${kids[$p]:-}; do
			echo "$pid"
			todo+=("$pid")
		done
	done
}

# terminate PID…: send TERM to the PIDs, wait up to 5 s for them to end,
# then KILL those left.
terminate() {
	local pids="$*" left p
	[ -n "$pids" ] || return 0
	kill -TERM $pids 2>/dev/null || true
	for _ in $(seq 50); do
		left=
		for p in $pids; do
			! alive "$p" || left+=" $p"
		done
		pids=$left
		[ -n "$pids" ] || return 0
		sleep 0.1
	done
	kill -KILL $pids 2>/dev/null || true
}

# pid_from FILE: the pid in FILE, if that process runs.
pid_from() {
	local pid
	[ -s "$1" ] || return 1
	pid=$(cat "$1")
	alive "$pid" || return 1
	echo "$pid"
}

# absdir ACTION DIR: DIR as an absolute path, made first when ACTION is
# start. DIR ends up in configuration files and command lines: no spaces
# or quotes.
absdir() {
	[ "$1" != start ] || mkdir -p "$2"
	local dir
	dir=$(cd "$2" 2>/dev/null && pwd) || die "no directory $2"
	case $dir in *[[:space:]\'\"\\]*) die "DIR must not hold spaces, quotes or backslashes: $dir" ;; esac
	echo "$dir"
}

# watch_owner DIR PIDFILE: when FUTURES_DAEMON_OWNER names a process (a
# test binary), start a watcher that stops the daemons of DIR (`$0 stop
# DIR`) and removes DIR once that process has ended without doing so: a
# test binary killed by a timeout or ^C leaves nothing behind. The watcher
# ends by itself when the daemon of PIDFILE ends first.
watch_owner() {
	local dir=$1 pidfile=$2 owner=${FUTURES_DAEMON_OWNER:-}
	[ -n "$owner" ] || return 0
	alive "$owner" || die "FUTURES_DAEMON_OWNER=$owner does not run"
	(
		unset FUTURES_DAEMON_OWNER FUTURES_TEST_SLURM
		while alive "$owner" && pid_from "$pidfile" >/dev/null; do
			sleep 1
		done
		if ! alive "$owner"; then
			"$0" stop "$dir"
			rm -rf "$dir"
		fi
	) </dev/null >/dev/null 2>&1 &
	disown
}
