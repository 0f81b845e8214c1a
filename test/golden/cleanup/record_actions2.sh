#!/bin/sh
# header_checks REPLACE, STRIP, INFO and PASS through pickup+cleanup: the
# stored headers and the log lines. Usage: sh record_actions2.sh > actions2/out.txt
set -eu
. "$(dirname "$0")/../private_postfix.sh"
pf_no_qmgr
echo "header_checks = regexp:$G/conf/hc" >> "$G/conf/main.cf"
printf '/^Subject: replace me/ REPLACE Subject: replaced\n/^X-Strip:/ STRIP stripped it\n/^X-Info:/ INFO noted\n/^Subject: pass me/ PASS passing\n/^X-After-Pass:/ REJECT should not fire\n' > "$G/conf/hc"
pf_run 60 3 "
  printf 'Subject: replace me\nX-Strip: a\nX-Info: b\n\nbody\n' | sendmail -F root -f alice@example.com bob@example.com
  sleep 1
  printf 'Subject: pass me\nX-After-Pass: yes\n\nbody\n' | sendmail -F root -f alice@example.com bob@example.com"
for f in $(cd $G/q && find incoming -type f | sort); do postcat -c $G/conf $G/q/$f | sed -n '/MESSAGE CONTENTS/,/HEADER EXTRACTED/p'; done
grep 'cleanup\[' "$G/maillog"
