#!/bin/sh
# header_checks naming a table that cannot be opened: what Postfix 3.7's
# cleanup logs and what smtpd replies. Same private instance as
# record_daemon.sh. Usage: sh record_tempfail.sh <out>
set -eu
OUT=${1:?output dir}
. "$(dirname "$0")/../mailbox/private_postfix.sh"
sed -i 's/^qmgr /#qmgr /' "$G/conf/master.cf"
echo '127.0.0.1:10025 inet n - n - - smtpd' >> "$G/conf/master.cf"
cat >> "$G/conf/main.cf" <<CF
header_checks = hash:$G/conf/missing
mynetworks = 127.0.0.0/8
CF
TZ=UTC timeout 60 unshare -m sh -c "
  mount --bind $G/conf /etc/postfix && postfix start && sleep 2
  python3 - <<'PY' > $G/smtp.txt
import smtplib
s = smtplib.SMTP('127.0.0.1', 10025)
s.ehlo('client.example.net')
try:
    s.sendmail('s@example.net', ['one@example.com'], 'Subject: tf\r\n\r\nbody\r\n')
except smtplib.SMTPDataError as e:
    print(e.smtp_code, e.smtp_error.decode())
s.quit()
PY
  sleep 2; postfix stop; sleep 1"
mkdir -p "$OUT"
grep -v 'postfix-script\|master\[' "$G/maillog" | sed "s#$G#DIR#g" > "$OUT/maillog.txt" || true
cp "$G/smtp.txt" "$OUT/smtp.txt"
