#!/bin/sh
# An SMTP client that does not match local_header_rewrite_clients (set
# empty): which headers Postfix 3.7 adds for it. Same private instance as
# record_daemon.sh. Usage: sh record_remote.sh <out>
set -eu
OUT=${1:?output dir}
. "$(dirname "$0")/../private_postfix.sh"
pf_no_qmgr
pf_smtpd 127.0.0.1:10025 \
  'local_header_rewrite_clients =' \
  'mynetworks = 127.0.0.0/8'
pf_run 60 2 "
  python3 $G/smtp.py 127.0.0.1 ehlo:client.example.net s@example.net one@example.com 'Subject: remote\r\nTo: x\r\n\r\nbody\r\n'"
pf_postcat "$OUT"
pf_maillog > "$OUT/maillog.txt"
