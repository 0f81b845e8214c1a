#!/bin/sh
# An SMTP client over IPv6 (::1): the Received: header Postfix 3.7 writes.
# Same private instance as record_daemon.sh. Usage: sh record_ipv6.sh <out>
set -eu
OUT=${1:?output dir}
. "$(dirname "$0")/../mailbox/private_postfix.sh"
sed -i 's/^qmgr /#qmgr /' "$G/conf/master.cf"
echo '[::1]:10025 inet n - n - - smtpd' >> "$G/conf/master.cf"
sed -i 's/^inet_protocols = .*/inet_protocols = all/; s/^inet_interfaces = .*/inet_interfaces = loopback-only/' "$G/conf/main.cf"
echo 'mynetworks = [::1]/128' >> "$G/conf/main.cf"
TZ=UTC timeout 60 unshare -m sh -c "
  mount --bind $G/conf /etc/postfix && postfix start && sleep 2
  python3 - <<'PY'
import smtplib
s = smtplib.SMTP('::1', 10025)
s.ehlo('v6.example.net')
s.sendmail('s@example.net', ['one@example.com'], 'Subject: v6\r\n\r\nbody\r\n')
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
