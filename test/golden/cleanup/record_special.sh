#!/bin/sh
# Headers cleanup removes or keeps (Return-Path, Content-Length, bcc in lower
# case, two Message-IDs). Usage: sh record_special.sh > special/out.txt
set -eu
. "$(dirname "$0")/../private_postfix.sh"
pf_no_qmgr
pf_run 60 3 "
  printf 'Return-Path: <x@example.org>\nContent-Length: 12\nX-Original-To: y\nDelivered-To: z@example.org\nApparently-To: w@example.org\nSubject: special\nMessage-ID: <a@b>\nMessage-ID: <c@d>\nX-Bcc: keep\nbcc: lower@example.org\n\nbody\n' | sendmail -F root -f alice@example.com bob@example.com"
for f in $(cd $G/q && find incoming -type f); do postcat -c $G/conf $G/q/$f | sed -n '/MESSAGE CONTENTS/,/HEADER EXTRACTED/p'; done
grep cleanup "$G/maillog"
