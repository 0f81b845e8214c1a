#!/bin/sh
# header, mime_header, nested_header and body checks on one MIME message:
# the log lines (all say "header" or "body"). Usage: sh record_mime_checks.sh > mime_checks/maillog.txt
set -eu
. "$(dirname "$0")/../private_postfix.sh"
pf_no_qmgr
printf "header_checks = regexp:$G/conf/hc\nmime_header_checks = regexp:$G/conf/mh\nnested_header_checks = regexp:$G/conf/nh\nbody_checks = regexp:$G/conf/bc\n" >> "$G/conf/main.cf"
printf '/^Subject:/ WARN primary\n' > "$G/conf/hc"
printf '/^Content-Type: text/ WARN mime\n' > "$G/conf/mh"
printf '/^Subject: inner/ WARN nested\n' > "$G/conf/nh"
printf '/^--b$/ WARN boundary\n' > "$G/conf/bc"
pf_run 60 3 "
  printf 'Subject: outer\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nx\n--b\nContent-Type: message/rfc822\n\nSubject: inner\n\ny\n--b--\n' | sendmail -F root -f alice@example.com bob@example.com"
grep 'cleanup\[' "$G/maillog"
