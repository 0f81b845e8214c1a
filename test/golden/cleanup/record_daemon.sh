#!/bin/sh
# Record what Postfix 3.7's pickup+cleanup make of local submissions: a
# private instance (../mailbox/private_postfix.sh, root and unshare(1)
# needed) with qmgr disabled, so every message stays in incoming/ (or
# hold/) where postcat shows it. Usage: sh record_daemon.sh <output-dir>
set -eu
OUT=${1:?output dir}
. "$(dirname "$0")/../mailbox/private_postfix.sh"
sed -i 's/^qmgr /#qmgr /' "$G/conf/master.cf"
cat >> "$G/conf/main.cf" <<CF
header_checks = regexp:$G/conf/header_checks
body_checks = regexp:$G/conf/body_checks
CF
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
TZ=UTC timeout 90 unshare -m sh -c "
  mount --bind $G/conf /etc/postfix && postfix start && sleep 2
  printf 'Subject: plain\n\nbody\n' | sendmail -f alice@example.com bob@example.com bob@example.com
  sleep 1
  printf 'To: bob@example.com\nBcc: secret@example.com\nSubject: bcc\n\nbody\n' | sendmail -f alice@example.com bob@example.com
  sleep 1
  printf 'From: Al <al@example.org>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <m1@example.org>\nTo: bob@example.com\nSubject: complete\n\nbody\n' | sendmail -f al@example.org bob@example.com
  sleep 1
  printf 'Resent-From: r@example.org\nFrom: a@example.org\nSubject: resent\n\nbody\n' | sendmail -f r@example.org bob@example.com
  sleep 1
  printf 'Subject: hold me\n\nbody\n' | sendmail -f alice@example.com bob@example.com
  sleep 1
  printf 'Subject: warn me\nX-Drop: yes\n\nbody\n' | sendmail -f alice@example.com bob@example.com
  sleep 1
  printf 'Subject: discard me\n\nbody\n' | sendmail -f alice@example.com bob@example.com
  sleep 1
  printf 'Subject: reject me\n\nbody\n' | sendmail -f alice@example.com bob@example.com
  sleep 1
  printf 'Subject: redirect me\n\nbody\n' | sendmail -f alice@example.com bob@example.com
  sleep 1
  printf 'Subject: prepend me\n\nbody\nbad body line\n' | sendmail -f alice@example.com bob@example.com
  sleep 1
  printf '${hops}\nSubject: hops\n\nbody\n' | sendmail -f alice@example.com bob@example.com
  sleep 1
  printf 'To: t1@example.com, t2@example.com\nCc: t3@example.com\nBcc: t4@example.com\nSubject: extract\n\nbody\n' | sendmail -t -f alice@example.com
  sleep 1
  printf 'Subject: sender\n\nbody\n' | sendmail -f '' bob@example.com
  sleep 3; postfix stop; sleep 1"
mkdir -p "$OUT"
: > "$OUT/postcat.txt"
for f in $(cd "$G/q" && find incoming hold -type f | sort); do
  echo "=== $f" | sed 's#/[0-9A-F]*$#/ID#' >> "$OUT/postcat.txt"
  postcat -c "$G/conf" "$G/q/$f" >> "$OUT/postcat.txt" 2>&1 || true
done
cp "$G/maillog" "$OUT/maillog.txt"
