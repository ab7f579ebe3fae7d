#!/bin/sh
# The reference for `npm run bench -- relay`: Postfix relaying to Postfix on this machine, two
# instances (A on 127.0.0.1:PORT, B on PORT+1), each with its own config, queue and Maildir under
# DIR, A relaying pcb.lab.test to B (transport_maps: no DNS), B delivering bob@pcb.lab.test to a
# Maildir (the virtual agent, fsync'ed as Postfix always does). Needs root and Debian's postfix
# (apt-get install postfix; the system instance need not run). Adds DIR's two config folders to
# alternate_config_directories in /etc/postfix/main.cf (Postfix requires it for `postfix -c`).
# Usage: sudo sh scripts/lib/postfix-pair.sh DIR PORT   then the command it prints;
#        sh scripts/lib/postfix-pair.sh DIR PORT stop   stops both.
set -e
DIR=${1:?usage: postfix-pair.sh DIR PORT [stop]}
PORT=${2:?usage: postfix-pair.sh DIR PORT [stop]}
if [ "$3" = stop ]; then
  for X in a b; do postfix -c "$DIR/$X/etc" stop || true; done
  exit 0
fi
for X in a b; do
  if [ $X = a ]; then P=$PORT; D=pca.lab.test; else P=$((PORT + 1)); D=pcb.lab.test; fi
  mkdir -p "$DIR/$X/etc" "$DIR/$X/queue" "$DIR/$X/data" "$DIR/$X/mail"
  chown 65534:65534 "$DIR/$X/mail"
  # Port P instead of smtp (25); no chroot (the queue is not under /var/spool/postfix).
  sed -E "s/^smtp( +)inet( +)n( +)-( +)y/$P\1inet\2n\3-\4n/; s/^([a-z0-9]+ +(unix|unix-dgram|fifo|inet|pass) +[-ny] +[-ny] +)y/\1n/" \
    /etc/postfix/master.cf >"$DIR/$X/etc/master.cf"
  cat >"$DIR/$X/etc/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $DIR/$X/queue
data_directory = $DIR/$X/data
inet_interfaces = loopback-only
inet_protocols = ipv4
myhostname = $D
mydomain = $D
myorigin = $D
mydestination =
alias_maps =
alias_database =
local_recipient_maps =
virtual_mailbox_domains = $D
virtual_mailbox_base = $DIR/$X/mail
virtual_mailbox_maps = inline:{ {bob@$D = bob/} }
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtp_tls_security_level = none
smtpd_tls_security_level = none
maillog_file_prefixes = $DIR
maillog_file = $DIR/$X/maillog
biff = no
CONF
done
echo "transport_maps = inline:{ {pcb.lab.test = smtp:[127.0.0.1]:$((PORT + 1))} }" >>"$DIR/a/etc/main.cf"
if ! postconf -h alternate_config_directories | grep -q "$DIR/a/etc"; then
  postconf -e "alternate_config_directories = $(postconf -h alternate_config_directories) $DIR/a/etc $DIR/b/etc"
fi
for X in a b; do
  postfix -c "$DIR/$X/etc" set-permissions create-missing >/dev/null 2>&1 || true
  postfix -c "$DIR/$X/etc" start
done
mkdir -p "$DIR/b/mail/bob/new" && chown -R 65534:65534 "$DIR/b/mail/bob"
echo "node scripts/bench/relay.js --postfix $PORT $DIR/b/mail/bob/new"
