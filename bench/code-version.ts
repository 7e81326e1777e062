// The code a benchmark measured: the commit, and whether files outside bench/ and docs/ differed from it
// (other work in the tree changes what is measured).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export function codeVersion(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    const changed = execFileSync('git', ['status', '--porcelain', '--', '.', ':!bench', ':!docs'], {
      cwd: ROOT,
      encoding: 'utf8',
    })
      .split('\n')
      .filter((line) => line.trim() !== '');
    return changed.length === 0
      ? `commit ${commit}`
      : `commit ${commit} with uncommitted changes to ${changed.length} file(s) outside bench/ and docs/`;
  } catch {
    return 'commit unknown (no git)';
  }
}
