/*
 * trivial-rewrite - address rewriting and resolution service
 *
 * SYNOPSIS
 *   node dist/src/trivial-rewrite/main.js -S [-c] [-v] [-o name=value]
 *
 * DESCRIPTION
 *   With -S (stand-alone, as Postfix's daemons) the service reads requests
 *   in Postfix's attribute protocol on standard input and writes the
 *   replies on standard output (see server.ts); main.cf comes from
 *   $MAIL_CONFIG or /etc/postfix. Without -S it would wait for master,
 *   which is not written yet: it says so and exits 1.
 *   -c and -v are accepted as Postfix's daemons accept them; -o overrides
 *   a main.cf parameter.
 *
 * DIAGNOSTICS
 *   postfix/trivial-rewrite: fatal: ... on standard error, exit status 1.
 */
import { loadMainConfig } from '../global/config.js';
import { msg } from '../global/msg.js';
import { getopt } from '../util/getopt.js';
import { Resolver } from './resolve.js';
import { rewriteParams } from './rewrite.js';
import { serveStream } from './server.js';

msg.setProgram('postfix/trivial-rewrite');
const parsed = getopt(process.argv.slice(2), 'cSvo:n:t:');
if (parsed.kind === 'error') msg.fatal(parsed.message);
const overrides = parsed.opts.filter((o) => o.opt === 'o').map((o) => o.arg ?? '');
if (!parsed.opts.some((o) => o.opt === 'S'))
  msg.fatal('only stand-alone mode (-S) is available without master');
const cfg = loadMainConfig({ overrides });
const resolver = new Resolver(cfg);
const verifier = new Resolver(cfg, { verify: true });
await serveStream({ rewrite: rewriteParams(cfg), resolver, verifier }, process.stdin, process.stdout);
await resolver.close();
await verifier.close();
