# report.awk - the DNS benchmark's summary, tables and plot data, from
# support.tsv and raw.tsv (run.sh writes both):
#
#   awk -F'\t' -v OFS='\t' -v mode=summary -f report.awk support.tsv raw.tsv
#       medians per server, workload and transport (summary.tsv)
#   ... -v mode=tables [-v hot=1000 -v names=10000] ...
#       the Markdown tables of docs/PERFORMANCE.md (tables.md)
#   ... -v mode=plot ...
#       one line per server for plot.gp (plot.tsv)
#
# Every figure is the median over the repeats. A ratio "vs X" is the median
# over repeats of the server's queries per CPU-second divided by X's in the
# same repeat, so that the machine's drift between repeats cancels.

# ---- input -------------------------------------------------------------------

FNR == 1 { file++; next }
file == 1 { feature[$1] = $2; feature_detail[$1] = $3; next }
$1 == "all" { unsupported[$2] = $23; next }
{
	k = $2 SUBSEP $3 SUBSEP $4
	if (!(k in seen)) {
		seen[k] = 1
		keys[++nkeys] = k
	}
	n = ++runs[k]
	qps[k, n] = $10; lost[k, n] = $8; noerr[k, n] = $9
	qpc[k, n] = $13; avg[k, n] = $14; p99[k, n] = $16
	hwm[k, n] = $19; rep[k, n] = $1; rate[k, n] = $5
	if ($23 != "-")
		note[k] = $23
	byrep[k, $1] = $13
	# The machine's other work: CPU-seconds per second of the run (the
	# wall-clock time of the dnsperf process) that neither the server, nor
	# dnsperf, nor the upstream used.
	if ($11 > 0 && $21 != "-")
		noise[++nnoise] = $21 / $11
	if ($22 != "-") {
		if (minload == "" || $22 < minload) minload = $22
		if ($22 > maxload) maxload = $22
	}
	if ($1 > maxrep)
		maxrep = $1
}

# ---- statistics -------------------------------------------------------------------

function median(k, arr,    n, i, j, v, t, m) {
	m = 0
	for (i = 1; i <= runs[k]; i++)
		if (arr[k, i] != "-" && arr[k, i] != "")
			v[++m] = arr[k, i] + 0
	if (m == 0)
		return "-"
	for (i = 2; i <= m; i++)
		for (j = i; j > 1 && v[j - 1] > v[j]; j--) {
			t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
		}
	return m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
}

function maximum(k, arr,    i, m) {
	m = "-"
	for (i = 1; i <= runs[k]; i++)
		if (arr[k, i] != "-" && (m == "-" || arr[k, i] + 0 > m))
			m = arr[k, i] + 0
	return m
}

# Median over repeats of q/CPU-s of k divided by that of ref, same repeat.
function ratio(k, ref,    r, i, j, v, t, m) {
	if (!(k in seen) || !(ref in seen))
		return "-"
	m = 0
	for (r = 1; r <= maxrep; r++)
		if (((k, r) in byrep) && ((ref, r) in byrep) &&
		    byrep[k, r] != "-" && byrep[ref, r] != "-" &&
		    byrep[ref, r] > 0)
			v[++m] = byrep[k, r] / byrep[ref, r]
	if (m == 0)
		return "-"
	for (i = 2; i <= m; i++)
		for (j = i; j > 1 && v[j - 1] > v[j]; j--) {
			t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
		}
	return m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
}

function key(s, w, p) { return s SUBSEP w SUBSEP p }

# ---- formatting -------------------------------------------------------------------

# 123456.7 -> "123,457"
function thousands(x,    s, r) {
	if (x == "-")
		return "-"
	s = sprintf("%.0f", x)
	r = ""
	while (length(s) > 3) {
		r = "," substr(s, length(s) - 2) r
		s = substr(s, 1, length(s) - 3)
	}
	return s r
}

function fmt_ratio(x) { return x == "-" ? "-" : sprintf("%.2f", x) }

# QPS at saturation, with the losses and errors when there are any.
function cell_qps(k,    q, l, e, s) {
	if (!(k in seen))
		return "-"
	q = median(k, qps)
	l = maximum(k, lost)
	e = median(k, noerr)
	s = thousands(q)
	if (l != "-" && l > 0)
		s = s sprintf(" (lost up to %.2f%%)", l)
	if (e != "-" && e < 100)
		s = s sprintf(" (%.1f%% not NOERROR)", 100 - e)
	return s
}

function cell_lat(k) {
	if (!(k in seen))
		return "- / -"
	return sprintf("%.0f / %.0f", median(k, avg), median(k, p99))
}

function cell_hwm(k) {
	return (k in seen) ? thousands(maximum(k, hwm)) : "-"
}

# Why a server has no figures, or "".
function missing(s, w) {
	if (s in unsupported)
		return unsupported[s]
	if (w == "hit" && s ~ /^miodnsd(-2t)?$/ && feature["cache"] != "yes")
		return "not supported yet: miodnsd has no answer cache (the hot set forwarded is below)"
	return ""
}

function label(s) {
	if (s == "unbound") return "unbound, 1 thread"
	if (s == "unbound-2t") return "unbound, 2 threads"
	if (s == "miodnsd") return "**miodnsd**, 1 thread"
	if (s == "miodnsd-2t") return "**miodnsd**, 2 threads"
	if (s == "miodnsd-auth") return "**miodnsd** with the zone"
	if (s == "dnsmasq-nocache") return "dnsmasq, cache-size=0"
	if (s == "miodnsd-nocache") return "**miodnsd**, cache-size 0"
	if (s == "nsd") return "NSD"
	return s
}

# One table of forwarders for workload w over proto p: QPS, q/CPU-s, the
# ratios to dnsmasq and to unbound (1 thread), latency from workload lw.
function forwarders(title, w, p, lw, list,    n, i, s, k, why, refs) {
	print ""
	print "#### " title
	print ""
	print "| server | QPS | q/CPU-s | vs dnsmasq | vs unbound | avg / p99 latency (us) | VmHWM (KiB) |"
	print "|:---|---:|---:|---:|---:|---:|---:|"
	n = split(list, refs, " ")
	for (i = 1; i <= n; i++) {
		s = refs[i]
		k = key(s, w, p)
		why = missing(s, w)
		if (why != "") {
			printf "| %s | %s | | | | | |\n", label(s), why
			continue
		}
		if (!(k in seen))
			continue
		printf "| %s | %s | %s | %s | %s | %s | %s |\n", label(s),
		    cell_qps(k), thousands(median(k, qpc)),
		    fmt_ratio(ratio(k, key("dnsmasq", w, p))),
		    fmt_ratio(ratio(k, key("unbound", w, p))),
		    lw == "" ? "-" : cell_lat(key(s, lw, "udp")), cell_hwm(k)
	}
}

function table_nocache(    i, s, k, n, list) {
	if (!(key("dnsmasq-nocache", "hit", "udp") in seen))
		return
	print ""
	print "#### Hot set, every query forwarded (no cache)"
	print ""
	print "| server | transport | QPS | q/CPU-s | vs dnsmasq, cache-size=0 | avg / p99 latency (us) | VmHWM (KiB) |"
	print "|:---|:---|---:|---:|---:|---:|---:|"
	n = split("dnsmasq-nocache miodnsd-nocache miodnsd miodnsd-2t", list, " ")
	for (i = 1; i <= n; i++) {
		s = list[i]
		# miodnsd itself forwards everything only when it has no cache.
		if (s ~ /^miodnsd(-2t)?$/ && feature["cache"] == "yes")
			continue
		for (t = 1; t <= 2; t++) {
			p = t == 1 ? "udp" : "tcp"
			k = key(s, "hit", p)
			if (!(k in seen))
				continue
			printf "| %s | %s | %s | %s | %s | %s | %s |\n",
			    label(s), toupper(p), cell_qps(k),
			    thousands(median(k, qpc)),
			    fmt_ratio(ratio(k, key("dnsmasq-nocache", "hit", p))),
			    p == "udp" ? cell_lat(key(s, "lat-hit", "udp")) : "-",
			    cell_hwm(k)
		}
	}
}

function table_tcp(list,    i, j, n, s, k, w, why, refs, works) {
	print ""
	print "#### TCP (dnsperf -m tcp, 8 connections)"
	print ""
	print "| server | workload | QPS | q/CPU-s | vs dnsmasq | vs unbound |"
	print "|:---|:---|---:|---:|---:|---:|"
	n = split(list, refs, " ")
	split("hit miss", works, " ")
	for (i = 1; i <= n; i++)
		for (j = 1; j <= 2; j++) {
			s = refs[i]
			w = works[j]
			k = key(s, w, "tcp")
			why = missing(s, w)
			if (why != "" && j == 1) {
				printf "| %s | | %s | | | |\n", label(s), why
				continue
			}
			if (!(k in seen))
				continue
			printf "| %s | %s | %s | %s | %s | %s |\n", label(s),
			    w == "hit" ? "hot set" : "misses", cell_qps(k),
			    thousands(median(k, qpc)),
			    fmt_ratio(ratio(k, key("dnsmasq", w, "tcp"))),
			    fmt_ratio(ratio(k, key("unbound", w, "tcp")))
		}
}

# DNS over TLS: the hot set over TLS connections, and what a new
# connection costs (a full handshake each, openssl s_time -new).
function table_dot(list,    i, n, s, k, h, hq, refs) {
	if (!(key("unbound", "hit", "dot") in seen) &&
	    !(key("miodnsd", "hit", "dot") in seen))
		return
	print ""
	print "#### DNS over TLS (dnsperf -m dot, 8 connections; new connections: openssl s_time -new)"
	print ""
	print "| server | hot set QPS | q/CPU-s | vs unbound | handshakes/s | handshakes per CPU-s | CPU per handshake (us) |"
	print "|:---|---:|---:|---:|---:|---:|---:|"
	n = split(list, refs, " ")
	for (i = 1; i <= n; i++) {
		s = refs[i]
		k = key(s, "hit", "dot")
		h = key(s, "handshake", "dot")
		if (!(k in seen))
			continue
		hq = median(h, qpc)
		printf "| %s | %s | %s | %s | %s | %s | %s |\n", label(s),
		    cell_qps(k), thousands(median(k, qpc)),
		    fmt_ratio(ratio(k, key("unbound", "hit", "dot"))),
		    thousands(median(h, qps)), thousands(hq),
		    hq == "-" || hq == 0 ? "-" : sprintf("%.0f", 1e6 / hq)
	}
}

function table_auth(    i, s, k, why, list) {
	print ""
	print "#### Authoritative: the zone served directly"
	print ""
	print "| server | hot set QPS | q/CPU-s | vs NSD | every question of the zone (3 passes), q/CPU-s | TCP q/CPU-s | avg / p99 latency (us) | VmHWM (KiB) |"
	print "|:---|---:|---:|---:|---:|---:|---:|---:|"
	split("nsd miodnsd-auth", list, " ")
	for (i = 1; i <= 2; i++) {
		s = list[i]
		k = key(s, "hit", "udp")
		why = missing(s, "auth")
		if (why != "") {
			printf "| %s | %s | | | | | | |\n", label(s), why
			continue
		}
		if (!(k in seen))
			continue
		printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", label(s),
		    cell_qps(k), thousands(median(k, qpc)),
		    fmt_ratio(ratio(k, key("nsd", "hit", "udp"))),
		    thousands(median(key(s, "miss", "udp"), qpc)),
		    thousands(median(key(s, "hit", "tcp"), qpc)),
		    cell_lat(key(s, "lat-hit", "udp")), cell_hwm(k)
	}
}

function table_threads(    i, s1, s2, k1, k2, why, pairs, w, works, j) {
	print ""
	print "#### One thread against two (UDP; the two-thread server is not pinned)"
	print ""
	print "| server | workload | QPS, 1 thread | QPS, 2 threads | QPS ratio | q/CPU-s, 1 thread | q/CPU-s, 2 threads | q/CPU-s ratio |"
	print "|:---|:---|---:|---:|---:|---:|---:|---:|"
	split("unbound miodnsd", pairs, " ")
	split("hit miss", works, " ")
	for (i = 1; i <= 2; i++)
		for (j = 1; j <= 2; j++) {
			s1 = pairs[i]
			s2 = s1 "-2t"
			w = works[j]
			why = missing(s2, w)
			if (why == "")
				why = missing(s1, w)
			if (why != "") {
				if (j == 1)
					printf "| %s | | %s | | | | | |\n", s1, why
				continue
			}
			k1 = key(s1, w, "udp")
			k2 = key(s2, w, "udp")
			if (!(k1 in seen) || !(k2 in seen))
				continue
			printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", s1,
			    w == "hit" ? "hot set" : "misses",
			    thousands(median(k1, qps)), thousands(median(k2, qps)),
			    fmt_ratio(median(k2, qps) / median(k1, qps)),
			    thousands(median(k1, qpc)), thousands(median(k2, qpc)),
			    fmt_ratio(ratio(k2, k1))
		}
}

# Runs that lost queries, and the rates found without loss.
function table_losses(    i, k, r, parts, any) {
	print ""
	print "#### Losses"
	print ""
	any = 0
	for (i = 1; i <= nkeys; i++) {
		k = keys[i]
		split(k, parts, SUBSEP)
		for (r = 1; r <= runs[k]; r++)
			if (lost[k, r] != "-" && lost[k, r] > 0) {
				if (!any++) {
					print "| server | workload | transport | repeat | rate | lost | QPS |"
					print "|:---|:---|:---|---:|---:|---:|---:|"
				}
				printf "| %s | %s | %s | %s | %s | %.2f%% | %s |\n",
				    parts[1], parts[2], toupper(parts[3]),
				    rep[k, r], rate[k, r], lost[k, r],
				    thousands(qps[k, r])
			}
	}
	if (!any)
		print "No run lost a query."
}

# Quartiles of the other work on the machine during the runs.
function table_noise(    i, j, t, q) {
	for (i = 2; i <= nnoise; i++)
		for (j = i; j > 1 && noise[j - 1] > noise[j]; j--) {
			t = noise[j]; noise[j] = noise[j - 1]; noise[j - 1] = t
		}
	print ""
	print "#### Noise"
	print ""
	if (nnoise == 0) {
		print "No run to judge the noise by."
		return
	}
	printf "CPU used by other work on the machine during a run (neither the server,\n"
	printf "dnsperf nor the upstream), in CPU-seconds per second of run, out of %s:\n", ncpu == "" ? "-" : ncpu
	printf "median %.2f, quartiles %.2f and %.2f, highest %.2f, over %d runs.\n",
	    noise[int((nnoise + 1) / 2)], noise[int((nnoise + 3) / 4)],
	    noise[int((3 * nnoise + 1) / 4)], noise[nnoise], nnoise
	printf "The 1-minute load average went from %s to %s.\n", minload, maxload
}

function tables(    fw) {
	fw = "dnsmasq unbound unbound-2t miodnsd miodnsd-2t"
	print "### Tables"
	print ""
	print "Medians over the repeats. QPS: dnsperf at saturation (-c 8 -q 100),"
	print "the server pinned to one CPU and dnsperf to the other (two-thread"
	print "servers unpinned). q/CPU-s: completed queries per CPU-second of the"
	print "server (utime + stime of its processes, from /proc). Ratios: median"
	print "over repeats of q/CPU-s against the peer's in the same repeat. Latency:"
	print "paced runs (-Q 1000), per-query times of dnsperf -v. VmHWM: peak"
	print "resident memory, summed over the server's processes."
	forwarders("Cache hits: a hot set of " thousands(hot) " names, UDP", "hit", "udp",
	    "lat-hit", fw)
	table_nocache()
	forwarders("Misses: every question of the zone once (" \
	    thousands(4 * names - hot) " queries) after a restart, UDP; latency of paced misses",
	    "miss", "udp", "lat-miss", fw)
	forwarders("Mixed: 20% misses, 80% hot set, after a restart and a pass over the hot set, UDP",
	    "mixed", "udp", "", fw)
	table_tcp("dnsmasq unbound unbound-2t miodnsd miodnsd-2t nsd miodnsd-auth")
	table_dot("unbound unbound-2t miodnsd miodnsd-2t")
	table_auth()
	table_threads()
	table_losses()
	table_noise()
}

# ---- output -----------------------------------------------------------------------

function summary(    i, k, parts, s) {
	print "server", "workload", "proto", "runs", "qps", "max_lost_pct",
	    "noerror_pct", "q_per_cpu_s", "vs_dnsmasq", "vs_unbound", "vs_nsd",
	    "avg_us", "p99_us", "hwm_kb", "note"
	for (i = 1; i <= nkeys; i++) {
		k = keys[i]
		split(k, parts, SUBSEP)
		print parts[1], parts[2], parts[3], runs[k], median(k, qps),
		    maximum(k, lost), median(k, noerr), median(k, qpc),
		    fmt_ratio(ratio(k, key("dnsmasq", parts[2], parts[3]))),
		    fmt_ratio(ratio(k, key("unbound", parts[2], parts[3]))),
		    fmt_ratio(ratio(k, key("nsd", parts[2], parts[3]))),
		    median(k, avg), median(k, p99), maximum(k, hwm),
		    (k in note) ? note[k] : "-"
	}
	for (s in unsupported)
		print s, "all", "-", 0, "-", "-", "-", "-", "-", "-", "-", "-",
		    "-", "-", unsupported[s]
}

# plot.tsv: per server, q/CPU-s of hot set, misses, mixed, hot set over
# TCP; then average and p99 latency of paced hits and misses.
function plot(    i, n, s, list, v) {
	print "server", "hit_udp", "miss_udp", "mixed_udp", "hit_tcp",
	    "lat_hit_avg", "lat_hit_p99", "lat_miss_avg", "lat_miss_p99"
	n = split("nsd miodnsd-auth dnsmasq dnsmasq-nocache miodnsd-nocache unbound unbound-2t miodnsd miodnsd-2t", list, " ")
	for (i = 1; i <= n; i++) {
		s = list[i]
		if (!(key(s, "hit", "udp") in seen) && !(key(s, "miss", "udp") in seen))
			continue
		v = s
		if (s ~ /^miodnsd(-2t)?$/ && feature["cache"] != "yes")
			v = s "(no-cache)"
		print v, median(key(s, "hit", "udp"), qpc),
		    median(key(s, "miss", "udp"), qpc),
		    median(key(s, "mixed", "udp"), qpc),
		    median(key(s, "hit", "tcp"), qpc),
		    median(key(s, "lat-hit", "udp"), avg),
		    median(key(s, "lat-hit", "udp"), p99),
		    median(key(s, "lat-miss", "udp"), avg),
		    median(key(s, "lat-miss", "udp"), p99)
	}
}

END {
	if (hot == "") hot = 1000
	if (names == "") names = 10000
	if (mode == "summary") summary()
	else if (mode == "tables") tables()
	else if (mode == "plot") plot()
}
