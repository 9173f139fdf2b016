#!/usr/bin/env bash
# Trains the JVM's AOT cache (JDK 25) on pulls, as the JVM image is built (Dockerfile.jvm), so that the first pull
# of a pod scaled from zero does not spend itself compiling.
#
#   train-aot.sh POSTGRES APP_COMMAND...
#
# POSTGRES: a PostgreSQL installation (a folder holding bin/postgres, bin/pg_ctl, bin/initdb), or a .txz of one or a
# folder holding it: target/aot-training/, where the build puts the embedded-postgres binaries the tests run.
# APP_COMMAND: starts the packaged app with -XX:AOTCacheOutput=FILE among its JVM options; the JVM writes the cache
# when the app exits.
#
# What it does: a throwaway PostgreSQL (wal_level=logical) with a source and a target database; the app started with
# them; three rounds of a workload written on the source (inserts, updates of every row, key moves, deletes, a
# transaction larger than one group) and pulled with POST /pull until drained, a few pushed changes in the native
# format, and POST /verify, which must find the target equal to the source; then SIGTERM, and the app's exit code.
# The workload is written with the server's single-user mode between rounds, so no SQL client is needed.
# Run as root, the database runs as TRAIN_PG_USER (nobody), since PostgreSQL refuses root.
set -euo pipefail

[ $# -ge 2 ] || { echo "usage: $0 POSTGRES APP_COMMAND..." >&2; exit 2; }
postgres_from=$1
shift

pg_port=${TRAIN_PG_PORT:-54329}
app_port=${TRAIN_APP_PORT:-8089}
rows=${TRAIN_ROWS:-20000}
work=$(mktemp -d "${TMPDIR:-/tmp}/replicator-aot.XXXXXX")
app_pid=""

as_postgres() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u "${TRAIN_PG_USER:-nobody}" -- "$@"
  else
    "$@"
  fi
}

cleanup() {
  if [ -n "$app_pid" ] && kill -0 "$app_pid" 2>/dev/null; then
    kill "$app_pid" 2>/dev/null || true
  fi
  if [ -f "$work/data/postmaster.pid" ]; then
    as_postgres "$pg/bin/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "train-aot: $*" >&2
  [ -f "$work/app.log" ] && tail -n 40 "$work/app.log" >&2
  exit 1
}

if [ -x "$postgres_from/bin/postgres" ]; then
  pg=$(cd "$postgres_from" && pwd)
else
  archive=$postgres_from
  if [ -d "$postgres_from" ]; then
    archive=$(ls "$postgres_from"/*.txz 2>/dev/null | head -n 1)
  fi
  [ -f "$archive" ] || fail "no bin/postgres and no .txz in $postgres_from"
  mkdir "$work/pg"
  tar -xJf "$archive" -C "$work/pg" || fail "cannot unpack $archive (tar with xz is needed)"
  pg=$work/pg
fi
[ -x "$pg/bin/postgres" ] || fail "no bin/postgres in $postgres_from"
command -v curl >/dev/null || fail "curl is needed"

mkdir "$work/data"
if [ "$(id -u)" = 0 ]; then
  chown "${TRAIN_PG_USER:-nobody}" "$work" "$work/data"
  chmod 755 "$work"
fi
as_postgres "$pg/bin/initdb" -D "$work/data" -U postgres -A trust -E UTF8 --no-locale >"$work/initdb.log" 2>&1 \
  || { cat "$work/initdb.log" >&2; fail "initdb failed"; }
cat >>"$work/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$work'
wal_level = logical
max_wal_senders = 4
max_replication_slots = 4
fsync = off
EOF

# SQL through the single-user backend (the server must be stopped): statements end with ";" and an empty line.
single() {
  local db=$1 sql=$2
  printf '%s\n' "$sql" | as_postgres "$pg/bin/postgres" --single -j -D "$work/data" "$db" >>"$work/single.log" 2>&1 \
    || { tail -n 20 "$work/single.log" >&2; fail "single-user SQL on $db failed"; }
  if grep -q 'ERROR:' "$work/single.log"; then
    grep 'ERROR:' "$work/single.log" >&2
    fail "single-user SQL on $db failed"
  fi
}
server() {
  as_postgres "$pg/bin/pg_ctl" -D "$work/data" -l "$work/postgres.log" -w -m fast "$1" >/dev/null \
    || { tail -n 20 "$work/postgres.log" >&2; fail "pg_ctl $1 failed"; }
}

schema='CREATE TABLE public.items (id bigint PRIMARY KEY, name text NOT NULL, qty int, price numeric(12,2), note text,
  updated timestamptz, day date, flag boolean, ratio double precision, span interval, tags text[], doc jsonb,
  data bytea, uid uuid);

CREATE TABLE public.lines (order_id int, line int, sku text, amount numeric, PRIMARY KEY (order_id, line));

CREATE TABLE public.pushed (id int PRIMARY KEY, v text, at timestamptz);
'
single postgres "CREATE DATABASE source;

CREATE DATABASE target;
"
server start

export QUARKUS_HTTP_PORT=$app_port
export QUARKUS_DATASOURCE_SOURCE_JDBC_URL="jdbc:postgresql://127.0.0.1:$pg_port/source"
export QUARKUS_DATASOURCE_SOURCE_USERNAME=postgres
export QUARKUS_DATASOURCE_TARGET_JDBC_URL="jdbc:postgresql://127.0.0.1:$pg_port/target"
export QUARKUS_DATASOURCE_TARGET_USERNAME=postgres
export REPLICATOR_ALLOW_ALL_TABLES=true
export REPLICATOR_PULL_CREATE=true
"$@" >"$work/app.log" 2>&1 &
app_pid=$!

http() { # method path body -> prints the status, the body goes to $work/answer
  curl -s -o "$work/answer" -w '%{http_code}' -X "$1" -H 'Content-Type: application/json' \
    --data "${3:-}" "http://127.0.0.1:$app_port$2"
}

ready=""
for _ in $(seq 1 120); do
  kill -0 "$app_pid" 2>/dev/null || fail "the app stopped before it was ready"
  if [ "$(http GET /q/health/ready)" = 200 ]; then
    ready=yes
    break
  fi
  sleep 0.5
done
[ -n "$ready" ] || fail "the app was not ready after 60 s"

# The first pull creates the publication (FOR ALL TABLES) and the slot; the workload comes after it.
[ "$(http POST /pull '{}')" = 200 ] || fail "the first pull answered $(cat "$work/answer")"

workload() {
  local round=$1 from to sql=""
  for ((from = 1; from <= rows; from += 1000)); do
    to=$((from + 999))
    sql+="INSERT INTO items SELECT g + $round * $rows, 'item ' || g, g % 100, g * 0.25, md5(g::text),
      '2026-01-01 00:00:00+00'::timestamptz + g * interval '1 minute', date '2026-01-01' + g % 365, g % 2 = 0,
      g / 7.0, g * interval '1 second', ARRAY['t' || g % 5, 'u'], jsonb_build_object('g', g, 'k', ARRAY[g, g + 1]),
      decode(md5(g::text), 'hex'), md5(g::text)::uuid FROM generate_series($from, $to) g;

INSERT INTO lines SELECT g + $round * $rows, 1, 'sku-' || g, g * 1.5 FROM generate_series($from, $to) g;

"
  done
  for ((from = 1; from <= rows; from += 1000)); do
    to=$((from + 999))
    sql+="UPDATE items SET qty = qty + 1, note = note || 'x', tags = array_append(tags, 'v'), doc = doc || '{\"u\": true}'
      WHERE id BETWEEN $from + $round * $rows AND $to + $round * $rows;

UPDATE lines SET line = 2, amount = amount + 1 WHERE order_id BETWEEN $from + $round * $rows AND $to + $round * $rows;

DELETE FROM items WHERE id % 10 = 0 AND id BETWEEN $from + $round * $rows AND $to + $round * $rows;

"
  done
  # one transaction larger than a group (replicator.pull.group-changes, 5000): written in pieces
  sql+="UPDATE items SET price = price + 1 WHERE id > $round * $rows;
"
  single source "$sql"
}

pull_until_drained() {
  local status
  for _ in $(seq 1 100); do
    status=$(http POST /pull '{}')
    if [ "$status" = 503 ]; then # as a broker does: a pooled connection from before the restart was closed
      sleep 1
      continue
    fi
    [ "$status" = 200 ] || fail "a pull answered $status: $(cat "$work/answer")"
    grep -q '"done":true' "$work/answer" && return 0
  done
  fail "the slot was not drained after 100 pulls"
}

for round in 0 1 2; do
  server stop
  if [ "$round" = 0 ]; then
    # Only now: until the running server has handed out an OID (the app's own tables on the target, the
    # publication), a fresh cluster's single-user backend gives OIDs below 16384, and a publication FOR ALL TABLES
    # leaves such tables out as the system's own.
    single source "$schema"
    single target "$schema"
  fi
  workload "$round"
  server start
  pull_until_drained
  status=$(http POST / "{\"specversion\":\"1.0\",\"id\":\"train-$round\",\"source\":\"/train\",
    \"type\":\"replicator.change.v1\",\"datacontenttype\":\"application/json\",\"data\":{\"table\":\"public.pushed\",
    \"op\":\"upsert\",\"position\":[$round, 1],\"after\":{\"id\":$round,\"v\":\"pushed\",\"at\":\"2026-01-01 00:00:00+00\"}}}")
  [ "$status" = 204 ] || fail "a pushed change answered $status: $(cat "$work/answer")"
done

status=$(http POST /verify '{"tables": ["public.items", "public.lines"]}')
[ "$status" = 200 ] || fail "verify answered $status: $(cat "$work/answer")"
grep -q '"finished":true' "$work/answer" || fail "verify did not finish: $(cat "$work/answer")"
if grep -oE '"(changed|missing|extra)":[0-9]+' "$work/answer" | grep -qv ':0$'; then
  fail "the target differs from the source: $(cat "$work/answer")"
fi
echo "train-aot: pulled three rounds of $rows rows; verify: $(cat "$work/answer")"

kill -TERM "$app_pid"
code=0
wait "$app_pid" || code=$?
app_pid=""
[ "$code" = 0 ] || [ "$code" = 143 ] || fail "the app exited with $code"
echo "train-aot: the app exited ($code)"
