#!/bin/sh
# Companion of record.sh: Content-Transfer-Encoding with a bounce_template_file
# whose failure template is iso-8859-1 (ASCII text), for smtputf8_enable = no
# and yes (needs root and unshare(1), see ../../private_postfix.sh).
# Messages: t7 (7-bit, failure notice); h8 (an 8-bit Subject: SMTPUTF8 by
# autodetection when enabled); u8 (a UTF-8 sender). Usage:
#   SU=no sh record-template.sh <output-dir>; SU=yes sh record-template.sh <output-dir>
OUT=$(realpath -m "${1:?output dir}")
set -eu
. "$(dirname "$(realpath "$0")")/../../private_postfix.sh"
sed -i '/^virtual_mailbox_maps/d' "$G/conf/main.cf"
printf 'failure_template = <<EOF\nCharset: iso-8859-1\nFrom: MAILER-DAEMON (Mail Delivery System)\nSubject: Undelivered Mail Returned to Sender\n\nPlain ASCII text.\nEOF\n' > "$G/conf/bt.cf"
cat >> "$G/conf/main.cf" <<CF
virtual_mailbox_maps = inline:{ alice@v.test=alice/Maildir/, jörg@v.test=j/Maildir/ }
transport_maps = inline:{ {bob@mx.example.com=error:5.1.1 User unknown} }
smtputf8_enable = $SU
bounce_template_file = $G/conf/bt.cf
CF
TZ=UTC timeout 60 unshare -m sh -c "
  mount --bind $G/conf /etc/postfix && postfix start && sleep 2
  printf 'Subject: t7\n\nbody\n' | sendmail -f alice@v.test bob@mx.example.com; sleep 1
  printf 'Subject: h8 b\303\251\n\nbody\n' | sendmail -f alice@v.test bob@mx.example.com; sleep 1
  printf 'Subject: u8\n\nb\303\251b\303\251\n' | sendmail -f \$(printf 'j\303\266rg@v.test') bob@mx.example.com; sleep 3
  postfix stop; sleep 1"
mkdir -p $OUT/$SU
cp $G/vmail/alice/Maildir/new/* $G/vmail/j/Maildir/new/* $OUT/$SU/ 2>/dev/null || true
grep -v "starting\|daemon started" $G/maillog | head -20
