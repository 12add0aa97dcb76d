#!/bin/sh
# Install the Debian packages spex needs to build, test, demo and bench.
# Idempotent and quiet when everything is present; runs apt-get update first
# only when something is missing (fresh machines and CI start without lists).
set -eu

PKGS="make gcc pkg-config libprotobuf-c-dev protobuf-c-compiler libevent-dev \
libcgroup-dev cgroup-tools libcjson-dev protobuf-compiler python3 \
python3-protobuf python3-pytest golang-github-mesos-mesos-go-dev \
openjdk-17-jdk-headless clang-14 libclang-rt-14-dev valgrind procps \
python3-jsonschema"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
