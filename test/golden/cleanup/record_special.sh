#!/bin/sh
# Headers cleanup removes or keeps (Return-Path, Content-Length, bcc in lower
# case, two Message-IDs). Usage: sh record_special.sh > special/out.txt
set -eu
. "$(dirname "$0")/../private_postfix.sh"
sed -i 's/^qmgr /#qmgr /' "$G/conf/master.cf"
TZ=UTC timeout 60 unshare -m sh -c "
  mount --bind $G/conf /etc/postfix && postfix start && sleep 2
  printf 'Return-Path: <x@example.org>\nContent-Length: 12\nX-Original-To: y\nDelivered-To: z@example.org\nApparently-To: w@example.org\nSubject: special\nMessage-ID: <a@b>\nMessage-ID: <c@d>\nX-Bcc: keep\nbcc: lower@example.org\n\nbody\n' | sendmail -F root -f alice@example.com bob@example.com
  sleep 3; postfix stop; sleep 1"
for f in $(cd $G/q && find incoming -type f); do postcat -c $G/conf $G/q/$f | sed -n '/MESSAGE CONTENTS/,/HEADER EXTRACTED/p'; done
grep cleanup "$G/maillog"
