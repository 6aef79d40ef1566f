#!/usr/bin/env bash
# A private PostgreSQL 15 server on loopback, for tests and local runs.
#
#   scripts/postgres.sh start DATADIR PORT   # initdb if needed, start, print the connection URL
#   scripts/postgres.sh stop DATADIR PORT    # stop it (fast shutdown: sessions end, data kept)
#
# PostgreSQL refuses to run as root, so as root the server runs as the `postgres` system
# user and DATADIR is handed to it (its parent must be traversable, e.g. under /tmp).
# Authentication is `trust` on 127.0.0.1 only: never point this at a shared data dir.
# POSTGRES_OPTIONS adds server options at start (e.g. "-c max_connections=400").
# Without the binaries, the Debian package is installed first (without a default cluster).
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
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

as_postgres() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

install_postgres() {
    [[ -x $PG_BIN/initdb ]] && return 0
    if [[ $(id -u) -ne 0 ]]; then
        echo "PostgreSQL 15 is not installed ($PG_BIN/initdb missing) and only root can install it" >&2
        exit 1
    fi
    # The package would otherwise create and start a cluster on port 5432 of its own.
    mkdir -p /etc/postgresql-common
    grep -qs '^create_main_cluster' /etc/postgresql-common/createcluster.conf ||
        echo 'create_main_cluster = false' >>/etc/postgresql-common/createcluster.conf
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    [[ -x $PG_BIN/initdb ]] || {
        echo "installed the postgresql package but $PG_BIN/initdb is still missing" >&2
        exit 1
    }
}

running() {
    [[ -f $datadir/postmaster.pid ]] && as_postgres "$PG_BIN/pg_ctl" -D "$datadir" status >/dev/null 2>&1
}

url() {
    echo "postgresql://postgres@127.0.0.1:$port/postgres"
}

case $action in
start)
    install_postgres
    mkdir -p "$datadir"
    if [[ $(id -u) -eq 0 ]]; then
        chown postgres:postgres "$datadir"
    fi
    chmod 700 "$datadir"
    if ! as_postgres test -w "$datadir"; then
        echo "the postgres user cannot write $datadir: put it where that user can reach (e.g. /tmp)" >&2
        exit 1
    fi
    if [[ ! -f $datadir/PG_VERSION ]]; then
        as_postgres "$PG_BIN/initdb" -D "$datadir" -U postgres --auth=trust -E UTF8 --no-locale >/dev/null
    fi
    if ! running; then
        as_postgres "$PG_BIN/pg_ctl" -D "$datadir" -l "$datadir/server.log" -w -t 60 start \
            -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$datadir ${POSTGRES_OPTIONS:-}" >/dev/null ||
            {
                echo "PostgreSQL did not start; its log:" >&2
                tail -n 20 "$datadir/server.log" >&2
                exit 1
            }
    fi
    url
    ;;
stop)
    if running; then
        as_postgres "$PG_BIN/pg_ctl" -D "$datadir" -w -t 60 -m fast stop >/dev/null
    fi
    ;;
*)
    usage
    ;;
esac
