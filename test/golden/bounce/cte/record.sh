#!/bin/sh
# Record which Content-Transfer-Encoding Postfix 3.7's bounce daemon puts on
# its notices, with smtputf8_enable = no (us-ascii template charset), for a
# 7-bit and an 8-bit original; needs root and unshare(1) (see
# ../../private_postfix.sh). Usage: sh record.sh <output-dir>
# Messages: f7 (7-bit, to an unknown user: failure notice), f8 (8-bit body,
# failure), d7/d8 (delay warnings), s7/s8 (-N success), v7 (sendmail -bv), b8 (8-bit, -B 8BITMIME), m8 (8-bit, MIME
# Content-Transfer-Encoding: 8bit): failure notices.
set -eu
OUT=$(realpath -m "${1:?output dir}")
HERE=$(dirname "$(realpath "$0")")
mkdir -p "$OUT"
(
  . "$HERE/../../private_postfix.sh"
  sed -i '/^virtual_mailbox_maps/d' "$G/conf/main.cf"
  cat >> "$G/conf/main.cf" <<CF
virtual_mailbox_maps = inline:{ alice@v.test=alice/Maildir/ }
transport_maps = inline:{ {bob@mx.example.com=error:5.1.1 User unknown}, {carol@mx.example.com=retry:4.2.2 Mailbox full} }
smtputf8_enable = no
delay_warning_time = 1s
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
CF
  TZ=UTC timeout 90 unshare -m sh -c "
    mount --bind $G/conf /etc/postfix && postfix start && sleep 2
    printf 'Subject: f7\n\nbody\n' | sendmail -f alice@v.test bob@mx.example.com; sleep 1
    printf 'Subject: f8\n\nb\303\251b\303\251\n' | sendmail -f alice@v.test bob@mx.example.com; sleep 1
    printf 'Subject: d7\n\nbody\n' | sendmail -f alice@v.test carol@mx.example.com; sleep 1
    printf 'Subject: d8\n\nb\303\251b\303\251\n' | sendmail -f alice@v.test carol@mx.example.com; sleep 1
    printf 'Subject: s7\n\nbody\n' | sendmail -f alice@v.test -N success alice@v.test; sleep 1
    printf 'Subject: s8\n\nb\303\251b\303\251\n' | sendmail -f alice@v.test -N success alice@v.test; sleep 1
    printf 'Subject: v7\n\nbody\n' | sendmail -f alice@v.test -bv alice@v.test; sleep 8
    printf 'Subject: b8\n\nb\303\251b\303\251\n' | sendmail -B 8BITMIME -f alice@v.test bob@mx.example.com; sleep 1
    printf 'Subject: m8\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nb\303\251b\303\251\n' | sendmail -f alice@v.test bob@mx.example.com; sleep 1
    postfix stop; sleep 1"
  cp "$G/maillog" "$OUT/maillog.txt"
  for f in "$G"/vmail/alice/Maildir/new/*; do
    s=$(grep -m1 -i '^Subject: [fdsvbm][78]$' "$f" | sed 's/^Subject: //') || s=x
    t=$(grep -m1 '^Subject: ' "$f" | sed 's/^Subject: //; s/[^A-Za-z]//g')
    cp "$f" "$OUT/$t-$s.eml"
  done
)
