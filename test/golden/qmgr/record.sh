#!/bin/sh
# Record what Postfix 3.7's qmgr logs, from a private instance (root and
# unshare(1) needed; the private instance is the mailbox tests' set-up,
# bind-mounted over /etc/postfix in a private mount namespace only).
# Scenarios: a local delivery; defer_transports; a transport master.cf
# does not have; expiry with maximal_queue_lifetime = 0 (the notice goes
# to a local sender). Usage: sh record.sh <output-dir>
set -eu
OUT=${1:?output dir}
. "$(dirname "$0")/../private_postfix.sh"
cat >> "$G/conf/main.cf" <<CF
transport_maps = inline:{ deferme.test=slow:, nowhere.test=nosuch: }
defer_transports = slow
maximal_queue_lifetime = 0
CF
printf 'slow unix - - n - - smtp\n' >> "$G/conf/master.cf"
pf_run 60 4 "
  printf 'Subject: one\n\nhello\n' | sendmail -f nobody@mx.example.com nobody
  sleep 1
  printf 'Subject: two\n\nhello\n' | sendmail -f nobody@mx.example.com u@deferme.test
  sleep 1
  printf 'Subject: three\n\nhello\n' | sendmail -f nobody@mx.example.com u@nowhere.test"
mkdir -p "$OUT"
cp "$G/maillog" "$OUT/maillog.txt"
