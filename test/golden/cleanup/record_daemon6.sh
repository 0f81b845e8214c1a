#!/bin/sh
# Sixth set: content edge cases through sendmail -i, pickup and cleanup:
# no header at all, empty message, headers without a body, a header block
# ended by a non-header line, a long line, a folded Subject. Same private
# instance as record_daemon.sh. Usage: sh record_daemon6.sh <out>
set -eu
OUT=${1:?output dir}
. "$(dirname "$0")/../private_postfix.sh"
pf_no_qmgr
long=$(printf '%5000s' '' | tr ' ' x)
pf_run 60 2 "
  printf 'hello world\nsecond\n' | submit -i -F root -f e1@example.com bob@example.com
  printf '' | submit -i -F root -f e2@example.com bob@example.com
  printf 'Subject: headers only\n' | submit -i -F root -f e3@example.com bob@example.com
  printf 'Subject: no blank\nthis is body\n' | submit -i -F root -f e4@example.com bob@example.com
  printf 'Subject: long\n\n${long}\n' | submit -i -F root -f e5@example.com bob@example.com
  printf 'Subject: folded\n  across lines\nTo: a@example.com,\n\tb@example.com\n\nbody\n' | submit -i -F root -f e6@example.com bob@example.com"
pf_postcat "$OUT"
pf_maillog > "$OUT/maillog.txt"
