#!/bin/sh
# Third set: address mapping through pickup+cleanup (canonical, virtual
# aliases, bcc, header rewriting, MAILER-DAEMON sender). Same private
# instance as record_daemon.sh. Usage: sh record_daemon3.sh <out>
set -eu
OUT=${1:?output dir}
. "$(dirname "$0")/../private_postfix.sh"
pf_no_qmgr
pf_main \
  'sender_canonical_maps = inline:{ alice@example.com=alice.smith@example.net }' \
  'canonical_maps = inline:{ bob@example.com=robert@example.com }' \
  "virtual_alias_maps = texthash:$G/conf/virtual" \
  'sender_bcc_maps = inline:{ alice.smith@example.net=archive@example.com }' \
  'always_bcc = audit@example.com'
printf 'robert@example.com r1@example.com, r2@example.com\nlist@example.com a@example.com, b@example.com\n' > "$G/conf/virtual"
pf_run 60 1 "
  printf 'To: bob@example.com, Carol <carol>\nCc: list@example.com\nSubject: mapped\n\nbody\n' | submit -F root -f alice@example.com bob@example.com list@example.com
  printf 'Subject: short\n\nbody\n' | submit -F root -f alice carol"
pf_postcat "$OUT"
cp "$G/maillog" "$OUT/maillog.txt"
