#!/usr/bin/env bash
# Install Debian packages that mastplan uses when they are missing (needs root and apt-get);
# otherwise say what is missing and go on: they are optional for the command that asked.
# Usage: scripts/ensure-debian-packages.sh PACKAGE...
set -u
missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing ${missing[*]} from Debian" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") \
    >/dev/null 2>&1 || echo "could not install ${missing[*]}; going on without" >&2
else
  echo "note: ${missing[*]} not installed (needs root): going on without" >&2
fi
exit 0
