/*
 * NAME
 *	postmap - Postroom lookup table management
 * SYNOPSIS
 *	postmap [-bfFhimnNoprsuUvw] [-c config_dir] [-d key] [-q key]
 *		[file_type:]file_name ...
 * DESCRIPTION
 *	Builds an indexed table (hash, btree, lmdb, cdb) from a postmap(1)
 *	source file ("key whitespace value"), or queries (-q), deletes from
 *	(-d), lists (-s) or updates from stdin (-i) any table type Postroom
 *	knows, as Postfix's postmap(1) does. A table is written to a temporary
 *	file and renamed into place, so readers never see it half-built.
 *	-o is accepted and ignored (Postroom does not change privileges); -U
 *	is accepted (keys are always checked as Unicode text).
 * DIAGNOSTICS
 *	Postfix's messages on stderr; exit 0 on success, 1 otherwise.
 * CONFIGURATION PARAMETERS
 *	default_database_type (hash), smtputf8_enable (yes).
 * SEE ALSO
 *	postalias(1), table_source.ts (input syntax), docs/tables.md
 */

import { rawArgv } from '../maps/bytes.js';
import { parseEntry } from '../maps/table_source.js';
import { runTool } from './postmap_main.js';

await runTool(
  {
    program: 'postmap',
    optstring: 'bc:d:fFhimnNopq:rsuUvw',
    usage: '[-bfFhimnNoprsuUvw] [-c config_dir] [-d key] [-q key] [map_type:]file...',
    parse: parseEntry,
    separator: '\t',
    aliases: false,
  },
  rawArgv(),
);
