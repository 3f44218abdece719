#!/usr/bin/env bash
# Installs the Debian packages of the real services the tests start on loopback:
# PostgreSQL (tracker store), Redis (lock store), Chromium + ChromeDriver (web chat test).
# Runs `apt-get update` once, and only when a package is missing; safe to run again.
set -euo pipefail
PACKAGES=(postgresql redis-server chromium chromium-driver)
missing=()
for package in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "system_packages: missing ${missing[*]}; run this script as root" \
        "(or: sudo apt-get install ${missing[*]})" >&2
    exit 1
fi
echo "system_packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The package starts a system-wide server; the tests start their own on free loopback ports.
for service in postgresql redis-server; do
    if command -v service >/dev/null 2>&1; then
        service "$service" stop >/dev/null 2>&1 || true
    fi
done
