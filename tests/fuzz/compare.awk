# compare.awk: native transcript (first file) against an emulated one
# (second), both from tests/fuzz/fuzz.c. Variables: mode, table
# (known-differences.tsv), used (a file that gets the table rows that
# matched). Prints "DIV known|unknown CALL" lines with the native and
# emulated line, then "calls N divergences N known N unknown N".
# Table rows: MODE<TAB>CALL<TAB>ARGS-ERE<TAB>NATIVE-RESULT-ERE<TAB>EMULATED-RESULT-ERE<TAB>REASON
# (MODE: forced, gvisor, trace, or * for all).
BEGIN { FS = "\t"; nt = 0
	while ((getline l < table) > 0) {
		if (l ~ /^#/ || l ~ /^[ \t]*$/) continue
		split(l, f, "\t"); nt++
		tm[nt] = f[1]; tc[nt] = f[2]; ta[nt] = f[3]; tn[nt] = f[4]; te[nt] = f[5]; tr[nt] = l
	}
}
FNR == NR { nat[FNR] = $0; nn = FNR; next }
{ emu[FNR] = $0; ne = FNR }
END {
	calls = 0; div = 0; known = 0; unknown = 0
	n = nn > ne ? nn : ne
	for (i = 1; i <= n; i++) {
		a = nat[i]; b = emu[i]
		split(a, fa, "\t")
		if (fa[1] ~ /^[0-9]+$/) calls++
		if (a == b) continue
		split(b, fb, "\t")
		div++
		call = fa[2]; if (call == "" ) call = "missing"
		if (fa[2] == "op" || fa[2] == "setup" || fa[2] == "end") call = fa[2] ":" fa[3]
		hit = 0
		for (t = 1; t <= nt; t++) {
			if (tm[t] != "*" && tm[t] != mode) continue
			if (tc[t] != fa[2]) continue
			if (fa[3] !~ ta[t]) continue
			if (fa[4] !~ tn[t]) continue
			if (fb[4] !~ te[t]) continue
			hit = t; break
		}
		if (hit) { known++; print tr[hit] > used; tag = "known" } else { unknown++; tag = "unknown" }
		if (tag == "unknown" || verbose) {
			print "DIV " tag " " mode " " fa[2]
			print "    native:   " a
			print "    " mode ": " b
		}
		if (a ~ /^-\tend/ || a == "") { }
	}
	print "calls " calls " divergences " div " known " known " unknown " unknown
}
