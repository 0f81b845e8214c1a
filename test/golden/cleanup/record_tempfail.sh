#!/bin/sh
# header_checks naming a table that cannot be opened: what Postfix 3.7's
# cleanup logs and what smtpd replies. Same private instance as
# record_daemon.sh. Usage: sh record_tempfail.sh <out>
set -eu
OUT=${1:?output dir}
. "$(dirname "$0")/../private_postfix.sh"
pf_no_qmgr
pf_smtpd 127.0.0.1:10025 \
  "header_checks = hash:$G/conf/missing" \
  'mynetworks = 127.0.0.0/8'
pf_run 60 2 "
  python3 $G/smtp.py 127.0.0.1 ehlo:client.example.net s@example.net one@example.com 'Subject: tf\r\n\r\nbody\r\n' > $G/smtp.txt"
mkdir -p "$OUT"
grep -v 'postfix-script\|master\[' "$G/maillog" | sed "s#$G#DIR#g" > "$OUT/maillog.txt" || true
cp "$G/smtp.txt" "$OUT/smtp.txt"
