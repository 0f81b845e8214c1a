#!/bin/sh
# MIME nested deeper than mime_nesting_limit, through pickup+cleanup, with
# the strict_* options on: Postfix 3.7 accepts it (no reject line).
# Usage: sh record_nesting.sh > nesting/maillog.txt (root, unshare).
set -eu
. "$(dirname "$0")/../mailbox/private_postfix.sh"
sed -i 's/^qmgr /#qmgr /' "$G/conf/master.cf"
printf 'mime_nesting_limit = 1\nstrict_8bitmime = yes\nstrict_mime_encoding_domain = yes\n' >> "$G/conf/main.cf"
TZ=UTC timeout 60 unshare -m sh -c "
  mount --bind $G/conf /etc/postfix && postfix start && sleep 2
  printf 'Subject: n3\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"a\"\n\n--a\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: multipart/mixed; boundary=\"c\"\n\n--c\n\nx\n--c--\n--b--\n--a--\n' | sendmail -f alice@example.com bob@example.com
  sleep 1
  printf 'Subject: r2\nMIME-Version: 1.0\nContent-Type: message/rfc822\n\nSubject: in1\nContent-Type: message/rfc822\n\nSubject: in2\n\nx\n' | sendmail -f alice@example.com bob@example.com
  sleep 3; postfix stop; sleep 1"
grep -v 'postfix-script\|master\[' "$G/maillog"
