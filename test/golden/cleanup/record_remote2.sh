#!/bin/sh
# A remote SMTP client (not in local_header_rewrite_clients) sending
# Return-Path:, Content-Length:, Bcc:. Usage: sh record_remote2.sh > remote2/out.txt
set -eu
. "$(dirname "$0")/../mailbox/private_postfix.sh"
sed -i 's/^qmgr /#qmgr /' "$G/conf/master.cf"
echo '127.0.0.1:10025 inet n - n - - smtpd' >> "$G/conf/master.cf"
printf 'local_header_rewrite_clients =\nmynetworks = 127.0.0.0/8\n' >> "$G/conf/main.cf"
TZ=UTC timeout 60 unshare -m sh -c "
  mount --bind $G/conf /etc/postfix && postfix start && sleep 2
  python3 - <<'PY'
import smtplib
s = smtplib.SMTP('127.0.0.1', 10025)
s.ehlo('client.example.net')
s.sendmail('s@example.net', ['one@example.com'], 'Return-Path: <x@y>\r\nContent-Length: 3\r\nBcc: hidden@example.org\r\nSubject: remote2\r\n\r\nbody\r\n')
s.quit()
PY
  sleep 2; postfix stop; sleep 1"
for f in $(cd $G/q && find incoming -type f); do postcat -c $G/conf $G/q/$f | sed -n '/MESSAGE CONTENTS/,/HEADER EXTRACTED/p'; done
