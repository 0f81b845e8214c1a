# Sourced by record.sh and ../../mailbox/postfix_interop.sh: a private
# Postfix 3.7 instance under a temp directory $G (root needed). The caller
# bind-mounts $G/conf over /etc/postfix inside a private mount namespace,
# so the system's own configuration is never touched.
G=$(mktemp -d /tmp/pfgold.XXXXXX)
chmod 755 "$G"
trap 'rm -rf "$G"' EXIT
mkdir -p "$G/conf" "$G/q" "$G/data" "$G/spool" "$G/vmail"
chmod 1777 "$G/spool"; chown 65534:65534 "$G/vmail"; chown postfix "$G/data"
cp -a /etc/postfix/master.cf /etc/postfix/postfix-files /etc/postfix/postfix-files.d \
  /etc/postfix/postfix-script /etc/postfix/post-install /etc/postfix/dynamicmaps.cf \
  /etc/postfix/dynamicmaps.cf.d /etc/postfix/makedefs.out "$G/conf/"
sed -i 's/^smtp      inet/#smtp      inet/' "$G/conf/master.cf"
cat > "$G/conf/main.cf" <<CF
queue_directory = $G/q
data_directory = $G/data
myhostname = mx.example.com
mydomain = example.com
mydestination = \$myhostname, localhost
inet_interfaces = loopback-only
inet_protocols = ipv4
alias_maps =
alias_database =
local_recipient_maps =
mail_spool_directory = $G/spool
virtual_mailbox_domains = v.test
virtual_mailbox_base = $G/vmail
virtual_mailbox_maps = inline:{ u@v.test=u/Maildir/, m@v.test=mbox }
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
maillog_file = $G/maillog
maillog_file_prefixes = /tmp
compatibility_level = 3.6
biff = no
CF
