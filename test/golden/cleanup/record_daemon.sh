#!/bin/sh
# Record what Postfix 3.7's pickup+cleanup make of local submissions: a
# private instance (../private_postfix.sh, root and unshare(1)
# needed) with qmgr disabled, so every message stays in incoming/ (or
# hold/) where postcat shows it. Usage: sh record_daemon.sh <output-dir>
set -eu
OUT=${1:?output dir}
. "$(dirname "$0")/../private_postfix.sh"
pf_no_qmgr
pf_main \
  "header_checks = regexp:$G/conf/header_checks" \
  "body_checks = regexp:$G/conf/body_checks"
cat > "$G/conf/header_checks" <<'HC'
/^Subject: hold me/ HOLD held for review
/^Subject: warn me/ WARN watch this
/^X-Drop:/ IGNORE
/^Subject: discard me/ DISCARD dropped
/^Subject: reject me/ REJECT no thanks
/^Subject: redirect me/ REDIRECT carol@example.com
/^Subject: prepend me/ PREPEND X-Tag: tagged
HC
cat > "$G/conf/body_checks" <<'BC'
/^bad body line/ REJECT 5.7.9 body says no
BC
hops=$(i=0; while [ $i -lt 50 ]; do printf 'Received: from h%d by h%d\n' $i $i; i=$((i+1)); done)
pf_run 90 2 "
  printf 'Subject: plain\n\nbody\n' | submit -f alice@example.com bob@example.com bob@example.com
  printf 'To: bob@example.com\nBcc: secret@example.com\nSubject: bcc\n\nbody\n' | submit -f alice@example.com bob@example.com
  printf 'From: Al <al@example.org>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <m1@example.org>\nTo: bob@example.com\nSubject: complete\n\nbody\n' | submit -f al@example.org bob@example.com
  printf 'Resent-From: r@example.org\nFrom: a@example.org\nSubject: resent\n\nbody\n' | submit -f r@example.org bob@example.com
  printf 'Subject: hold me\n\nbody\n' | submit -f alice@example.com bob@example.com
  printf 'Subject: warn me\nX-Drop: yes\n\nbody\n' | submit -f alice@example.com bob@example.com
  printf 'Subject: discard me\n\nbody\n' | submit -f alice@example.com bob@example.com
  printf 'Subject: reject me\n\nbody\n' | submit -f alice@example.com bob@example.com
  printf 'Subject: redirect me\n\nbody\n' | submit -f alice@example.com bob@example.com
  printf 'Subject: prepend me\n\nbody\nbad body line\n' | submit -f alice@example.com bob@example.com
  printf '${hops}\nSubject: hops\n\nbody\n' | submit -f alice@example.com bob@example.com
  printf 'To: t1@example.com, t2@example.com\nCc: t3@example.com\nBcc: t4@example.com\nSubject: extract\n\nbody\n' | submit -t -f alice@example.com
  printf 'Subject: sender\n\nbody\n' | submit -f '' bob@example.com"
pf_postcat "$OUT"
cp "$G/maillog" "$OUT/maillog.txt"
