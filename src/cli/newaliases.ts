/*
 * NAME
 *	newaliases - rebuild the alias databases
 * SYNOPSIS
 *	newaliases [-C config_dir] [-v]
 * DESCRIPTION
 *	Runs postalias(1) on every table in $alias_database, in order, as
 *	Postfix's newaliases (sendmail -bi) does, and stops at the first one
 *	that fails. The configuration directory is -C, else $MAIL_CONFIG,
 *	else /etc/postfix. Other sendmail(1) options are accepted and ignored.
 * DIAGNOSTICS
 *	postalias's messages; exit 0 when every table was built, else 1.
 * CONFIGURATION PARAMETERS
 *	alias_database (hash:/etc/aliases).
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configDirectory, loadMainConfig } from '../global/config.js';
import { msg } from '../global/msg.js';
import { getopt } from '../util/getopt.js';
import { strerror } from '../util/strerror.js';

msg.setProgram('newaliases');
const parsed = getopt(process.argv.slice(2), 'B:C:F:GIL:N:O:R:UV:X:b:ce:f:h:imno:p:r:tvx');
let dir: string | undefined;
const extra: string[] = [];
if (parsed.kind === 'error') msg.fatal(parsed.message, 64);
for (const { opt, arg } of parsed.opts) {
  if (opt === 'C') dir = arg;
  if (opt === 'v') extra.push('-v');
}
const configDir = configDirectory(dir);
let cfg: ReturnType<typeof loadMainConfig>;
try {
  cfg = loadMainConfig({ configDir });
} catch (e) {
  cfg = msg.fatal(`open ${configDir}/main.cf: ${strerror(e)}`);
}
const tables = (cfg.get('alias_database') || 'hash:/etc/aliases').split(/[\s,]+/).filter((t) => t !== '');
const postalias = join(dirname(fileURLToPath(import.meta.url)), 'postalias.js');
for (const table of tables) {
  const r = spawnSync(process.execPath, [postalias, ...extra, '-c', configDir, table], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(1);
}
process.exit(0);
