#!/bin/sh
# Record what Postfix 3.7's bounce daemon does (log lines, the notices it
# queues, a defer log) on private instances; needs root and unshare(1)
# (see ../../private_postfix.sh). Usage: sh record.sh <output-dir>
#   run "default": notify_classes left at its default
#   run "classes": notify_classes = bounce, delay (bounce implies 2bounce)
set -eu
OUT=$(realpath -m "${1:?output dir}")
HERE=$(dirname "$(realpath "$0")")
mkdir -p "$OUT"
for RUN in default classes; do
  (
    . "$HERE/../../private_postfix.sh"
    sed -i '/^virtual_mailbox_maps/d' "$G/conf/main.cf"
    cat >> "$G/conf/main.cf" <<CF
virtual_mailbox_maps = inline:{ alice@v.test=alice/Maildir/, pm@v.test=pm/Maildir/, dbl@v.test=dbl/Maildir/ }
transport_maps = inline:{ {bob@mx.example.com=error:5.1.1 User unknown}, {carol@mx.example.com=retry:4.2.2 Mailbox full} }
delay_warning_time = 1s
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
maximal_queue_lifetime = 1d
CF
    if [ "$RUN" = classes ]; then
      printf 'notify_classes = bounce, delay\nbounce_notice_recipient = pm@v.test\n2bounce_notice_recipient = dbl@v.test\ndelay_notice_recipient = pm@v.test\n' >> "$G/conf/main.cf"
    fi
    TZ=UTC timeout 90 unshare -m sh -c "
      mount --bind $G/conf /etc/postfix && postfix start && sleep 2
      printf 'Subject: s1\n\nbody\n' | sendmail -f alice@v.test bob@mx.example.com; sleep 1
      printf 'Subject: s2\n\nbody\n' | sendmail -f '' bob@mx.example.com; sleep 1
      printf 'Subject: s3\n\nbody\n' | sendmail -f alice@v.test -N never bob@mx.example.com; sleep 1
      printf 'Subject: s4\n\nbody\n' | sendmail -f alice@v.test -N success alice@v.test; sleep 1
      printf 'Subject: s5\n\nbody\n' | sendmail -f '' -N success alice@v.test; sleep 1
      printf 'Subject: s6\n\nbody\n' | sendmail -f double-bounce@mx.example.com bob@mx.example.com; sleep 1
      printf 'Subject: s7\n\nbody\n' | sendmail -f alice@v.test carol@mx.example.com; sleep 1
      printf 'Subject: s8\n\nbody\n' | sendmail -f '' carol@mx.example.com; sleep 1
      printf 'Subject: s9\n\nbody\n' | sendmail -f double-bounce@mx.example.com -N success alice@v.test; sleep 1
      printf 'Subject: s10\n\nbody\n' | sendmail -f double-bounce@mx.example.com carol@mx.example.com; sleep 2
      find $G/q/defer -type f | head -1 | xargs cat > $G/defer-log
      sleep 8; postfix stop; sleep 1"
    mkdir -p "$OUT/$RUN"
    cp "$G/maillog" "$OUT/$RUN/maillog.txt"
    cp "$G/defer-log" "$OUT/$RUN/defer-log.txt"
    for box in alice pm dbl; do
      n=0
      for f in $(ls "$G/vmail/$box/Maildir/new/" 2>/dev/null); do
        n=$((n + 1)); cp "$G/vmail/$box/Maildir/new/$f" "$OUT/$RUN/$box-$n.eml"
      done
    done
  )
done
