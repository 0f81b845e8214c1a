#!/bin/sh
# Second set: null sender, undisclosed_recipients_header, Delivered-To
# hops, and an SMTP submission (Received: from ... with ESMTP). Same
# private instance as record_daemon.sh. Usage: sh record_daemon2.sh <out>
set -eu
OUT=${1:?output dir}
. "$(dirname "$0")/../private_postfix.sh"
pf_no_qmgr
pf_smtpd 127.0.0.1:10025 \
  'undisclosed_recipients_header = To: undisclosed-recipients:;' \
  'mynetworks = 127.0.0.0/8' \
  'hopcount_limit = 5'
pf_run 60 2 "
  printf 'Subject: nullsender\n\nbody\n' | submit -f '' bob@example.com
  printf 'Subject: nofullname\n\nbody\n' | submit -F '' -f 'x@example.com' bob@example.com
  printf 'Subject: quoted\n\nbody\n' | submit -F 'A. B (C)' -f 'x@example.com' bob@example.com
  printf 'Delivered-To: a\nDelivered-To: b\nReceived: x\nReceived: y\nReceived: z\nSubject: dt hops\n\nbody\n' | submit -f x@example.com bob@example.com
  python3 $G/smtp.py 127.0.0.1 ehlo:client.example.net s@example.net one@example.com 'Subject: smtp one\r\n\r\nbody\r\n' s@example.net one@example.com,two@example.com 'Subject: smtp two\r\n\r\nbody\r\n'
  python3 $G/smtp.py 127.0.0.1 helo:h.example.net s@example.net one@example.com 'Subject: smtp helo\r\nFrom: f@example.net\r\n\r\nbody\r\n'"
pf_postcat "$OUT"
cp "$G/maillog" "$OUT/maillog.txt"
