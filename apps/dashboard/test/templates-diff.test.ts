import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DiffLine, diffLines, diffStats } from '../src/components/templates-diff.ts';

/** A diff as `  same`, `- removed`, `+ added` lines, the way one reads it. */
function render(lines: DiffLine[]): string[] {
  return lines.map(
    (line) => `${line.kind === 'same' ? ' ' : line.kind === 'added' ? '+' : '-'} ${line.text}`,
  );
}

/** The old and new texts a diff describes, rebuilt from it. */
function sides(lines: DiffLine[]): { before: string[]; after: string[] } {
  return {
    before: lines.filter((line) => line.kind !== 'added').map((line) => line.text),
    after: lines.filter((line) => line.kind !== 'removed').map((line) => line.text),
  };
}

describe('diffLines', () => {
  it('keeps identical texts as they are, with both line numbers', () => {
    const lines = diffLines('a\nb\nc', 'a\nb\nc');
    assert.deepEqual(render(lines), ['  a', '  b', '  c']);
    assert.deepEqual(
      lines.map((line) => [line.oldLine, line.newLine]),
      [
        [1, 1],
        [2, 2],
        [3, 3],
      ],
    );
  });

  it('shows additions at the start, in the middle and at the end', () => {
    assert.deepEqual(render(diffLines('b\nd', 'a\nb\nc\nd\ne')), ['+ a', '  b', '+ c', '  d', '+ e']);
    const added = diffLines('b\nd', 'a\nb\nc\nd\ne').filter((line) => line.kind === 'added');
    assert.deepEqual(
      added.map((line) => [line.newLine, line.oldLine]),
      [
        [1, undefined],
        [3, undefined],
        [5, undefined],
      ],
    );
  });

  it('shows removals at the start, in the middle and at the end', () => {
    assert.deepEqual(render(diffLines('a\nb\nc\nd\ne', 'b\nd')), ['- a', '  b', '- c', '  d', '- e']);
    const removed = diffLines('a\nb\nc\nd\ne', 'b\nd').filter((line) => line.kind === 'removed');
    assert.deepEqual(
      removed.map((line) => line.oldLine),
      [1, 3, 5],
    );
  });

  it('shows a changed line as its removal followed by its replacement', () => {
    assert.deepEqual(
      render(diffLines('<p>Hello {{ name }}</p>\n<p>Bye</p>', '<p>Hi {{ name }}</p>\n<p>Bye</p>')),
      ['- <p>Hello {{ name }}</p>', '+ <p>Hi {{ name }}</p>', '  <p>Bye</p>'],
    );
    assert.deepEqual(render(diffLines('a\nx\ny\nb', 'a\nX\nY\nb')), [
      '  a',
      '- x',
      '- y',
      '+ X',
      '+ Y',
      '  b',
    ]);
  });

  it('handles empty texts on either side', () => {
    assert.deepEqual(diffLines('', ''), []);
    assert.deepEqual(render(diffLines('', 'a\nb')), ['+ a', '+ b']);
    assert.deepEqual(render(diffLines('a\nb', '')), ['- a', '- b']);
  });

  it('treats CRLF and LF line ends alike, and repeated lines correctly', () => {
    assert.deepEqual(render(diffLines('a\r\nb\r\n', 'a\nb\n')), ['  a', '  b', '  ']);
    assert.deepEqual(render(diffLines('x\nx\nx', 'x\nx')), ['  x', '  x', '- x']);
    assert.deepEqual(diffStats(diffLines('}\n}\n}', '}\nfoo\n}\n}')), { added: 1, removed: 0 });
  });

  it('is a shortest edit for random texts: both sides rebuild and it keeps a longest common subsequence', () => {
    let seed = 7;
    const random = (limit: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % limit;
    };
    const lcsLength = (a: string[], b: string[]) => {
      const table = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
      for (let i = 1; i <= a.length; i += 1) {
        for (let j = 1; j <= b.length; j += 1) {
          const row = table[i] ?? [];
          const previous = table[i - 1] ?? [];
          row[j] =
            a[i - 1] === b[j - 1] ? (previous[j - 1] ?? 0) + 1 : Math.max(previous[j] ?? 0, row[j - 1] ?? 0);
        }
      }
      return table[a.length]?.[b.length] ?? 0;
    };
    for (let round = 0; round < 300; round += 1) {
      const a = Array.from({ length: random(12) }, () => 'abcd'[random(4)] ?? 'a');
      const b = Array.from({ length: random(12) }, () => 'abcd'[random(4)] ?? 'a');
      const lines = diffLines(a.join('\n'), b.join('\n'));
      const rebuilt = sides(lines);
      assert.deepEqual(rebuilt.before, a.length === 0 ? [] : a);
      assert.deepEqual(rebuilt.after, b.length === 0 ? [] : b);
      assert.equal(
        lines.filter((line) => line.kind === 'same').length,
        lcsLength(a, b),
        `${a.join('')} → ${b.join('')}`,
      );
    }
  });
});
