#!/bin/sh
# Record what Postfix says for each case, for test/global/*.test.ts.
#   expand/<case>.cf -> expand/<case>.out: `postconf -c DIR -xh relayhost`
#   parse/<case>.cf  -> parse/<case>.out:  `postmap -c DIR -q x static:found`
#     (postmap reads main.cf once, so each warning appears once)
#   postconf-d.txt: `postconf -d` on an empty configuration
# The temporary directory is written as $DIR. Run from anywhere; needs Postfix 3.7.
set -u
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
: > "$dir/master.cf"
record() { # out-file command...
  out=$1; shift
  "$@" > "$dir/stdout" 2> "$dir/stderr"; status=$?
  { echo "stdout:"; cat "$dir/stdout"; echo "stderr:"; cat "$dir/stderr"; echo "exit: $status"; } |
    sed "s|$dir|\$DIR|g" > "$out"
}
for cf in "$here"/expand/*.cf "$here"/parse/*.cf; do
  cp "$cf" "$dir/main.cf"
  touch -d '1 hour ago' "$dir/main.cf"
  case $cf in
  */expand/*) record "${cf%.cf}.out" postconf -c "$dir" -xh relayhost ;;
  *) record "${cf%.cf}.out" postmap -c "$dir" -q x static:found ;;
  esac
done
: > "$dir/main.cf"
postconf -c "$dir" -d > "$here/postconf-d.txt"
# Service-dependent names: Debian's master.cf.
cp "$here/services/master.cf" "$dir/master.cf"
postconf -c "$dir" -d > "$here/services/postconf-d.txt"
# "unused parameter" warnings (postconf -n prints them in hash order: the test sorts).
cp "$here/unused/main.cf" "$here/unused/master.cf" "$dir/"
touch -d '1 hour ago' "$dir/main.cf"
record "$here/unused/postconf-n.out" postconf -c "$dir" -n
