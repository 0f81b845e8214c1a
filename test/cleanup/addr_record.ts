/*
 * Record test/golden/addrmap/golden.json from a private Postfix 3.7
 * instance (root and unshare(1) needed; build first with npx tsc -p .):
 *	node dist/test/cleanup/addr_record.js [configuration name]
 *
 * The temp configuration is bind-mounted over /etc/postfix inside a
 * private mount namespace, so the system's own files are never touched.
 * master.cf has no qmgr: every message that cleanup accepts stays in
 * incoming/, where postcat shows the envelope and headers cleanup wrote.
 * Messages go in with sendmail (pickup: local rewriting context).
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CONFIGS, type Config, goldenFile } from './addr_cases.js';

const only = process.argv[2];
for (const config of CONFIGS) if (only === undefined || config.name === only) record(config);

function record(config: Config): void {
  const G = mkdtempSync(join(tmpdir(), 'pfaddr-'));
  chmodSync(G, 0o755);
  try {
    const conf = join(G, 'conf');
    mkdirSync(conf);
    for (const d of ['q', 'data']) mkdirSync(join(G, d));
    spawnSync('chown', ['postfix', join(G, 'data')]);
    for (const f of [
      'postfix-files',
      'postfix-files.d',
      'postfix-script',
      'post-install',
      'dynamicmaps.cf',
      'dynamicmaps.cf.d',
      'makedefs.out',
    ]) {
      try {
        cpSync(join('/etc/postfix', f), join(conf, f), { recursive: true });
      } catch {
        // optional files
      }
    }
    const port = 20000 + Math.floor(Math.random() * 20000);
    const master = readFileSync('/etc/postfix/master.cf', 'utf8')
      .split('\n')
      .map((l) => (/^(smtp\s+inet|qmgr\s)/.test(l) ? `#${l}` : l))
      .concat(config.smtp ? [`127.0.0.1:${port} inet n - n - - smtpd`] : [])
      .join('\n');
    writeFileSync(join(conf, 'master.cf'), master);
    for (const [name, text] of Object.entries(config.tables)) writeFileSync(join(conf, name), `${text}\n`);
    const mainCf = [
      `queue_directory = ${G}/q`,
      `data_directory = ${G}/data`,
      'inet_interfaces = loopback-only',
      'inet_protocols = ipv4',
      'alias_maps =',
      'alias_database =',
      `maillog_file = ${G}/maillog`,
      'maillog_file_prefixes = /tmp',
      ...config.mainCf.map((l) => l.replaceAll('$TABLES', '/etc/postfix')),
    ];
    writeFileSync(join(conf, 'main.cf'), `${mainCf.join('\n')}\n`);
    const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
    const sends = config.cases.map((c, i) => {
      const text = `${[...c.headers, `X-Case: ${i}`].join('\n')}\n\nbody\n`;
      writeFileSync(join(G, `msg${i}`), text);
      if (!config.smtp) return `sendmail -f ${q(c.sender)} ${c.recipients.map(q).join(' ')} < ${G}/msg${i}`;
      // Raw MAIL FROM / RCPT TO: the addresses go out exactly as written (quoted where they are).
      const py = `import smtplib,sys; s=smtplib.SMTP('127.0.0.1', ${port}); s.ehlo(); s.docmd('MAIL FROM:<%s>' % sys.argv[1]); [s.docmd('RCPT TO:<%s>' % r) for r in sys.argv[2:]]; s.data(open('${G}/msg${i}','rb').read()); s.quit()`;
      return `python3 -c ${q(py)} ${q(c.sender)} ${c.recipients.map(q).join(' ')}`;
    });
    // Wait until pickup took every message that cleanup will accept, and
    // cleanup refused the others (they stay in maildrop).
    const left = config.deferred ?? 0;
    // 'unknown' (random tables): wait until pickup offered every message and maildrop stopped changing.
    const wait =
      config.deferred === 'unknown'
        ? `prev=x; for i in $(seq 90); do p=$(grep -c "postfix/pickup.*uid=" ${G}/maillog); n=$(ls ${G}/q/maildrop | wc -l); [ $p -ge ${config.cases.length} ] && [ "$n" = "$prev" ] && break; prev=$n; postkick public pickup W; sleep 2; done`
        : `for i in $(seq 60); do n=$(ls ${G}/q/maildrop | wc -l); r=$(grep -c "try again later" ${G}/maillog); [ $n -le ${left} ] && [ $r -ge ${left} ] && break; postkick public pickup W; sleep 1; done`;
    const script = [
      `mount --bind ${conf} /etc/postfix`,
      'postfix start',
      'sleep 2',
      ...sends,
      wait,
      'sleep 2',
      'postfix stop',
      'sleep 1',
    ].join('\n');
    const r = spawnSync('timeout', ['120', 'unshare', '-m', 'sh', '-c', script], {
      encoding: 'utf8',
      env: { ...process.env, TZ: 'UTC' },
    });
    if (r.status !== 0) throw new Error(`recording failed: ${r.stderr}`);
    const incoming = join(G, 'q', 'incoming');
    const results: unknown[] = [];
    for (const f of readdirSync(incoming, { recursive: true, withFileTypes: true })) {
      if (!f.isFile()) continue;
      const out = spawnSync('postcat', ['-c', conf, '-e', '-h', join(f.parentPath, f.name)], {
        encoding: 'utf8',
      });
      results.push(parsePostcat(out.stdout));
    }
    results.sort((a, b) => (a as { case: number }).case - (b as { case: number }).case);
    // Each refused message is offered again and again: keep one copy of each line.
    const log = [
      ...new Set(
        readFileSync(join(G, 'maillog'), 'utf8')
          .split('\n')
          .filter((l) => /postfix\/cleanup\[/.test(l) && /warning|try again later/.test(l))
          .map((l) =>
            l.replace(/^.*?postfix\/\w+\[\d+\]: /, '').replace(/^(warning: )?[0-9A-F]+: /, '$1QUEUEID: '),
          ),
      ),
    ];
    const file = goldenFile(config);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify({ messages: results, log }, null, 1)}\n`);
    console.log(`recorded ${results.length} of ${config.cases.length} messages in ${file}`);
  } finally {
    if (process.env.ADDR_KEEP) console.log(`kept ${G}`);
    else rmSync(G, { recursive: true, force: true });
  }
}

/** postcat -e -h output: sender, recipients (original, final), header lines. */
function parsePostcat(text: string) {
  let sender = '';
  const recipients: [string, string][] = [];
  const headers: string[] = [];
  let orig = '';
  let inHeaders = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('*** MESSAGE CONTENTS')) inHeaders = true;
    else if (line.startsWith('***')) inHeaders = false;
    else if (inHeaders) {
      if (/^[ \t]/.test(line) && headers.length > 0) headers[headers.length - 1] += `\n${line}`;
      else if (line !== '') headers.push(line);
    } else if (line.startsWith('sender: ')) sender = line.slice(8);
    else if (line.startsWith('original_recipient: ')) orig = line.slice(20);
    else if (line.startsWith('recipient: ')) {
      recipients.push([orig, line.slice(11)]);
      orig = '';
    }
  }
  const caseHeader = headers.find((h) => h.startsWith('X-Case: '));
  return { case: Number(caseHeader?.slice(8)), sender, recipients, headers, postcat: text };
}
