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
  python3 - <<'PY' > $G/smtp.txt
import smtplib
s = smtplib.SMTP('127.0.0.1', 10025)
s.ehlo('client.example.net')
try:
    s.sendmail('s@example.net', ['one@example.com'], 'Subject: tf\r\n\r\nbody\r\n')
except smtplib.SMTPDataError as e:
    print(e.smtp_code, e.smtp_error.decode())
s.quit()
PY"
mkdir -p "$OUT"
grep -v 'postfix-script\|master\[' "$G/maillog" | sed "s#$G#DIR#g" > "$OUT/maillog.txt" || true
cp "$G/smtp.txt" "$OUT/smtp.txt"
