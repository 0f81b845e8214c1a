#!/bin/sh
# Second set: null sender, undisclosed_recipients_header, Delivered-To
# hops, and an SMTP submission (Received: from ... with ESMTP). Same
# private instance as record_daemon.sh. Usage: sh record_daemon2.sh <out>
set -eu
OUT=${1:?output dir}
. "$(dirname "$0")/../mailbox/private_postfix.sh"
sed -i 's/^qmgr /#qmgr /' "$G/conf/master.cf"
echo '127.0.0.1:10025 inet n - n - - smtpd' >> "$G/conf/master.cf"
cat >> "$G/conf/main.cf" <<CF
undisclosed_recipients_header = To: undisclosed-recipients:;
mynetworks = 127.0.0.0/8
hopcount_limit = 5
CF
TZ=UTC timeout 60 unshare -m sh -c "
  mount --bind $G/conf /etc/postfix && postfix start && sleep 2
  printf 'Subject: nullsender\n\nbody\n' | sendmail -f '' bob@example.com
  sleep 1
  printf 'Subject: nofullname\n\nbody\n' | sendmail -F '' -f 'x@example.com' bob@example.com
  sleep 1
  printf 'Subject: quoted\n\nbody\n' | sendmail -F 'A. B (C)' -f 'x@example.com' bob@example.com
  sleep 1
  printf 'Delivered-To: a\nDelivered-To: b\nReceived: x\nReceived: y\nReceived: z\nSubject: dt hops\n\nbody\n' | sendmail -f x@example.com bob@example.com
  sleep 1
  python3 - <<'PY'
import smtplib
s = smtplib.SMTP('127.0.0.1', 10025)
s.ehlo('client.example.net')
s.sendmail('s@example.net', ['one@example.com'], 'Subject: smtp one\r\n\r\nbody\r\n')
s.sendmail('s@example.net', ['one@example.com', 'two@example.com'], 'Subject: smtp two\r\n\r\nbody\r\n')
s.quit()
s = smtplib.SMTP('127.0.0.1', 10025)
s.helo('h.example.net')
s.sendmail('s@example.net', ['one@example.com'], 'Subject: smtp helo\r\nFrom: f@example.net\r\n\r\nbody\r\n')
s.quit()
PY
  sleep 2; postfix stop; sleep 1"
mkdir -p "$OUT"
: > "$OUT/postcat.txt"
for f in $(cd "$G/q" && find incoming hold -type f | sort); do
  echo "=== $f" | sed 's#/[0-9A-F]*$#/ID#' >> "$OUT/postcat.txt"
  postcat -c "$G/conf" "$G/q/$f" >> "$OUT/postcat.txt" 2>&1 || true
done
cp "$G/maillog" "$OUT/maillog.txt"
