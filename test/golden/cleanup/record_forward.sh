#!/bin/sh
# A message local(8) forwards through cleanup (alias to a remote address):
# the Received: header an internal submission gets. Usage:
# sh record_forward.sh > forward/postcat.txt (root, unshare; qmgr runs here).
set -eu
. "$(dirname "$0")/../private_postfix.sh"
printf 'fwd x@remote.test\n' > "$G/conf/aliases"; sed -i "s|^alias_maps =.*|alias_maps = texthash:$G/conf/aliases|" "$G/conf/main.cf" ##
pf_run 60 4 "
  printf 'Subject: fwd\n\nbody\n' | sendmail -f alice@example.com fwd"
for f in $(cd $G/q && find deferred active incoming -type f); do echo "=== deferred/ID"; postcat -c $G/conf $G/q/$f; done
