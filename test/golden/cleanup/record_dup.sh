#!/bin/sh
# Duplicate recipients differing only in case, through pickup+cleanup:
# Postfix 3.7 keeps the first only. Usage: sh record_dup.sh > dup/recipients.txt
set -eu
. "$(dirname "$0")/../private_postfix.sh"
sed -i 's/^qmgr /#qmgr /' "$G/conf/master.cf"
TZ=UTC timeout 60 unshare -m sh -c "
  mount --bind $G/conf /etc/postfix && postfix start && sleep 2
  printf 'Subject: dup\n\nbody\n' | sendmail -f alice@example.com bob@example.com BOB@example.com bob@EXAMPLE.COM bob@example.com
  sleep 3; postfix stop; sleep 1"
for f in $(cd $G/q && find incoming -type f); do postcat -c $G/conf $G/q/$f | grep -i "recipient"; done
