#!/usr/bin/env bash
# Builds promptcheck from this checkout with the Swift standard library linked in
# (the binary then needs only libcurl and libyaml at run time) and installs it.
#
#   scripts/install.sh                      installs /usr/local/bin/promptcheck
#   scripts/install.sh --prefix "$HOME/.local"
#   scripts/install.sh --uninstall [--prefix P]
#
# It needs Swift 6 and the -dev packages to build: apt-get install libcurl4-openssl-dev libyaml-dev
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=/usr/local
uninstall=false
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix="$2"; shift 2 ;;
    --prefix=*) prefix="${1#--prefix=}"; shift ;;
    --uninstall) uninstall=true; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
target="$prefix/bin/promptcheck"
if $uninstall; then
  if [ -e "$target" ]; then rm -f "$target"; echo "removed $target"; else echo "nothing to remove at $target"; fi
  exit 0
fi
swift build -c release --static-swift-stdlib --product promptcheck
mkdir -p "$prefix/bin"
install -m 0755 .build/release/promptcheck "$target"
echo "installed $target ($("$target" --version))"
