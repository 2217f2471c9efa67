# compare.awk: native transcript (first file) against an emulated one
# (second), both from tests/fuzz/fuzz.c. Variables: mode, table
# (known-differences.tsv), used (a file that gets the table rows that
# matched), verbose. The transcripts are compared epoch by epoch ("-
# epoch N" lines: the fuzzer returns to its setup state and reseeds there),
# line by line within an epoch. A line with the same call and arguments
# but another result is a divergence, classified by the table (known) or
# not (unknown). Once the call or arguments differ, the two runs no longer
# make the same calls (an earlier divergence changed the fuzzer's state):
# the rest of that epoch counts as masked if a divergence before it in the
# epoch explains it (and so do the signals the next epoch's first line
# shows: they came while the harness reset that epoch's state); if none does, that first differing line is itself
# classified (call "desync" in the table: the state changed unseen). A line
# that differs only in the numbers of children after an earlier divergence
# of its epoch is masked too, and so are the harness' own lines (op, setup)
# after one; once one of those differed (the harness drew another child
# from a pool an earlier divergence changed), so is a later line of the
# epoch whose results both name a child.
# Prints "DIV known|unknown ..." lines with the native and emulated line,
# then "calls N divergences N known N unknown N masked N".
# Table rows: MODE<TAB>CALL<TAB>ARGS-ERE<TAB>NATIVE-RESULT-ERE<TAB>EMULATED-RESULT-ERE<TAB>REASON
# or MODE<TAB>rewrite<TAB>FROM-ERE<TAB>TO<TAB>-<TAB>REASON: an emulated line
# that equals the native one once FROM is replaced by TO (by one such row,
# or by all) is a known divergence that changed nothing else (the epoch
# goes on as if equal).
# (MODE: forced, gvisor, trace, or * for all; CALL: the transcript's call
# field: pidfd_open, ..., op, setup, end, desync, or * for any).
BEGIN { FS = "\t"; nt = 0
	while ((getline l < table) > 0) {
		if (l ~ /^#/ || l ~ /^[ \t]*$/) continue
		split(l, f, "\t")
		if (f[2] == "rewrite") { nw++; wm[nw] = f[1]; wf[nw] = f[3]; wt[nw] = f[4]; wr[nw] = l; continue }
		nt++
		tm[nt] = f[1]; tc[nt] = f[2]; ta[nt] = f[3]; tn[nt] = f[4]; te[nt] = f[5]; tr[nt] = l
	}
}
# Is emulated line B native line A but for a known way of showing the same
# (rewrite rows: one alone, or all of them)? Marks the rows used.
function rewritten(a, b,   w, c, all, hit) {
	for (w = 1; w <= nw; w++) {
		if (wm[w] != "*" && wm[w] != mode) continue
		c = b
		if (gsub(wf[w], wt[w], c) && c == a) { print wr[w] > used; return 1 }
	}
	all = b; hit = ""
	for (w = 1; w <= nw; w++) {
		if (wm[w] != "*" && wm[w] != mode) continue
		if (gsub(wf[w], wt[w], all)) hit = hit " " w
	}
	if (all != a) return 0
	split(hit, hs, " ")
	for (w in hs) print wr[hs[w]] > used
	return 1
}
function epoch_of(line, cur,   f) {
	if (line !~ /^-\tepoch\t/) return cur
	split(line, f, "\t")
	return "e" f[3]
}
FNR == NR { ce = epoch_of($0, NR == 1 ? "pre" : ce); if (!(ce in nn)) order[++ne_n] = ce
	nat[ce, ++nn[ce]] = $0; next }
{ if (FNR == 1) ce = "pre"; ce = epoch_of($0, ce); emu[ce, ++me[ce]] = $0; if (!(ce in nn)) extra[ce] = 1 }
function classify(call, a, b, fa, fb,   t) {
	for (t = 1; t <= nt; t++) {
		if (tm[t] != "*" && tm[t] != mode) continue
		if (tc[t] != call && tc[t] != "*") continue
		if (fa[3] !~ ta[t]) continue
		if (fa[4] !~ tn[t]) continue
		if (fb[4] !~ te[t]) continue
		return t
	}
	return 0
}
function report(tag, what, a, b) {
	if (tag == "unknown" || verbose) {
		print "DIV " tag " " mode " " what
		print "    native:   " a
		print "    " mode ": " b
	}
}
END {
	calls = 0; div = 0; known = 0; unknown = 0; masked = 0
	for (k = 1; k <= ne_n; k++) {
		e = order[k]; before = seen || desync; seen = 0; desync = 0; pool = 0
		n = nn[e] > me[e] ? nn[e] : me[e]
		for (i = 1; i <= n; i++) {
			a = ((e, i) in nat) ? nat[e, i] : ""
			b = ((e, i) in emu) ? emu[e, i] : ""
			split(a, fa, "\t"); split(b, fb, "\t")
			if (fa[1] ~ /^[0-9]+$/) calls++
			if (a == b) continue
			div++
			if (desync) { masked++; continue }
			# an epoch's first line shows the signals that came while
			# the harness reset the state the epoch before left: after
			# a divergence there, other ones (a thread or child that
			# only one run made)
			if (i == 1 && fa[2] == "epoch" && fb[2] == "epoch" && fa[3] == fb[3] && before) { masked++; continue }
			if (rewritten(a, b)) { known++; report("known", "rewrite", a, b); continue }
			# after a divergence that changed the pool, children are
			# numbered otherwise: a line that differs only so (and by
			# the mode's rewrites) is masked
			if (seen && fa[1] == "-" && fa[2] != "end") { masked++; pool = 1; continue } # the harness' own state
			# once the harness changed another child (a pool it drew
			# from differs), what a call says of children follows it
			if (pool && fa[4] ~ /child#/ && fb[4] ~ /child#/) { masked++; continue }
			if (seen) {
				na = a; nb2 = b
				gsub(/child#[0-9]+/, "child#N", na); gsub(/child#[0-9]+/, "child#N", nb2)
				if (na == nb2 || rewritten(na, nb2)) { masked++; continue }
			}
			same = a != "" && b != "" && fa[1] == fb[1] && fa[2] == fb[2] && fa[3] == fb[3]
			if (!same) {
				desync = 1
				if (seen) { masked++; continue }
				call = "desync"
			} else
				call = fa[2]
			seen = 1
			t = classify(call, a, b, fa, fb)
			if (t) { known++; print tr[t] > used; report("known", call, a, b) }
			else { unknown++; report("unknown", call, a, b) }
		}
	}
	for (e in extra) { unknown++; print "DIV unknown " mode " epoch " e " only in the emulated run" }
	print "calls " calls " divergences " div " known " known " unknown " unknown " masked " masked
}
