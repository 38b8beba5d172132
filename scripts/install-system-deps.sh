#!/usr/bin/env bash
# System binaries the test suite runs for real: Prometheus (promtool) and Alertmanager (amtool).
# Idempotent: installs only what is missing. CI runs it as root on a fresh Debian machine.
set -euo pipefail

missing=()
for binary in promtool prometheus; do
  command -v "$binary" >/dev/null 2>&1 || { missing+=(prometheus); break; }
done
for binary in prometheus-alertmanager amtool; do
  command -v "$binary" >/dev/null 2>&1 || { missing+=(prometheus-alertmanager); break; }
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-system-deps: prometheus and alertmanager binaries present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-system-deps: need root to apt-get install ${missing[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
# --no-install-recommends: the binaries are all the tests need; no services get enabled.
apt-get install -y --no-install-recommends "${missing[@]}"
echo "install-system-deps: installed ${missing[*]}"
