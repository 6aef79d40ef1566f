#!/usr/bin/env bash
# A private Redis server on loopback, for the production server's run queue (Aegra).
#
#   scripts/redis.sh start DATADIR PORT   # start (installing Debian's redis-server if missing), print its URL
#   scripts/redis.sh stop DATADIR PORT    # stop it
#
# No password and loopback only: never point it at a shared data dir or interface.
# The Debian package would start a server of its own on 6379; that start is refused.
set -euo pipefail

usage() {
    echo "usage: $0 start|stop DATADIR PORT" >&2
    exit 2
}
[[ $# -eq 3 ]] || usage
action=$1
datadir=$2
port=$3
[[ $port =~ ^[0-9]+$ ]] || usage

install_redis() {
    command -v redis-server >/dev/null && return 0
    if [[ $(id -u) -ne 0 ]]; then
        echo "redis-server is not installed and only root can install it" >&2
        exit 1
    fi
    local policy=/usr/sbin/policy-rc.d own_policy=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod +x "$policy"
        own_policy=1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
    [[ $own_policy -eq 1 ]] && rm -f "$policy"
    command -v redis-server >/dev/null || {
        echo "installed the redis-server package but redis-server is still missing" >&2
        exit 1
    }
}

case $action in
start)
    install_redis
    mkdir -p "$datadir"
    if ! redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1; then
        redis-server --bind 127.0.0.1 --port "$port" --dir "$datadir" --daemonize yes \
            --pidfile "$datadir/redis.pid" --logfile "$datadir/redis.log" \
            --save "" --appendonly yes --protected-mode yes
        for _ in $(seq 50); do
            redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && break
            sleep 0.1
        done
        redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null || {
            echo "Redis did not start; its log:" >&2
            tail -n 20 "$datadir/redis.log" >&2
            exit 1
        }
    fi
    echo "redis://127.0.0.1:$port/0"
    ;;
stop)
    if redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1; then
        redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1 || true
    fi
    ;;
*)
    usage
    ;;
esac
