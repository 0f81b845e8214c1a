#!/bin/sh
# Duplicate recipients differing only in case, through pickup+cleanup:
# Postfix 3.7 keeps the first only. Usage: sh record_dup.sh > dup/recipients.txt
set -eu
. "$(dirname "$0")/../private_postfix.sh"
pf_no_qmgr
pf_run 60 3 "
  printf 'Subject: dup\n\nbody\n' | sendmail -f alice@example.com bob@example.com BOB@example.com bob@EXAMPLE.COM bob@example.com"
for f in $(cd $G/q && find incoming -type f); do postcat -c $G/conf $G/q/$f | grep -i "recipient"; done
