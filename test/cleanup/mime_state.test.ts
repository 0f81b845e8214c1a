/*
 * The content parser on its own: header classes, folding, the events'
 * order, error flags, and that no input makes it throw or grow.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  MIME_ERR_8BIT_IN_7BIT_BODY,
  MIME_ERR_8BIT_IN_HEADER,
  MIME_ERR_ENCODING_DOMAIN,
  MIME_ERR_NESTING,
  MIME_ERR_TRUNC_HEADER,
  type MimeLimits,
  MimeState,
} from '../../src/cleanup/mime_state.js';

const LIMITS: MimeLimits = {
  headerSizeLimit: 102400,
  nestingLimit: 100,
  boundaryLengthLimit: 2048,
  disableMime: false,
};

function parse(
  text: string,
  limits: Partial<MimeLimits> = {},
): { events: string[]; errors: number; has8bit: boolean } {
  const events: string[] = [];
  const p = new MimeState(
    { ...LIMITS, ...limits },
    {
      header: (cls, h) => events.push(`${cls}: ${h}`),
      primaryEnd: () => events.push('END'),
      body: (b, offset) => events.push(`body@${offset}: ${b}`),
    },
  );
  for (const line of text.split('\n')) p.line(line);
  const errors = p.end();
  return { events, errors, has8bit: p.has8bit };
}

test('primary headers, folding, end of headers, body offsets', () => {
  assert.deepEqual(parse('A: 1\n  2\n\tthree\nB:2\n\nxy\nz').events, [
    'primary: A: 1\n  2\n\tthree',
    'primary: B:2',
    'END',
    'body@0: ',
    'body@1: xy',
    'body@4: z',
  ]);
});

test('a non-header line ends the headers with an empty line supplied', () => {
  assert.deepEqual(parse('A: 1\nno header\n').events, [
    'primary: A: 1',
    'END',
    'body@0: ',
    'body@1: no header',
    'body@11: ',
  ]);
  // A continuation line with no header before it is not a header either.
  assert.deepEqual(parse(' cont\n').events.slice(0, 3), ['END', 'body@0: ', 'body@1:  cont']);
});

test('message that ends inside its headers: the last header and the end are delivered', () => {
  const r = parse('A: 1\nB: 2\n 3');
  assert.deepEqual(r.events, ['primary: A: 1', 'primary: B: 2\n 3', 'END']);
});

test('multipart/digest parts default to message/rfc822; part offsets restart', () => {
  const r = parse('Content-Type: multipart/digest; boundary="d"\n\n--d\n\nX: nested\n\nbody\n--d--\nafter');
  assert.deepEqual(r.events, [
    'primary: Content-Type: multipart/digest; boundary="d"',
    'END',
    'body@0: ',
    'body@1: --d',
    'body@0: ',
    'nested: X: nested',
    'body@0: ',
    'body@1: body',
    'body@6: --d--',
    'body@12: after',
  ]);
});

test('error flags: truncation, 8-bit header and 7-bit body, encoding domain, nesting', () => {
  assert.equal(parse('S: 123\n 456\n 789\n\n', { headerSizeLimit: 8 }).errors, MIME_ERR_TRUNC_HEADER);
  assert.equal(parse('S: \u00e9\n\n').errors, MIME_ERR_8BIT_IN_HEADER);
  assert.equal(parse('S: x\n\n\u00e9').errors, MIME_ERR_8BIT_IN_7BIT_BODY);
  assert.equal(parse('Content-Transfer-Encoding: 8bit\n\n\u00e9').errors, 0);
  assert.equal(parse('Content-Transfer-Encoding: 8bit\n\n\u00e9').has8bit, true);
  assert.equal(parse('S: x\n\n\u00e9', { disableMime: true }).errors, 0);
  assert.equal(
    parse('Content-Type: multipart/mixed; boundary=b\nContent-Transfer-Encoding: quoted-printable\n\n')
      .errors,
    MIME_ERR_ENCODING_DOMAIN,
  );
  const nest = 'Content-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: message/rfc822\n\nX: 1\n';
  assert.equal(parse(nest, { nestingLimit: 1 }).errors, MIME_ERR_NESTING);
  assert.equal(parse(nest, { nestingLimit: 2 }).errors, 0);
});

test('a boundary closes inner levels; an attached message ends at its part boundary', () => {
  const r = parse(
    'Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: message/rfc822\n\nContent-Type: multipart/alternative; boundary=i\n\n--i\nI: 1\n\n--o\nP: 2\n\n--o--\nE: 3',
  );
  const headers = r.events.filter((e) => !e.startsWith('body') && e !== 'END');
  assert.deepEqual(headers, [
    'primary: Content-Type: multipart/mixed; boundary=o',
    'multipart: Content-Type: message/rfc822',
    'nested: Content-Type: multipart/alternative; boundary=i',
    'multipart: I: 1',
    'multipart: P: 2',
  ]);
  assert.equal(r.events.at(-1), 'body@7: E: 3');
});

test('any input: no exception, headers within header_size_limit plus one line', () => {
  const line = fc.oneof(
    fc.constantFrom(
      '',
      '--b',
      '--b--',
      '--c',
      ' cont',
      '\tcont',
      'X: y',
      'Content-Type: multipart/mixed; boundary=b',
    ),
    fc.constantFrom(
      'Content-Type: message/rfc822',
      'Content-Type: multipart/digest; boundary=c',
      'caf\u00e9: x',
    ),
    fc.string({ maxLength: 40 }),
  );
  fc.assert(
    fc.property(fc.array(line, { maxLength: 60 }), fc.integer({ min: 1, max: 50 }), (lines, limit) => {
      let longest = 0;
      const p = new MimeState(
        { ...LIMITS, headerSizeLimit: limit, nestingLimit: 3 },
        {
          header: (_c, h) => {
            longest = Math.max(longest, h.length);
          },
          body: () => {},
        },
      );
      for (const l of lines) p.line(l);
      p.end();
      assert.ok(longest <= limit + 41);
    }),
    { numRuns: 300 },
  );
});
