#!/bin/sh
# Fifth set: the check log line with two recipients and from an SMTP
# client (proto, helo), a MIME error reject (8-bit header with
# strict_7bit_headers) and its bounce. Same private instance as
# record_daemon.sh. Usage: sh record_daemon5.sh <out>
set -eu
OUT=${1:?output dir}
. "$(dirname "$0")/../private_postfix.sh"
pf_no_qmgr
pf_smtpd 127.0.0.1:10025 \
  "header_checks = regexp:$G/conf/header_checks" \
  'strict_7bit_headers = yes' \
  'mynetworks = 127.0.0.0/8'
printf '/^Subject: warn me/ WARN watch this\n/^Subject: reject me/ REJECT no thanks\n' > "$G/conf/header_checks"
pf_run 60 3 "
  printf 'Subject: warn me\n\nbody\n' | submit -F root -f alice@example.com first@example.com second@example.com
  printf 'Subject: caf\303\251\n\nbody\n' | submit -F root -f alice@example.com bob@example.com
  python3 $G/smtp.py 127.0.0.1 ehlo:client.example.net s@example.net one@example.com 'Subject: warn me\r\n\r\nbody\r\n' s@example.net one@example.com 'Subject: reject me\r\n\r\nbody\r\n' > $G/smtp.txt"
mkdir -p "$OUT"
pf_maillog > "$OUT/maillog.txt"
cp "$G/smtp.txt" "$OUT/smtp.txt"
