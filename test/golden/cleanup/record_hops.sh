#!/bin/sh
# hopcount_limit = 3 and 6, 3 or 2 Received: headers through pickup+cleanup:
# when Postfix 3.7 warns and refuses. Usage: sh record_hops.sh > hops/maillog.txt
set -eu
. "$(dirname "$0")/../mailbox/private_postfix.sh"
sed -i 's/^qmgr /#qmgr /' "$G/conf/master.cf"
echo 'hopcount_limit = 3' >> "$G/conf/main.cf"
TZ=UTC timeout 60 unshare -m sh -c "
  mount --bind $G/conf /etc/postfix && postfix start && sleep 2
  printf 'Received: 1\nReceived: 2\nReceived: 3\nReceived: 4\nReceived: 5\nReceived: 6\nSubject: six\nMessage-ID: <six@x>\n\nbody\n' | sendmail -f alice@example.com bob@example.com
  sleep 1
  printf 'Received: 1\nReceived: 2\nReceived: 3\nSubject: three\nMessage-ID: <three@x>\n\nbody\n' | sendmail -f alice@example.com bob@example.com
  sleep 1
  printf 'Received: 1\nReceived: 2\nSubject: two\nMessage-ID: <two@x>\n\nbody\n' | sendmail -f alice@example.com bob@example.com
  sleep 3; postfix stop; sleep 1"
grep -v 'postfix-script\|master\[' "$G/maillog"
