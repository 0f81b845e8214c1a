#!/bin/sh
# Record Postfix 3.7's postqueue, postsuper, postlog and qshape behaviour for
# test/admin/*.test.ts. Run as root (postsuper drops to mail_owner, which
# must own the temporary queue); needs Postfix 3.7 and its sendmail.
#   <case>.out: "stdout:", "stderr:", "exit: N" sections; the temporary
#   directory reads $DIR, queue IDs read as the role of their message.
#   postsuper-steps.out: a scenario over a queue with one message in each of
#   maildrop (DROP), incoming (IN), active (ACT), deferred (DEF, with
#   bounce/defer/trace logs), hold (HOLD): each command's stderr, then the
#   files left ("queue/ROLE", hashed subdirectories left out).
#   postsuper-expire.out: the same for -e/-f over EXPD (deferred) and EXPH
#   (hold), then the files with the forced-expiration mode bit (g+x).
#   postlog.out: maillog lines without time, host and pid.
#   qshape-*.out: qshape over Postfix-format files whose ages are given in
#   qshape-input.txt (minutes, sender, recipients), see mkpf() below.
set -u
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
chmod 755 "$dir"
q=$dir/queue
mkdir -p "$dir/conf" "$dir/log" "$q"
for d in incoming active deferred hold corrupt maildrop bounce defer trace flush saved public private; do mkdir -p "$q/$d"; done
chown -R postfix "$q" "$dir/log"; chgrp postdrop "$q/maildrop" "$q/public"; chmod 730 "$q/maildrop"
cat > "$dir/conf/main.cf" <<CF
queue_directory = $q
maillog_file_prefixes = $dir
maillog_file = $dir/log/maillog
CF
: > "$dir/conf/master.cf"
touch -d '1 hour ago' "$dir/conf/main.cf"
roles=""
norm() { # replace the temporary directory and every queue ID by its role
  s="s|$dir|\$DIR|g"
  for r in $roles; do id=$(eval echo \$id_$r); s="$s;s|$id|$r|g"; done
  sed "$s"
}
record() { # out-file command...
  out=$1; shift
  "$@" > "$dir/stdout" 2> "$dir/stderr" < "${STDIN:-/dev/null}"; status=$?
  { echo "stdout:"; cat "$dir/stdout"; echo "stderr:"; cat "$dir/stderr"; echo "exit: $status"; } | norm > "$out"
}
PQ="/usr/sbin/postqueue -c $dir/conf"
PS="/usr/sbin/postsuper -c $dir/conf"
record "$here/postqueue-usage.out" $PQ
record "$here/postqueue-two.out" $PQ -p -j
record "$here/postqueue-badopt.out" $PQ -Z
record "$here/postqueue-noarg.out" $PQ -s
record "$here/postqueue-down-p.out" $PQ -p
record "$here/postqueue-down-j.out" $PQ -j
record "$here/postqueue-down-f.out" $PQ -f
record "$here/postqueue-site-denied.out" $PQ -s example.com
record "$here/postsuper-usage.out" $PS -Z
record "$here/postsuper-noarg.out" $PS -d
record "$here/postsuper-baddir.out" $PS -d ALL foo
record "$here/postsuper-empty.out" $PS -d ALL -h ALL -H ALL -r ALL
record "$here/postsuper-badid.out" $PS -d bad/id

# The postsuper scenario.
for r in DROP IN ACT DEF HOLD; do
  printf 'Subject: %s\n\nhello\n' $r | /usr/sbin/sendmail -C "$dir/conf" -f "s@example.com" "r@example.com" 2>/dev/null
  id=$(ls -t "$q/maildrop" | head -1)
  eval id_$r=$id
  roles="$roles $r"
  case $r in
  IN) mv "$q/maildrop/$id" "$q/incoming/" ;;
  ACT) mv "$q/maildrop/$id" "$q/active/" ;;
  HOLD) mv "$q/maildrop/$id" "$q/hold/" ;;
  DEF) h=$(echo $id | cut -c1); mkdir -p "$q/deferred/$h" "$q/defer/$h"
     mv "$q/maildrop/$id" "$q/deferred/$h/"
     echo x > "$q/defer/$h/$id"; echo x > "$q/bounce/$id"; echo x > "$q/trace/$id" ;;
  esac
  sleep 0.01
done
chown -R postfix "$q"
: > "$dir/log/maillog"
layout() { (cd "$q" && find incoming active deferred hold maildrop bounce defer trace -type f) |
  sed 's|/./|/|' | norm | sort; }
out=$here/postsuper-steps.out
: > "$out"
step() { # description stdin command...
  echo "== $1" >> "$out"; stdin=$2; shift 2
  printf "$stdin" | "$@" 2>&1 | norm >> "$out"
  echo "-- files" >> "$out"; layout >> "$out"
}
step "-h DEF -h DROP -h bogus/id" "" $PS -h $id_DEF -h $id_DROP -h bogus/id
step "-H ALL" "" $PS -H ALL
step "-r ACT -d DEF" "" $PS -r $id_ACT -d $id_DEF
step "-d - (IN, ABCDEF123)" "$id_IN\nABCDEF123\n" $PS -d -
step "-h ALL deferred" "" $PS -h ALL deferred
step "-r ALL" "" $PS -r ALL
step "-d ALL maildrop" "" $PS -d ALL maildrop
sed 's/^[A-Z][a-z][a-z] [ 0-9][0-9] [0-9:]* [^ ]* //; s/\[[0-9]*\]:/:/' "$dir/log/maillog" | norm > "$here/postsuper-maillog.out"

# Forced expiration: EXPD (deferred) and EXPH (hold).
for r in EXPD EXPH; do
  printf 'Subject: %s\n\nhello\n' $r | /usr/sbin/sendmail -C "$dir/conf" -f "s@example.com" "r@example.com" 2>/dev/null
  id=$(ls -t "$q/maildrop" | head -1)
  eval id_$r=$id
  roles="$roles $r"
  case $r in
  EXPD) h=$(echo $id | cut -c1); mkdir -p "$q/deferred/$h"; mv "$q/maildrop/$id" "$q/deferred/$h/" ;;
  EXPH) mv "$q/maildrop/$id" "$q/hold/" ;;
  esac
  sleep 0.01
done
chown -R postfix "$q"
out=$here/postsuper-expire.out
: > "$out"
step "-e EXPD" "" $PS -e $id_EXPD
step "-e EXPD -e EXPH" "" $PS -e $id_EXPD -e $id_EXPH
step "-f EXPH" "" $PS -f $id_EXPH
step "-f ALL" "" $PS -f ALL
(cd "$q" && find deferred hold -type f -perm -g+x) | sed 's|/./|/|' | norm | sort | sed 's/^/expired: /' >> "$out"

# postlog
: > "$dir/log/maillog"
PL="/usr/sbin/postlog -c $dir/conf"
$PL hello world; $PL -p warn careful; $PL -p error bad; $PL -i -t mytag tagged
printf 'line1\nline2\n' | $PL -p info
record "$here/postlog-badpri.out" $PL -p bogus x
sed 's/^[A-Z][a-z][a-z] [ 0-9][0-9] [0-9:]* [^ ]* //; s/\[[0-9]*\]:/:/' "$dir/log/maillog" > "$here/postlog.out"

# qshape over Postfix-format queue files: C, T, S, R..., M, N, X, E records.
mkpf() { # file age-minutes sender recipients...
  node -e '
    const [file, age, s0, ...rcpts] = process.argv.slice(1); const sender = s0 === "<>" ? "" : s0;
    const rec = (t, s) => { const d = Buffer.from(s); const l = []; let n = d.length;
      do { let b = n & 127; n >>>= 7; if (n) b |= 128; l.push(b); } while (n);
      return Buffer.concat([Buffer.from([t.charCodeAt(0), ...l]), d]); };
    const body = rec("N", "hello");
    const t = Math.floor(Date.now() / 1000) - Number(age) * 60 - 30;
    const parts = [rec("C", `${String(body.length).padStart(15)} 0 0 ${rcpts.length}`), rec("T", `${t} 0`), rec("S", sender),
      ...rcpts.map((r) => rec("R", r)), rec("M", ""), body, rec("X", ""), rec("E", "")];
    require("fs").writeFileSync(file, Buffer.concat(parts), { mode: 0o700 });
  ' "$@"
}
rm -rf "$q/incoming"/* "$q/active"/* "$q/deferred"/*
n=100000
while read -r queue age sender rcpts; do
  case $queue in ''|'#'*) continue ;; esac
  n=$((n + 1))
  mkpf "$q/$queue/A$n" "$age" "$sender" $rcpts
done < "$here/qshape-input.txt"
chmod 700 "$q"/*/A*
QS="/usr/sbin/qshape -c $dir/conf"
$QS > "$here/qshape-default.out"
$QS deferred hold incoming active > "$here/qshape-all.out"
$QS -s incoming active deferred > "$here/qshape-s.out"
$QS -p -m 2 incoming active deferred > "$here/qshape-p.out"
$QS -l -b 5 -t 10 incoming active deferred > "$here/qshape-l.out"
$QS -w 100 incoming active deferred > "$here/qshape-w.out"
