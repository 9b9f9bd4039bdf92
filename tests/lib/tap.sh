# tap.sh - TAP output for the shell tests; source it, then call tap and
# finish with "echo 1..$n" and "[ $failed -eq 0 ]".
# shellcheck shell=sh

n=0
failed=0

# tap OK|FAIL DESCRIPTION [DETAIL] - one test line; DETAIL becomes # comments
tap() {
	n=$((n + 1))
	if [ "$1" = OK ]; then
		echo "ok $n - $2"
	else
		failed=$((failed + 1))
		echo "not ok $n - $2"
		[ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/# /'
	fi
}
