# One closing line for a whole `pnpm test` log: sums every vitest "Tests" line (turbo prefixes them with
# the package's name) and names the packages whose test task failed.
# Usage: sed 's/\x1b\[[0-9;]*m//g' test.log | awk -f scripts/vitest-summary.awk
/[: ]Tests +[0-9]/ {
  for (i = 1; i <= NF; i++) {
    if ($(i + 1) ~ /^passed/) p += $i
    if ($(i + 1) ~ /^failed/) f += $i
    if ($(i + 1) ~ /^skipped/) s += $i
  }
}
# Each failing test's heading and first lines, kept to print again at the end, where a truncated CI log
# still shows them.
/ FAIL / { grab = 12 }
grab > 0 && NF { failures = failures $0 "\n"; grab--; nfail++ }
# turbo --continue lists what failed, such as "Failed:    @keyguard/node#test, @keyguard/redis#test".
/^ *Failed: / { sub(/^ *Failed: +/, ""); failed = failed (failed ? ", " : "") $0 }
END {
  if (failures != "") printf "--- failing tests (first lines of each) ---\n%s---\n", substr(failures, 1, 6000)
  printf "vitest: %d passed, %d failed%s%s\n", p, f, (s ? ", " s " skipped" : ""), (failed ? " (failed tasks: " failed ")" : "")
}
