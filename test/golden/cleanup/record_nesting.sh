#!/bin/sh
# MIME nested deeper than mime_nesting_limit, through pickup+cleanup, with
# the strict_* options on: Postfix 3.7 accepts it (no reject line).
# Usage: sh record_nesting.sh > nesting/maillog.txt (root, unshare).
set -eu
. "$(dirname "$0")/../private_postfix.sh"
pf_no_qmgr
pf_main 'mime_nesting_limit = 1' 'strict_8bitmime = yes' 'strict_mime_encoding_domain = yes'
pf_run 60 2 "
  printf 'Subject: n3\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"a\"\n\n--a\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: multipart/mixed; boundary=\"c\"\n\n--c\n\nx\n--c--\n--b--\n--a--\n' | submit -f alice@example.com bob@example.com
  printf 'Subject: r2\nMIME-Version: 1.0\nContent-Type: message/rfc822\n\nSubject: in1\nContent-Type: message/rfc822\n\nSubject: in2\n\nx\n' | submit -f alice@example.com bob@example.com"
pf_maillog
