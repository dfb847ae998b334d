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
# turbo --continue lists what failed, such as "Failed:    @keyguard/node#test, @keyguard/redis#test".
/^ *Failed: / { sub(/^ *Failed: +/, ""); failed = failed (failed ? ", " : "") $0 }
END {
  printf "vitest: %d passed, %d failed%s%s\n", p, f, (s ? ", " s " skipped" : ""), (failed ? " (failed tasks: " failed ")" : "")
}
