/**
 * The text/plain part of an email whose template has none, and the text of an in-app message: the rendered
 * HTML read the way a person would read it. Links keep their target (`Pay now (https://…)`), list items
 * get a dash, blocks and line breaks become new lines, invisible parts (head, style, script) go.
 *
 * A scanner with indexOf rather than regular expressions over the document: the HTML is up to a megabyte,
 * and patterns such as `<style[\s\S]*?</style>` backtrack quadratically on a document full of unclosed tags.
 */

/** Elements whose content is not read at all. */
const HIDDEN = new Set(['head', 'style', 'script', 'title', 'template', 'noscript']);
/** Elements that start and end on a line of their own. */
const BLOCKS = new Set([
  'address',
  'article',
  'aside',
  'blockquote',
  'center',
  'dd',
  'div',
  'dl',
  'dt',
  'fieldset',
  'figcaption',
  'figure',
  'footer',
  'form',
  'header',
  'main',
  'nav',
  'ol',
  'pre',
  'section',
  'table',
  'tbody',
  'tfoot',
  'thead',
  'tr',
  'ul',
]);
/** Blocks set apart by an empty line. */
const PARAGRAPHS = new Set(['p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6']);
const CELLS = new Set(['td', 'th']);

const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  copy: '©',
  reg: '®',
  trade: '™',
  hellip: '…',
  mdash: '—',
  ndash: '–',
  lsquo: '‘',
  rsquo: '’',
  ldquo: '“',
  rdquo: '”',
  laquo: '«',
  raquo: '»',
  bull: '•',
  middot: '·',
  euro: '€',
  pound: '£',
  yen: '¥',
  cent: '¢',
  deg: '°',
  times: '×',
  zwnj: '',
  zwj: '',
  shy: '',
};

/** Decodes character references; unknown ones stay as written, as a browser shows them. */
export function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});/g, (whole, name: string) => {
    if (name.startsWith('#')) {
      const code =
        name[1] === 'x' || name[1] === 'X' ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1));
      // Zero, surrogates and values past Unicode are not characters; a browser shows U+FFFD for them.
      if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return '\uFFFD';
      return String.fromCodePoint(code);
    }
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

/** An attribute's value as written (character references not yet decoded). */
function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s"'>]+))`, 'i').exec(tag);
  if (!match) return undefined;
  return match[1] ?? match[2] ?? match[3] ?? '';
}

/** Whether a link's target adds anything to its text (not when the text already is the address). */
function worthShowing(href: string, text: string): boolean {
  if (href === '' || href.startsWith('#') || /^javascript:/i.test(href)) return false;
  const shown = text.trim();
  const bare = href.replace(/^mailto:|^tel:/i, '');
  return shown !== href && shown !== bare && shown !== href.replace(/\/$/, '');
}

/** Marks list indentation, which the tidying below would otherwise trim away. */
const INDENT = '\u0001';

/** Collapses each line's runs of blanks, trims lines, and keeps at most one empty line in a row. */
function tidy(text: string): string {
  const lines: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[ \t\f\r\u00a0]+/g, ' ').trim();
    if (line === '' && (lines.length === 0 || lines.at(-1) === '')) continue;
    lines.push(line);
  }
  while (lines.at(-1) === '') lines.pop();
  return lines.join('\n').replaceAll(INDENT, ' ');
}

/** Link text longer than this is not compared with the link's address; the address is shown. */
const LINK_TEXT_COMPARED_MAX = 2048;
/** Links nested deeper than this (only broken HTML nests them) are read as plain text. */
const LINKS_OPEN_MAX = 64;

export function htmlToText(html: string): string {
  const lower = html.toLowerCase();
  let out = '';
  // Line breaks a block asked for, written only before the next text: a block that ends where another
  // begins makes one break, not two.
  let pending = 0;
  const breakLines = (count: number) => {
    pending = Math.max(pending, count);
  };
  const flush = () => {
    if (pending > 0 && out !== '') out += '\n'.repeat(pending);
    pending = 0;
  };
  const text = (raw: string) => {
    // Source line breaks and indentation are layout, not content, exactly as in a browser.
    const collapsed = decodeEntities(raw.replace(/[ \t\r\n\f]+/g, ' '));
    if (collapsed.trim() === '') {
      if (collapsed !== '' && pending === 0) out += ' ';
      return;
    }
    flush();
    out += collapsed;
  };
  const links: { href: string; start: number }[] = [];
  let listDepth = 0;
  let index = 0;
  while (index < html.length) {
    const open = html.indexOf('<', index);
    if (open < 0) {
      text(html.slice(index));
      break;
    }
    text(html.slice(index, open));
    if (html.startsWith('<!--', open)) {
      const end = html.indexOf('-->', open + 4);
      index = end < 0 ? html.length : end + 3;
      continue;
    }
    const close = html.indexOf('>', open + 1);
    if (close < 0) {
      // No tag ends anywhere after this: the rest is text (and scanning on would be quadratic).
      text(html.slice(open));
      break;
    }
    const match = /^<(\/?)([a-zA-Z][a-zA-Z0-9]*)/.exec(html.slice(open, open + 32));
    if (!match) {
      // A `<` that starts no tag (`a < b`) is text.
      text('<');
      index = open + 1;
      continue;
    }
    const tag = html.slice(open, close + 1);
    const closing = match[1] === '/';
    const name = (match[2] ?? '').toLowerCase();
    index = close + 1;
    if (!closing && HIDDEN.has(name)) {
      const end = lower.indexOf(`</${name}`, index);
      if (end < 0) break;
      const after = html.indexOf('>', end);
      index = after < 0 ? html.length : after + 1;
      continue;
    }
    if (name === 'br') {
      flush();
      out += '\n';
    } else if (name === 'hr') {
      breakLines(1);
      flush();
      out += '---';
      breakLines(1);
    } else if (PARAGRAPHS.has(name)) breakLines(2);
    else if (BLOCKS.has(name)) {
      breakLines(1);
      if (name === 'ul' || name === 'ol') listDepth = Math.max(0, listDepth + (closing ? -1 : 1));
    } else if (name === 'li') {
      breakLines(1);
      if (!closing) {
        flush();
        out += `${INDENT.repeat(2 * Math.max(0, listDepth - 1))}- `;
      }
    } else if (CELLS.has(name) && !closing) {
      if (pending === 0) out += ' ';
    } else if (name === 'img' && !closing) {
      const alt = attribute(tag, 'alt');
      if (alt) text(alt);
    } else if (name === 'a') {
      if (!closing && links.length < LINKS_OPEN_MAX) {
        links.push({ href: decodeEntities(attribute(tag, 'href') ?? ''), start: out.length });
      } else if (closing) {
        const link = links.pop();
        const shown = link && out.length - link.start <= LINK_TEXT_COMPARED_MAX ? out.slice(link.start) : '';
        if (link && worthShowing(link.href, shown)) out += ` (${link.href})`;
      }
    }
  }
  return tidy(out);
}
