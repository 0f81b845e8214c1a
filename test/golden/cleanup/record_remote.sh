#!/bin/sh
# An SMTP client that does not match local_header_rewrite_clients (set
# empty): which headers Postfix 3.7 adds for it. Same private instance as
# record_daemon.sh. Usage: sh record_remote.sh <out>
set -eu
OUT=${1:?output dir}
. "$(dirname "$0")/../mailbox/private_postfix.sh"
sed -i 's/^qmgr /#qmgr /' "$G/conf/master.cf"
echo '127.0.0.1:10025 inet n - n - - smtpd' >> "$G/conf/master.cf"
cat >> "$G/conf/main.cf" <<CF
local_header_rewrite_clients =
mynetworks = 127.0.0.0/8
CF
TZ=UTC timeout 60 unshare -m sh -c "
  mount --bind $G/conf /etc/postfix && postfix start && sleep 2
  python3 - <<'PY'
import smtplib
s = smtplib.SMTP('127.0.0.1', 10025)
s.ehlo('client.example.net')
s.sendmail('s@example.net', ['one@example.com'], 'Subject: remote\r\nTo: x\r\n\r\nbody\r\n')
s.quit()
PY
  sleep 2; postfix stop; sleep 1"
mkdir -p "$OUT"
: > "$OUT/postcat.txt"
for f in $(cd "$G/q" && find incoming hold -type f | sort); do
  echo "=== $f" | sed 's#/[0-9A-F]*$#/ID#' >> "$OUT/postcat.txt"
  postcat -c "$G/conf" "$G/q/$f" >> "$OUT/postcat.txt" 2>&1 || true
done
grep -v 'postfix-script\|master\[' "$G/maillog" > "$OUT/maillog.txt" || true
