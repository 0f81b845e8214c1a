#!/bin/sh
# Fourth set: FILTER and BCC actions, header_size_limit, a MIME nesting
# reject, Delivered-To and the hop count. Same private instance as
# record_daemon.sh. Usage: sh record_daemon4.sh <out>
set -eu
OUT=${1:?output dir}
. "$(dirname "$0")/../mailbox/private_postfix.sh"
sed -i 's/^qmgr /#qmgr /' "$G/conf/master.cf"
cat >> "$G/conf/main.cf" <<CF
header_checks = regexp:$G/conf/header_checks
header_size_limit = 100
mime_nesting_limit = 1
hopcount_limit = 3
CF
cat > "$G/conf/header_checks" <<'HC'
/^Subject: filter me/ FILTER smtp:[filter.example.com]:10025
/^Subject: bcc me/ BCC spy@example.com
HC
TZ=UTC timeout 60 unshare -m sh -c "
  mount --bind $G/conf /etc/postfix && postfix start && sleep 2
  printf 'Subject: filter me\n\nbody\n' | sendmail -F root -f alice@example.com bob@example.com
  sleep 1
  printf 'Subject: bcc me\n\nbody\n' | sendmail -F root -f alice@example.com bob@example.com
  sleep 1
  printf 'Subject: long\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n cccccccccccccccccccc\nX-After: yes\n\nbody\n' | sendmail -F root -f alice@example.com bob@example.com
  sleep 1
  printf 'Subject: nest\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"a\"\n\n--a\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\n\nx\n--b--\n--a--\n' | sendmail -F root -f alice@example.com bob@example.com
  sleep 1
  printf 'Delivered-To: a\nDelivered-To: b\nDelivered-To: c\nReceived: x\nSubject: dt3\n\nbody\n' | sendmail -F root -f alice@example.com bob@example.com
  sleep 1
  printf 'Received: x\nReceived: y\nReceived: z\nSubject: r3\n\nbody\n' | sendmail -F root -f alice@example.com bob@example.com
  sleep 3; postfix stop; sleep 1"
mkdir -p "$OUT"
: > "$OUT/postcat.txt"
for f in $(cd "$G/q" && find incoming hold -type f | sort); do
  echo "=== $f" | sed 's#/[0-9A-F]*$#/ID#' >> "$OUT/postcat.txt"
  postcat -c "$G/conf" "$G/q/$f" >> "$OUT/postcat.txt" 2>&1 || true
done
grep -v 'postfix-script\|master\[' "$G/maillog" > "$OUT/maillog.txt" || true
