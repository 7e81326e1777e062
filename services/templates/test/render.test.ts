import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Token } from 'liquidjs';
import {
  checkTemplate,
  DEFAULT_LIMITS,
  MISSING_REPORTED_MAX,
  NESTING_MAX,
  nestingDepth,
  type RenderLimits,
  type RenderResult,
  renderTemplate,
  type TemplateBodies,
  templateVariables,
} from '../src/render.ts';
import { htmlToText } from '../src/text.ts';

const email = (content: string, subject = 'Hello', text_content: string | null = null): TemplateBodies => ({
  type: 'email',
  subject,
  content,
  text_content,
});
const sms = (content: string): TemplateBodies => ({
  type: 'sms',
  subject: null,
  content,
  text_content: null,
});
const webhook = (content: string): TemplateBodies => ({
  type: 'webhook',
  subject: null,
  content,
  text_content: null,
});

/** Tight limits so the hostile cases finish fast; the defaults are tested separately. */
const TIGHT: RenderLimits = { timeMs: 100, memory: 1_000_000, outputChars: 100_000 };

function rendered(result: RenderResult) {
  if (!result.ok) assert.fail(`render failed: ${JSON.stringify(result.errors)}`);
  return result.value;
}

function failure(result: RenderResult) {
  if (result.ok) assert.fail(`render succeeded: ${JSON.stringify(result.value)}`);
  return result;
}

/** Runs `work`, then checks it took less than `ms` (the bound a hostile template must stop within). */
function within<T>(ms: number, work: () => T): T {
  const started = performance.now();
  const result = work();
  const took = performance.now() - started;
  assert.ok(took < ms, `took ${Math.round(took)} ms, more than ${ms}`);
  return result;
}

describe('rendering', () => {
  describe('variables', () => {
    it('renders the variables it is given, nested paths and loops included', () => {
      const out = rendered(
        renderTemplate(
          email(
            '<p>{{ user.name }}</p>{% for item in order.items %}<li>{{ item.title }} × {{ item.qty }}</li>{% endfor %}',
            'Order {{ order.id }}',
          ),
          { user: { name: 'Ada' }, order: { id: 42, items: [{ title: 'Tea', qty: 2 }] } },
        ),
      );
      assert.equal(out.subject, 'Order 42');
      assert.equal(out.html, '<p>Ada</p><li>Tea × 2</li>');
    });

    it('names every missing variable, not only the first, each by its path in the variables', () => {
      const result = failure(
        renderTemplate(
          email(
            '{{ user.name }} {{ total }} {% for i in items %}{{ i.title }}{% endfor %} {{ shipping.address.city }}',
            'Hi {{ first_name }}',
          ),
          { user: {}, items: [{}, {}], shipping: { address: {} } },
        ),
      );
      assert.equal(result.kind, 'missing');
      assert.deepEqual(result.missing, [
        'first_name',
        'user.name',
        'total',
        'items.0.title',
        'shipping.address.city',
      ]);
      assert.deepEqual(
        result.errors.map((error) => error.field),
        result.missing.map((path) => `variables.${path}`),
      );
      assert.ok(result.errors.every((error) => error.in === 'body'));
      assert.equal(result.errors[0]?.reason, 'is missing: the subject reads it on line 1');
      assert.equal(result.errors[1]?.reason, 'is missing: the content reads it on line 1');
    });

    it('says on which line of which part a missing variable is first read', () => {
      const result = failure(renderTemplate(email('<p>\n\n{{ a }}</p>', 'S', 'x\n{{ b }}\n{{ a }}'), {}));
      assert.deepEqual(
        result.errors.map((error) => [error.field, error.reason]),
        [
          ['variables.a', 'is missing: the content reads it on line 3'],
          ['variables.b', 'is missing: the text part reads it on line 2'],
        ],
      );
    });

    it('names the path the template reads when a whole object is missing (user.name, not user)', () => {
      const result = failure(renderTemplate(sms('{{ user.name }} {{ user.email }}'), {}));
      assert.deepEqual(result.missing, ['user.name', 'user.email']);
    });

    it('names a list, not its size, when the list is missing', () => {
      assert.deepEqual(failure(renderTemplate(sms('{{ items.size }} {{ tags | size }}'), {})).missing, [
        'items',
        'tags',
      ]);
    });

    it('follows assigned aliases back to the variables (assign u = user → user.email)', () => {
      const result = failure(renderTemplate(sms('{% assign u = user %}{{ u.email }}'), { user: {} }));
      assert.deepEqual(result.missing, ['user.email']);
    });

    it('treats variables only tested in if/unless or given a default as optional', () => {
      const out = rendered(
        renderTemplate(
          sms(
            '{% if nickname %}{{ nickname }}{% else %}friend{% endif %}{% unless muted %}!{% endunless %} {{ title | default: "there" }}',
          ),
          {},
        ),
      );
      assert.equal(out.text, 'friend! there');
    });

    it('does not ask for what a branch that did not run would have read', () => {
      assert.equal(rendered(renderTemplate(sms('{% if vip %}{{ perk }}{% endif %}ok'), {})).text, 'ok');
    });

    it('stops naming after MISSING_REPORTED_MAX variables', () => {
      const content = Array.from({ length: MISSING_REPORTED_MAX + 20 }, (_, i) => `{{ v${i} }}`).join('');
      const result = failure(renderTemplate(sms(content), {}));
      assert.equal(result.missing.length, MISSING_REPORTED_MAX);
    });

    it('calls a variable the template itself never set a template error, not a missing input', () => {
      const result = failure(renderTemplate(sms('{% for i in (1..2) %}{{ i.name }}{% endfor %}'), {}));
      assert.equal(result.kind, 'invalid');
      assert.deepEqual(result.missing, []);
      assert.equal(result.errors[0]?.field, 'content');
      assert.match(result.errors[0]?.reason ?? '', /i\.name/);
    });

    it('refuses variables nested deeper than 32 levels, naming where', () => {
      const deep = JSON.parse(`${'{"a":'.repeat(40)}1${'}'.repeat(40)}`) as Record<string, unknown>;
      const result = failure(renderTemplate(sms('x'), deep));
      assert.match(result.errors[0]?.field ?? '', /^variables\.a\.a/);
      assert.match(result.errors[0]?.reason ?? '', /deeper than 32/);
    });

    it('survives a cycle an in-process caller passes', () => {
      const cyclic: Record<string, unknown> = { name: 'Ada' };
      cyclic.self = cyclic;
      assert.equal(rendered(renderTemplate(sms('{{ name }}'), cyclic)).text, 'Ada');
    });

    it('does not let the template change the caller’s variables (increment writes to a copy)', () => {
      const variables: Record<string, unknown> = { n: 'x' };
      rendered(renderTemplate(sms('{% increment count %}{% increment count %}'), variables));
      assert.deepEqual(variables, { n: 'x' });
    });
  });

  describe('strictness', () => {
    it('refuses an unknown filter when the template is saved, naming the part and the line', () => {
      const [error] = checkTemplate(email('<p>\n{{ name | shout }}</p>'));
      assert.equal(error?.field, 'content');
      assert.match(error?.reason ?? '', /line 2, column 1: undefined filter: shout/);
    });

    it('refuses an unclosed tag and an unknown tag, naming the part each is in', () => {
      assert.deepEqual(
        checkTemplate(email('{% if a %}x', 'Hi {% frobnicate %}')).map((error) => error.field),
        ['subject', 'content'],
      );
    });

    it('refuses a text part that does not parse, naming text_content', () => {
      assert.equal(checkTemplate(email('<p>ok</p>', 'Hi', '{{ x')).at(0)?.field, 'text_content');
    });

    it('accepts an ordinary template', () => {
      assert.deepEqual(
        checkTemplate(
          email(
            '{% for i in items %}{{ i.name | upcase }}{% endfor %}{{ created | date: "%Y" }}{% capture x %}{{ a }}{% endcapture %}{{ x }}',
          ),
        ),
        [],
      );
    });
  });

  describe('escaping by type', () => {
    const hostile = '<script>alert("x")</script> & \'quotes\'';

    it('escapes every output in email and in-app HTML, and leaves the template’s own markup alone', () => {
      for (const type of ['email', 'in_app'] as const) {
        const out = rendered(
          renderTemplate(
            { type, subject: 'To {{ v }}', content: '<p>{{ v }}</p>', text_content: null },
            { v: hostile },
          ),
        );
        assert.equal(
          out.html,
          '<p>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#39;quotes&#39;</p>',
        );
        // The subject is text, not HTML: escaping it would show &amp; in the inbox.
        assert.equal(out.subject, `To ${hostile}`);
        assert.equal(out.text, hostile);
      }
    });

    it('outputs trusted HTML with | raw', () => {
      assert.equal(rendered(renderTemplate(email('{{ v | raw }}'), { v: '<b>x</b>' })).html, '<b>x</b>');
    });

    it('does not escape SMS and push text, or an email text part', () => {
      assert.equal(rendered(renderTemplate(sms('{{ v }}'), { v: hostile })).text, hostile);
      const push = rendered(
        renderTemplate(
          { type: 'push', subject: '{{ v }}', content: '{{ v }}', text_content: null },
          { v: hostile },
        ),
      );
      assert.equal(push.text, hostile);
      assert.equal(push.subject, hostile);
      assert.equal(push.html, null);
      assert.equal(
        rendered(renderTemplate(email('<p>x</p>', 'S', 'T {{ v }}'), { v: hostile })).text,
        `T ${hostile}`,
      );
    });

    it('inserts webhook outputs as JSON values, so a value cannot break out of the document', () => {
      const out = rendered(
        renderTemplate(webhook('{"name": {{ name }}, "count": {{ n }}, "user": {{ user }}}'), {
          name: 'Ada", "admin": true, "x": "',
          n: 3,
          user: { id: 'u1', tags: ['a'] },
        }),
      );
      assert.deepEqual(JSON.parse(out.text), {
        name: 'Ada", "admin": true, "x": "',
        count: 3,
        user: { id: 'u1', tags: ['a'] },
      });
      assert.equal(out.html, null);
      assert.equal(out.subject, null);
    });

    it('refuses a webhook body that renders to something other than JSON, saying how to write it', () => {
      const result = failure(renderTemplate(webhook('{"text": "Hello {{ name }}"}'), { name: 'Ada' }));
      assert.equal(result.errors[0]?.field, 'content');
      assert.match(result.errors[0]?.reason ?? '', /not JSON.*append/);
      assert.equal(
        JSON.parse(
          rendered(renderTemplate(webhook('{"text": {{ "Hello " | append: name }}}'), { name: 'Ada' })).text,
        ).text,
        'Hello Ada',
      );
    });

    it('makes a subject one line, so a variable cannot add mail headers', () => {
      const out = rendered(
        renderTemplate(email('x', 'Hi {{ n }}'), { n: 'Ada\r\nBcc: everyone@example.com\n' }),
      );
      assert.equal(out.subject, 'Hi Ada Bcc: everyone@example.com');
    });
  });

  describe('sandbox', () => {
    const refusedAtSave: [string, string, RegExp][] = [
      ['include of a file', "{% include '/etc/passwd' %}", /include.*cannot include files/],
      ['render of a file', "{% render 'secrets' %}", /render.*cannot include files/],
      ['layout', "{% layout 'base' %}", /layout.*cannot include files/],
      ['constructor chain', '{{ constructor.constructor }}', /constructor, which is JavaScript machinery/],
      ['__proto__', '{{ user.__proto__ }}', /__proto__/],
      ['prototype by brackets', '{{ user["prototype"] }}', /prototype/],
      ['a loop over a huge range', '{% for i in (1..100000000) %}x{% endfor %}', /memory/],
      [
        'nested loops that never end in time',
        '{% for i in (1..3000) %}{% for j in (1..3000) %}{% endfor %}{% endfor %}',
        /longer than the 100 ms/,
      ],
      [
        'an output bomb',
        `{% for i in (1..200000) %}${'x'.repeat(50)}{% endfor %}`,
        /more than 100000 characters|longer than/,
      ],
      [
        'a doubling capture',
        `{% capture x %}xxxxxxxxxx{% endcapture %}${'{% capture x %}{{ x }}{{ x }}{% endcapture %}'.repeat(40)}{{ x }}`,
        /memory/,
      ],
      [
        'a doubling append',
        `{% assign x = "xxxxxxxxxx" %}${'{% assign x = x | append: x %}'.repeat(40)}{{ x }}`,
        /memory/,
      ],
      [
        'deep nesting',
        `${'{% if a %}'.repeat(5000)}x${'{% endif %}'.repeat(5000)}`,
        /nests blocks 5000 deep/,
      ],
      ['a huge strftime padding', '{{ "now" | date: "%999999999Y" }}', /memory/],
    ];
    for (const [what, content, reason] of refusedAtSave) {
      it(`refuses ${what} when the template is saved, within two seconds`, () => {
        const errors = within(2000, () => checkTemplate(email(content), TIGHT));
        assert.equal(errors[0]?.field, 'content', JSON.stringify(errors));
        assert.match(errors[0]?.reason ?? '', reason);
      });
    }

    it('bounds a loop over the variables when it renders, not when it is saved', () => {
      const template = email('{% for i in items %}{{ big }}{% endfor %}');
      assert.deepEqual(checkTemplate(template, TIGHT), []);
      const result = within(2000, () =>
        renderTemplate(
          template,
          { big: 'y'.repeat(1000), items: Array.from({ length: 1000 }, (_, i) => i) },
          {
            limits: TIGHT,
          },
        ),
      );
      assert.equal(failure(result).errors[0]?.field, 'content');
      assert.match(failure(result).errors[0]?.reason ?? '', /more than 100000 characters/);
    });

    it('bounds the time of a render whose variables make it slow', () => {
      const template = sms(
        '{% for a in xs %}{% for b in xs %}{% for c in xs %}.{% endfor %}{% endfor %}{% endfor %}',
      );
      const result = within(2000, () =>
        renderTemplate(template, { xs: Array.from({ length: 300 }, (_, i) => i) }, { limits: TIGHT }),
      );
      assert.match(failure(result).errors[0]?.reason ?? '', /longer than the 100 ms|more than/);
    });

    it('reads no property a value does not own (toString, constructor through a computed key)', () => {
      assert.deepEqual(failure(renderTemplate(sms('{{ user.toString }}'), { user: {} })).missing, [
        'user.toString',
      ]);
      assert.deepEqual(
        failure(renderTemplate(sms('{{ user[key] }}'), { user: {}, key: 'constructor' })).missing,
        ['user.constructor'],
      );
    });

    it('keeps the default limits: 250 ms, 10 M memory units, 1 M characters', () => {
      assert.deepEqual(DEFAULT_LIMITS, { timeMs: 250, memory: 10_000_000, outputChars: 1_000_000 });
    });

    it('finds a token’s line and column as LiquidJS does, from an index instead of a scan', () => {
      const source = 'ab\n\ncd {{ x }}\n  {{ y | nope }}';
      const naive = (offset: number) => {
        const before = source.slice(0, offset).split('\n');
        return [before.length, (before.at(-1)?.length ?? 0) + 1];
      };
      for (const offset of [0, 1, 2, 3, 4, 7, source.length - 1]) {
        const token = Object.assign(Object.create(Token.prototype) as Token, {
          input: source,
          begin: offset,
        });
        assert.deepEqual(token.getPosition(), naive(offset), `offset ${offset}`);
      }
    });

    it('finds positions near the end of a megabyte ten thousand times over in well under two seconds', () => {
      // LiquidJS's own scan counts from the start each time: ten billion steps here.
      const input = `${'x'.repeat(99)}\n`.repeat(10_000);
      const token = Object.assign(Object.create(Token.prototype) as Token, {
        input,
        begin: input.length - 5,
      });
      const position = within(2000, () => {
        let last: number[] = [];
        for (let i = 0; i < 10_000; i++) last = token.getPosition();
        return last;
      });
      assert.deepEqual(position, [10_000, 96]);
    });

    it('saves and reads the variables of a 100 KB template of 14,000 outputs', () => {
      const content = '{{ a }}'.repeat(14_000);
      // Rendering it takes ~100 ms on a quiet machine; the time limit is not what this is about.
      assert.deepEqual(checkTemplate(email(content), { ...DEFAULT_LIMITS, timeMs: 10_000 }), []);
      assert.deepEqual(templateVariables(email(content)), ['a']);
    });

    it('counts nesting depth in one pass, through liquid tags, and not inside raw', () => {
      assert.equal(nestingDepth('{% if a %}{% for i in x %}{% endfor %}{% endif %}'), 2);
      assert.equal(nestingDepth('{% liquid\n if a\n  if b\n   echo c\n  endif\n endif %}'), 2);
      assert.equal(nestingDepth('{% raw %}{% if a %}{% if b %}{% endraw %}'), 0);
      assert.equal(
        nestingDepth(`${'{% if a %}'.repeat(NESTING_MAX)}${'{% endif %}'.repeat(NESTING_MAX)}`),
        NESTING_MAX,
      );
      assert.deepEqual(
        checkTemplate(email(`${'{% if a %}'.repeat(NESTING_MAX)}x${'{% endif %}'.repeat(NESTING_MAX)}`)),
        [],
      );
    });
  });

  describe('text parts', () => {
    it('derives an email’s text from its HTML when it has no text part', () => {
      const out = rendered(
        renderTemplate(
          email(
            '<html><head><style>p{color:red}</style><title>T</title></head><body><h1>Hi {{ name }}</h1><p>Your  order\n   shipped.</p><ul><li>Tea</li><li>Cake</li></ul><p><a href="https://x.test/o/1">Track it</a></p></body></html>',
          ),
          { name: 'Ada & Bob' },
        ),
      );
      assert.equal(
        out.text,
        'Hi Ada & Bob\n\nYour order shipped.\n\n- Tea\n- Cake\n\nTrack it (https://x.test/o/1)',
      );
    });

    it('lists the variables a template reads, optional ones included, in order of first appearance', () => {
      assert.deepEqual(
        templateVariables(
          email(
            '{{ user.name }}{% for i in items %}{{ i.x }}{% endfor %}{% if vip %}{% endif %}',
            'Hi {{ user.first }}',
          ),
        ),
        ['user.first', 'user.name', 'items', 'vip'],
      );
    });
  });
});

describe('HTML to text', () => {
  const cases: [string, string, string][] = [
    ['line breaks and paragraphs', '<p>a<br>b</p><p>c</p>', 'a\nb\n\nc'],
    [
      'entities',
      '&lt;tag&gt; &amp; &quot;q&quot; &#39;s&#39; &#x263A; &nbsp;x &copy; &bogus;',
      '<tag> & "q" \'s\' ☺ x © &bogus;',
    ],
    ['invalid character references', '&#0;&#x110000;&#xD800;', '\uFFFD\uFFFD\uFFFD'],
    ['a link whose text is its address', '<a href="https://x.test">https://x.test</a>', 'https://x.test'],
    ['a mailto link', '<a href="mailto:a@x.test">a@x.test</a>', 'a@x.test'],
    ['an anchor and a javascript link', '<a href="#top">Top</a> <a href="javascript:x()">Go</a>', 'Top Go'],
    ['nested lists', '<ul><li>a<ul><li>b</li></ul></li></ul>', '- a\n  - b'],
    ['images by their alt text', '<img src="x.png" alt="Logo &amp;lt;"> Hi', 'Logo &lt; Hi'],
    [
      'a link with a character reference in its address',
      '<a href="https://x.test/?a=1&amp;b=2">Go</a>',
      'Go (https://x.test/?a=1&b=2)',
    ],
    ['table cells', '<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>', 'a b\nc'],
    ['comments and scripts', '<!-- no -->a<script>var x = "<p>";</script>b', 'ab'],
    ['a < that starts no tag', 'a < b and c<3', 'a < b and c<3'],
    ['an unclosed style', 'a<style>p{}', 'a'],
    ['a horizontal rule', 'a<hr>b', 'a\n---\nb'],
  ];
  for (const [what, html, text] of cases) {
    it(`reads ${what}`, () => {
      assert.equal(htmlToText(html), text);
    });
  }

  it('stays linear on a megabyte of unclosed tags', () => {
    within(2000, () => htmlToText('<style'.repeat(100_000)));
    within(2000, () => htmlToText('<a href="'.repeat(100_000)));
    within(2000, () => htmlToText('<p '.repeat(300_000)));
  });
});
