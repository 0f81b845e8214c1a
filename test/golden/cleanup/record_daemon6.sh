#!/bin/sh
# Sixth set: content edge cases through sendmail -i, pickup and cleanup:
# no header at all, empty message, headers without a body, a header block
# ended by a non-header line, a long line, a folded Subject. Same private
# instance as record_daemon.sh. Usage: sh record_daemon6.sh <out>
set -eu
OUT=${1:?output dir}
. "$(dirname "$0")/../mailbox/private_postfix.sh"
sed -i 's/^qmgr /#qmgr /' "$G/conf/master.cf"
long=$(printf '%5000s' '' | tr ' ' x)
TZ=UTC timeout 60 unshare -m sh -c "
  mount --bind $G/conf /etc/postfix && postfix start && sleep 2
  printf 'hello world\nsecond\n' | sendmail -i -F root -f e1@example.com bob@example.com
  sleep 1
  printf '' | sendmail -i -F root -f e2@example.com bob@example.com
  sleep 1
  printf 'Subject: headers only\n' | sendmail -i -F root -f e3@example.com bob@example.com
  sleep 1
  printf 'Subject: no blank\nthis is body\n' | sendmail -i -F root -f e4@example.com bob@example.com
  sleep 1
  printf 'Subject: long\n\n${long}\n' | sendmail -i -F root -f e5@example.com bob@example.com
  sleep 1
  printf 'Subject: folded\n  across lines\nTo: a@example.com,\n\tb@example.com\n\nbody\n' | sendmail -i -F root -f e6@example.com bob@example.com
  sleep 3; postfix stop; sleep 1"
mkdir -p "$OUT"
: > "$OUT/postcat.txt"
for f in $(cd "$G/q" && find incoming hold -type f | sort); do
  echo "=== $f" | sed 's#/[0-9A-F]*$#/ID#' >> "$OUT/postcat.txt"
  postcat -c "$G/conf" "$G/q/$f" >> "$OUT/postcat.txt" 2>&1 || true
done
grep -v 'postfix-script\|master\[' "$G/maillog" > "$OUT/maillog.txt" || true
