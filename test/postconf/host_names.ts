/** Defaults that describe the host or where the software is installed: compared apart (host.test.ts). */
export const HOST_DEPENDENT: ReadonlySet<string> = new Set([
  'command_directory',
  'daemon_directory',
  'mailq_path',
  'newaliases_path',
  'sendmail_path',
  'process_id',
  'myhostname',
  'mydomain',
  'mynetworks',
]);
