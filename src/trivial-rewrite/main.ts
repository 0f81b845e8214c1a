/*
 * trivial-rewrite - address rewriting and resolution service
 *
 * SYNOPSIS
 *   node dist/src/trivial-rewrite/main.js [-S] [-n service] [-t type] [-v] [-o name=value]
 *
 * DESCRIPTION
 *   As master's `rewrite` service (and stand-alone on its own socket, see
 *   src/master/service.ts) each client connection is a session in
 *   Postfix's attribute protocol (server.ts): Postroom daemons and
 *   Postfix's own clients can ask it. With -S (stand-alone, as Postfix's
 *   daemons) it serves one session on standard input and output instead.
 *   cleanup and qmgr load the same rewrite/resolve code in-process.
 *   -o overrides a main.cf parameter; main.cf comes from $MAIL_CONFIG or
 *   /etc/postfix.
 *
 * DIAGNOSTICS
 *   postfix/trivial-rewrite: fatal: ... (to the mail log under master),
 *   exit status 1.
 */
import { loadMainConfig, type MainConfig } from '../global/config.js';
import { msg } from '../global/msg.js';
import { runService } from '../master/service.js';
import { getopt } from '../util/getopt.js';
import { Resolver } from './resolve.js';
import { rewriteParams } from './rewrite.js';
import { type ServiceDeps, serveStream } from './server.js';

function deps(cfg: MainConfig): ServiceDeps {
  return {
    rewrite: rewriteParams(cfg),
    resolver: new Resolver(cfg),
    verifier: new Resolver(cfg, { verify: true }),
  };
}

const argv = process.argv.slice(2);
if (argv.includes('-S')) {
  msg.setProgram('postfix/trivial-rewrite');
  const parsed = getopt(argv, 'cSvo:n:t:');
  if (parsed.kind === 'error') msg.fatal(parsed.message);
  const overrides = parsed.opts.filter((o) => o.opt === 'o').map((o) => o.arg ?? '');
  const d = deps(loadMainConfig({ overrides }));
  await serveStream(d, process.stdin, process.stdout);
  await d.resolver.close();
  await d.verifier.close();
} else {
  let d: ServiceDeps;
  runService({
    program: 'trivial-rewrite',
    kind: 'connection',
    init(ctx) {
      d = deps(ctx.cfg);
    },
    connection(sock) {
      sock.on('error', () => {});
      serveStream(d, sock, sock).then(
        () => sock.end(),
        (e: unknown) => {
          msg.warn(`rewrite session: ${e instanceof Error ? e.message : String(e)}`);
          sock.destroy();
        },
      );
    },
    async stop() {
      await d.resolver.close();
      await d.verifier.close();
    },
  });
}
