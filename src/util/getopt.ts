/*
 * getopt - POSIX getopt(3) as Postfix's commands use it
 *
 * Postfix's commands parse options in order and stop at the first operand
 * ("postconf mail_version -d" treats "-d" as a parameter name), so this
 * does not permute. Problems are reported in glibc's words, which admins
 * see from the real commands: "invalid option -- 'Z'" and "option requires
 * an argument -- 'o'"; the caller then prints its own usage line.
 */

export type Opt = { readonly opt: string; readonly arg?: string };
export type GetoptResult =
  | { readonly kind: 'ok'; readonly opts: readonly Opt[]; readonly operands: readonly string[] }
  | { readonly kind: 'error'; readonly message: string; readonly opts: readonly Opt[] };

/** optstring as in C: a letter, followed by ':' when it takes an argument. */
export function getopt(argv: readonly string[], optstring: string): GetoptResult {
  const opts: Opt[] = [];
  let i = 0;
  while (i < argv.length) {
    const word = argv[i]!;
    if (word === '--') {
      i++;
      break;
    }
    if (word.length < 2 || word[0] !== '-') break;
    for (let j = 1; j < word.length; j++) {
      const c = word[j]!;
      const at = c === ':' ? -1 : optstring.indexOf(c);
      if (at < 0) return { kind: 'error', message: `invalid option -- '${c}'`, opts };
      if (optstring[at + 1] !== ':') {
        opts.push({ opt: c });
        continue;
      }
      if (j + 1 < word.length) {
        opts.push({ opt: c, arg: word.slice(j + 1) });
      } else if (i + 1 < argv.length) {
        opts.push({ opt: c, arg: argv[++i]! });
      } else {
        return { kind: 'error', message: `option requires an argument -- '${c}'`, opts };
      }
      break;
    }
    i++;
  }
  return { kind: 'ok', opts, operands: argv.slice(i) };
}
