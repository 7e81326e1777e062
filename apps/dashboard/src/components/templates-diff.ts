/** One line of a line diff: kept, removed from the old text, or added by the new one. */
export interface DiffLine {
  kind: 'same' | 'removed' | 'added';
  text: string;
  /** 1-based line number in the old text (same and removed lines). */
  oldLine?: number;
  /** 1-based line number in the new text (same and added lines). */
  newLine?: number;
}

function linesOf(text: string): string[] {
  if (text === '') return [];
  return text.replace(/\r\n?/g, '\n').split('\n');
}

/**
 * The line diff of two texts, by the longest common subsequence of their lines: every line of `before`
 * appears once as same or removed, every line of `after` once as same or added, in order. A changed line is
 * a removal followed by an addition. Common leading and trailing lines are matched first, so the table is
 * only as large as the part that changed.
 */
export function diffLines(before: string, after: string): DiffLine[] {
  const a = linesOf(before);
  const b = linesOf(after);
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start += 1;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA -= 1;
    endB -= 1;
  }
  const n = endA - start;
  const m = endB - start;
  // lengths[i * (m + 1) + j]: the LCS length of a[start + i ..endA) and b[start + j ..endB).
  const width = m + 1;
  const lengths = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i -= 1) {
    for (let j = m - 1; j >= 0; j -= 1) {
      lengths[i * width + j] =
        a[start + i] === b[start + j]
          ? (lengths[(i + 1) * width + j + 1] ?? 0) + 1
          : Math.max(lengths[(i + 1) * width + j] ?? 0, lengths[i * width + j + 1] ?? 0);
    }
  }

  const out: DiffLine[] = [];
  const same = (i: number, j: number) =>
    out.push({ kind: 'same', text: a[i] ?? '', oldLine: i + 1, newLine: j + 1 });
  for (let k = 0; k < start; k += 1) same(k, k);
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[start + i] === b[start + j]) {
      same(start + i, start + j);
      i += 1;
      j += 1;
    } else if (
      j === m ||
      (i < n && (lengths[(i + 1) * width + j] ?? 0) >= (lengths[i * width + j + 1] ?? 0))
    ) {
      // On a tie the removal goes first, so a changed line reads as - old, + new.
      out.push({ kind: 'removed', text: a[start + i] ?? '', oldLine: start + i + 1 });
      i += 1;
    } else {
      out.push({ kind: 'added', text: b[start + j] ?? '', newLine: start + j + 1 });
      j += 1;
    }
  }
  for (let k = 0; k < a.length - endA; k += 1) same(endA + k, endB + k);
  return out;
}

/** How many lines a diff adds and removes. */
export function diffStats(lines: DiffLine[]): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const line of lines) {
    if (line.kind === 'added') added += 1;
    else if (line.kind === 'removed') removed += 1;
  }
  return { added, removed };
}
