# proctree.awk - reads /proc/[0-9]*/stat lines (cat them in) and prints,
# for the process ROOT and all its descendants, either their CPU time or
# their PIDs:
#
#   cat /proc/[0-9]*/stat 2>/dev/null | awk -v root=PID -f proctree.awk
#       utime + stime + cutime + cstime summed over the tree, in clock ticks
#   ... | awk -v root=PID -v what=pids -f proctree.awk
#       the PIDs of the tree, one a line
#
# The tree matters: NSD forks a main and a server process below the one
# started, and dnsmasq a process per TCP connection. A server's threads are
# already counted in its process's times; children that have exited and
# been waited for are in cutime and cstime.
{
	pid = $1
	# The command name may hold spaces and parentheses: the fields that
	# matter follow the last ") ".
	rest = $0
	sub(/^.*\) /, "", rest)
	split(rest, f, " ")
	# f[1] is field 3 of proc(5), the state; f[2] the parent.
	parent[pid] = f[2]
	ticks[pid] = f[12] + f[13] + f[14] + f[15]
	pids[++n] = pid
}
END {
	if (!(root in parent))
		exit 1
	intree[root] = 1
	# Parents may be listed after their children: repeat until stable.
	do {
		grew = 0
		for (i = 1; i <= n; i++) {
			p = pids[i]
			if (!(p in intree) && (parent[p] in intree)) {
				intree[p] = 1
				grew = 1
			}
		}
	} while (grew)
	total = 0
	for (p in intree) {
		if (what == "pids")
			print p
		total += ticks[p]
	}
	if (what != "pids")
		print total
}
