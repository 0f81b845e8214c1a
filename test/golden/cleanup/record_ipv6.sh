#!/bin/sh
# An SMTP client over IPv6 (::1): the Received: header Postfix 3.7 writes.
# Same private instance as record_daemon.sh. Usage: sh record_ipv6.sh <out>
set -eu
OUT=${1:?output dir}
. "$(dirname "$0")/../private_postfix.sh"
pf_no_qmgr
pf_smtpd '[::1]:10025'
sed -i 's/^inet_protocols = .*/inet_protocols = all/; s/^inet_interfaces = .*/inet_interfaces = loopback-only/' "$G/conf/main.cf"
pf_main 'mynetworks = [::1]/128'
pf_run 60 2 "
  python3 $G/smtp.py ::1 ehlo:v6.example.net s@example.net one@example.com 'Subject: v6\r\n\r\nbody\r\n'"
pf_postcat "$OUT"
pf_maillog > "$OUT/maillog.txt"
