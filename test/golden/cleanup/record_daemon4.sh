#!/bin/sh
# Fourth set: FILTER and BCC actions, header_size_limit, a MIME nesting
# reject, Delivered-To and the hop count. Same private instance as
# record_daemon.sh. Usage: sh record_daemon4.sh <out>
set -eu
OUT=${1:?output dir}
. "$(dirname "$0")/../private_postfix.sh"
pf_no_qmgr
pf_main \
  "header_checks = regexp:$G/conf/header_checks" \
  'header_size_limit = 100' \
  'mime_nesting_limit = 1' \
  'hopcount_limit = 3'
cat > "$G/conf/header_checks" <<'HC'
/^Subject: filter me/ FILTER smtp:[filter.example.com]:10025
/^Subject: bcc me/ BCC spy@example.com
HC
pf_run 60 2 "
  printf 'Subject: filter me\n\nbody\n' | submit -F root -f alice@example.com bob@example.com
  printf 'Subject: bcc me\n\nbody\n' | submit -F root -f alice@example.com bob@example.com
  printf 'Subject: long\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n cccccccccccccccccccc\nX-After: yes\n\nbody\n' | submit -F root -f alice@example.com bob@example.com
  printf 'Subject: nest\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"a\"\n\n--a\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\n\nx\n--b--\n--a--\n' | submit -F root -f alice@example.com bob@example.com
  printf 'Delivered-To: a\nDelivered-To: b\nDelivered-To: c\nReceived: x\nSubject: dt3\n\nbody\n' | submit -F root -f alice@example.com bob@example.com
  printf 'Received: x\nReceived: y\nReceived: z\nSubject: r3\n\nbody\n' | submit -F root -f alice@example.com bob@example.com"
pf_postcat "$OUT"
pf_maillog > "$OUT/maillog.txt"
