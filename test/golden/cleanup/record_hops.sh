#!/bin/sh
# hopcount_limit = 3 and 6, 3 or 2 Received: headers through pickup+cleanup:
# when Postfix 3.7 warns and refuses. Usage: sh record_hops.sh > hops/maillog.txt
set -eu
. "$(dirname "$0")/../private_postfix.sh"
pf_no_qmgr
pf_main 'hopcount_limit = 3'
pf_run 60 2 "
  printf 'Received: 1\nReceived: 2\nReceived: 3\nReceived: 4\nReceived: 5\nReceived: 6\nSubject: six\nMessage-ID: <six@x>\n\nbody\n' | submit -f alice@example.com bob@example.com
  printf 'Received: 1\nReceived: 2\nReceived: 3\nSubject: three\nMessage-ID: <three@x>\n\nbody\n' | submit -f alice@example.com bob@example.com
  printf 'Received: 1\nReceived: 2\nSubject: two\nMessage-ID: <two@x>\n\nbody\n' | submit -f alice@example.com bob@example.com"
pf_maillog
