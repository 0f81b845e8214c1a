#!/usr/bin/env python3
"""Record golden output from the real Postfix postconf for every line of cases.txt.

Run by hand on a host with Postfix 3.7 (never needed by CI):
    python3 test/golden/postconf/record.py [NAME.txt]
Writes golden.json next to this file (NAME.json for another cases file). Each run happens in a fresh temporary
directory holding ./conf (a copy of cases/<case>), never /etc/postfix.
"""
import json, os, shlex, shutil, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

def main():
    cases = sys.argv[1] if len(sys.argv) > 1 else 'cases.txt'
    target = 'golden.json' if cases == 'cases.txt' else cases.removesuffix('.txt') + '.json'
    out = []
    with open(os.path.join(HERE, cases)) as f:
        for line in f:
            if not line.strip() or line.startswith('#'):
                continue
            case, flags, args = [p.strip() for p in line.split('|', 2)]
            argv = shlex.split(args)
            with tempfile.TemporaryDirectory() as tmp:
                if case != '-':
                    shutil.copytree(os.path.join(HERE, 'cases', case), os.path.join(tmp, 'conf'))
                env = {'PATH': '/usr/sbin:/usr/bin:/bin', 'LANG': 'C'}
                if 'E' in flags:
                    env['MAIL_CONFIG'] = 'conf'
                r = subprocess.run(['postconf', *argv], cwd=tmp, env=env, capture_output=True)
                rec = {'case': case, 'flags': flags, 'args': argv, 'stdout': r.stdout.decode('latin1'),
                       'stderr': r.stderr.decode('latin1'), 'status': r.returncode}
                if 'F' in flags:
                    with open(os.path.join(tmp, 'conf', 'main.cf'), 'rb') as m:
                        rec['main_cf'] = m.read().decode('latin1')
                out.append(rec)
    with open(os.path.join(HERE, target), 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')
    print(f'{len(out)} cases recorded')

main()
