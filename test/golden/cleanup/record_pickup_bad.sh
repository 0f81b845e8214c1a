#!/bin/sh
# What Postfix's pickup says about damaged maildrop files: a file of
# garbage and an empty file. Same private instance as record_daemon.sh.
# Usage: sh record_pickup_bad.sh <out>
set -eu
OUT=${1:?output dir}
. "$(dirname "$0")/../private_postfix.sh"
pf_no_qmgr
TZ=UTC timeout 60 unshare -m sh -c "
  mount --bind $G/conf /etc/postfix && postfix start && sleep 2
  printf 'this is not a queue file\n' > $G/q/maildrop/ABCDE123451
  : > $G/q/maildrop/ABCDE123452
  chmod 744 $G/q/maildrop/ABCDE12345?
  postkick public pickup W; sleep 2
  ls $G/q/maildrop > $G/left.txt
  postfix stop; sleep 1"
mkdir -p "$OUT"
pf_maillog > "$OUT/maillog.txt"
cp "$G/left.txt" "$OUT/left.txt"
