/*
 * NAME
 *	postalias - Postroom alias database maintenance
 * SYNOPSIS
 *	postalias [-Nfinoprsuvw] [-c config_dir] [-d key] [-q key]
 *		[file_type:]file_name ...
 * DESCRIPTION
 *	Builds an alias database from an aliases(5) file ("name: value,
 *	value"), or queries, deletes from, lists or updates it, as Postfix's
 *	postalias(1) does. Names are stored unquoted and values in RFC 822
 *	normal form (src/global/aliases.ts). A build adds the entries
 *	YP_LAST_MODIFIED, YP_MASTER_NAME and "@" (the Sendmail marker that
 *	the database is complete). Output lines read "name:<TAB>value".
 * DIAGNOSTICS
 *	Postfix's messages on stderr; exit 0 on success, 1 otherwise.
 * CONFIGURATION PARAMETERS
 *	default_database_type (hash), smtputf8_enable (yes).
 * SEE ALSO
 *	postmap(1), newaliases(1), aliases(5)
 */
import { parseAliasEntry } from '../global/aliases.js';
import { rawArgv } from '../maps/bytes.js';
import { runTool } from './postmap_main.js';

await runTool(
  {
    program: 'postalias',
    optstring: 'Nc:d:finopq:rsuvw',
    usage: '[-Nfinoprsuvw] [-c config_dir] [-d key] [-q key] [map_type:]file...',
    parse: parseAliasEntry,
    separator: ':\t',
    aliases: true,
  },
  rawArgv(),
);
