#!/usr/bin/env bash
# make cross-build (and make lint): the packages business code needs must build where
# business code is written. Each package named on the command line (make's
# CROSS_PKGS: the client library, larsctl), its dependencies included, must build with
# GOOS=darwin and GOOS=windows; a failure fails the script, with the compiler's errors.
# Then, for information, it lists the module's Linux-only packages (those that do not
# build on darwin or windows, or import one that does not) and the packages that build
# there but whose tests do not (go vet, which compiles the tests, fails there).
#
# Usage: scripts/crossbuild.sh PKG...   (GO names the go command, default go)
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
if [ $# -eq 0 ]; then
	echo "usage: $0 PKG..." >&2
	exit 2
fi

# header_pkgs reads go build or go vet output and prints the packages of its "# pkg"
# and "# [pkg]" headers, one a line.
header_pkgs() {
	sed -n 's/^# \[\{0,1\}\([^] ]*\).*/\1/p' | sort -u
}

status=0
declare -A linux_only=() tests_linux_only=()
for os in darwin windows; do
	if ! out=$(GOOS=$os "$GO" build "$@" 2>&1); then
		echo "cross-build: these must build with GOOS=$os: $*"
		echo "$out"
		status=1
	fi

	# A package is Linux-only on $os when it, or a package it imports, does not build
	# there, or when none of its files is for $os.
	declare -A broken=()
	for pkg in $(GOOS=$os "$GO" build ./... 2>&1 | header_pkgs || true); do
		broken[$pkg]=1
	done
	while read -r pkg err deps; do
		bad=$err
		for p in $pkg $deps; do
			if [ -n "${broken[$p]:-}" ]; then
				bad=1
				break
			fi
		done
		if [ "$bad" = 1 ]; then
			linux_only[$pkg]+=" $os"
		fi
	done < <(GOOS=$os "$GO" list -e -f '{{.ImportPath}} {{if .Error}}1{{else}}0{{end}} {{join .Deps " "}}' ./...)

	for pkg in $(GOOS=$os "$GO" vet ./... 2>&1 | header_pkgs || true); do
		if [ -z "${linux_only[$pkg]:-}" ]; then
			tests_linux_only[$pkg]+=" $os"
		fi
	done
done

# list prints the packages of an associative array (named by $1) with their systems.
list() {
	local -n set=$1
	if [ ${#set[@]} -eq 0 ]; then
		echo "  none"
		return
	fi
	for pkg in $(printf '%s\n' "${!set[@]}" | sort); do
		echo "  ${pkg#github.com/larsgo/lars/} (not on${set[$pkg]})"
	done
}

if [ $status -eq 0 ]; then
	echo "cross-build: $* build with GOOS=darwin and GOOS=windows"
fi
echo "Linux-only packages (they do not build elsewhere):"
list linux_only
echo "Packages whose tests are Linux-only (go vet fails elsewhere):"
list tests_linux_only
exit $status
