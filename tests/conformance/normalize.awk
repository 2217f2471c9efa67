# Rewrite the emulated texts of tests/conformance/differences.tsv (the
# first file) to their native texts in a transcript (the second file).
#   awk -F'\t' -v mode=MODE -v scen=SCENARIO -f normalize.awk TABLE FILE
# Rows apply by key prefix: none (every emulated mode), "gvisor:" (modes
# whose name contains gvisor), "trace:" (modes whose name starts with
# trace; the trace suite runs all its modes as trace modes).
NR == FNR {
	if ($0 ~ /^#/ || NF < 4) next
	key = $1
	if (key ~ /^gvisor:/) {
		if (mode !~ /gvisor/) next
		sub(/^gvisor:/, "", key)
	} else if (key ~ /^trace:/) {
		if (mode !~ /^trace/) next
		sub(/^trace:/, "", key)
	}
	n = index(key, "/")
	if (substr(key, 1, n - 1) != scen) next
	step = substr(key, n + 1)
	map[step ": " $3] = step ": " $2
	next
}
{ if ($0 in map) print map[$0]; else print }
