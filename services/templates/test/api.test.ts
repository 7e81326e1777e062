import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CloudEvent } from '@switchyard/bus';
import { cacheKeys } from '@switchyard/cache';
import type {
  Template,
  TemplateCreatedData,
  TemplateSummary,
  TemplateUpdatedData,
  TemplateVersionSummary,
} from '@switchyard/contracts';
import { type FieldError, type ProblemDetails, routeTable } from '@switchyard/kernel';
import { type Caller, conformsToCatalog, startTemplates, type TemplatesHarness } from './helpers.ts';

const BASE = '/api/v1/templates';

function errorsOf(body: unknown): FieldError[] {
  return (body as ProblemDetails).errors ?? [];
}

function fieldsOf(body: unknown): string[] {
  return errorsOf(body).map((error) => error.field);
}

const welcome = {
  code: 'welcome',
  name: 'Welcome',
  type: 'email',
  subject: 'Welcome, {{ user.name }}',
  content: '<h1>Hello {{ user.name }}</h1><p>Your plan: {{ plan }}</p>',
};

describe('templates API', () => {
  let h: TemplatesHarness;
  let admin: Caller;
  let operator: Caller;
  let member: Caller;

  before(async () => {
    h = await startTemplates('templates_api');
    admin = h.caller('admin');
    operator = h.caller('operator');
    member = h.caller('member');
  });
  after(() => h.close());

  const create = (body: Record<string, unknown>, token = operator.token) => h.call(token, 'POST', BASE, body);
  const put = (code: string, body: Record<string, unknown>, language?: string, token = operator.token) =>
    h.call(token, 'PUT', `${BASE}/${code}${language ? `?language=${language}` : ''}`, body);
  const get = (code: string, language?: string, token = operator.token) =>
    h.call(token, 'GET', `${BASE}/${code}${language ? `?language=${encodeURIComponent(language)}` : ''}`);
  const preview = (code: string, body: Record<string, unknown>, token = operator.token) =>
    h.call(token, 'POST', `${BASE}/${code}/preview`, body);

  /** The last template event written for `code`. */
  async function lastEvent(code: string): Promise<CloudEvent> {
    const last = (await h.events(code)).at(-1);
    assert.ok(last, `no event for ${code}`);
    return last;
  }

  /** Runs `request`, then checks it wrote no template event at all. */
  async function writesNoEvent<T>(request: () => Promise<T>): Promise<T> {
    const before = await h.eventCount();
    const result = await request();
    assert.equal(await h.eventCount(), before, 'a refused or empty write must not emit an event');
    return result;
  }

  it('declares templates:read or templates:write on every route', () => {
    const routes = routeTable(h.app).filter((route) => route.url.startsWith(BASE));
    assert.equal(routes.length, 10);
    for (const route of routes) {
      const expected =
        route.method === 'GET' || route.url.endsWith('/preview') ? 'templates:read' : 'templates:write';
      assert.equal(route.permission, expected, `${route.method} ${route.url}`);
    }
  });

  describe('create', () => {
    it('creates version 1, live, with Location, its variables, its author and a template.created event', async () => {
      const response = await create(welcome);
      assert.equal(response.status, 201, JSON.stringify(response.body));
      const template = response.json<Template>();
      assert.equal(response.headers.location, `${BASE}/welcome/versions/1?language=en`);
      assert.equal(response.headers['content-language'], 'en');
      assert.deepEqual(
        {
          code: template.code,
          language: template.language,
          version: template.version,
          is_active: template.is_active,
          type: template.type,
          text_content: template.text_content,
          created_by: template.created_by,
        },
        {
          code: 'welcome',
          language: 'en',
          version: 1,
          is_active: true,
          type: 'email',
          text_content: null,
          created_by: operator.id,
        },
      );
      assert.deepEqual(template.variables, ['user.name', 'plan']);

      const events = await h.events('welcome');
      assert.deepEqual(
        events.map((event) => event.type),
        ['template.created'],
      );
      const [created] = events;
      assert.ok(created && conformsToCatalog(created));
      assert.equal(created.subject, 'welcome:en');
      assert.equal(created.partitionkey, 'welcome');
      const data = created.data as TemplateCreatedData;
      assert.equal(data.template.id, template.id);
      assert.equal('content' in data.template, false, 'events carry no bodies');
    });

    it('stores the language in canonical form (fr-ca → fr-CA)', async () => {
      const response = await create({ ...welcome, language: 'fr-ca', subject: 'Bienvenue' });
      assert.equal(response.status, 201);
      assert.equal(response.json<Template>().language, 'fr-CA');
      assert.equal(response.headers.location, `${BASE}/welcome/versions/1?language=fr-CA`);
    });

    it('refuses a code that exists in the language with 409 naming code, and writes nothing', async () => {
      const response = await writesNoEvent(() => create({ ...welcome, content: '<p>again</p>' }));
      assert.equal(response.status, 409);
      assert.deepEqual(fieldsOf(response.body), ['code']);
      assert.match((response.body as ProblemDetails).detail ?? '', /PUT/);
    });

    it('refuses another type for a code that has one in its other languages: 409 naming type', async () => {
      const response = await writesNoEvent(() =>
        create({ code: 'welcome', name: 'W', type: 'sms', language: 'de', content: 'Hallo' }),
      );
      assert.equal(response.status, 409);
      assert.deepEqual(fieldsOf(response.body), ['type']);
    });

    const refusals: [string, Record<string, unknown>, string, RegExp][] = [
      ['an upper-case code', { ...welcome, code: 'Welcome' }, 'code', /pattern/],
      ['a code starting with a dash', { ...welcome, code: '-welcome' }, 'code', /pattern/],
      ['a code with a slash', { ...welcome, code: 'a/b' }, 'code', /pattern/],
      ['a code of 101 characters', { ...welcome, code: 'a'.repeat(101) }, 'code', /pattern/],
      ['an unknown type', { ...welcome, type: 'fax' }, 'type', /one of/],
      ['a language with an underscore', { ...welcome, code: 'l1', language: 'fr_CA' }, 'language', /BCP 47/],
      ['a language that is a word', { ...welcome, code: 'l2', language: 'french' }, 'language', /BCP 47/],
      ['an email without a subject', { ...welcome, code: 's1', subject: undefined }, 'subject', /required/],
      ['an email with a null subject', { ...welcome, code: 's2', subject: null }, 'subject', /required/],
      [
        'an sms with a subject',
        { code: 's3', name: 'S', type: 'sms', subject: 'x', content: 'Hi' },
        'subject',
        /no subject/,
      ],
      [
        'a push message with a text part',
        { code: 's4', name: 'P', type: 'push', content: 'Hi', text_content: 'Hi' },
        'text_content',
        /only email/,
      ],
      ['a blank name', { ...welcome, code: 'n1', name: '   ' }, 'name', /blank/],
      ['blank content', { ...welcome, code: 'n2', content: ' \n ' }, 'content', /blank/],
      ['empty content', { ...welcome, code: 'n3', content: '' }, 'content', /fewer than 1/],
      [
        'content over 100,000 characters',
        { ...welcome, code: 'n4', content: 'x'.repeat(100_001) },
        'content',
        /more than 100000/,
      ],
      [
        'a subject over 1,000 characters',
        { ...welcome, code: 'n5', subject: 'x'.repeat(1001) },
        'subject',
        /more than 1000/,
      ],
      ['a missing content', { code: 'n6', name: 'x', type: 'sms' }, 'content', /required/],
      ['an unknown field', { ...welcome, code: 'n7', is_active: false }, 'is_active', /not a known field/],
      ['a version given by hand', { ...welcome, code: 'n8', version: 7 }, 'version', /not a known field/],
      ['content of the wrong type', { ...welcome, code: 'n9', content: 42 }, 'content', /string/],
    ];
    for (const [what, body, field, reason] of refusals) {
      it(`refuses ${what} with 400 naming ${field}, and writes nothing`, async () => {
        const response = await writesNoEvent(() => create(body));
        assert.equal(response.status, 400, JSON.stringify(response.body));
        const error = errorsOf(response.body).find((candidate) => candidate.field === field);
        assert.ok(error, `no error for ${field}: ${JSON.stringify(response.body)}`);
        assert.match(error.reason, reason);
      });
    }

    const unusable: [string, string, RegExp][] = [
      ['an unknown filter', '{{ name | shout }}', /undefined filter: shout/],
      ['an unclosed tag', '{% if a %}x', /not closed/],
      ['an include of /etc/passwd', "{% include '/etc/passwd' %}", /cannot include files/],
      ['a render tag', "{% render 'other' %}", /cannot include files/],
      ['constructor.constructor', '{{ constructor.constructor }}', /JavaScript machinery/],
      ['__proto__', '{{ user.__proto__.polluted }}', /JavaScript machinery/],
      ['a loop over a hundred million', '{% for i in (1..100000000) %}x{% endfor %}', /memory/],
      [
        'loops that run for seconds',
        '{% for i in (1..3000) %}{% for j in (1..3000) %}{% endfor %}{% endfor %}',
        /longer than/,
      ],
      ['deep nesting', `${'{% if a %}'.repeat(200)}x${'{% endif %}'.repeat(200)}`, /nests blocks 200 deep/],
    ];
    for (const [what, content, reason] of unusable) {
      it(`refuses ${what} with 422 naming content, and writes nothing`, async () => {
        const response = await writesNoEvent(() => create({ ...welcome, code: 'hostile', content }));
        assert.equal(response.status, 422, JSON.stringify(response.body));
        assert.equal(
          (response.body as ProblemDetails).type,
          'https://switchyard.dev/problems/invalid-template',
        );
        assert.equal(errorsOf(response.body)[0]?.field, 'content');
        assert.match(errorsOf(response.body)[0]?.reason ?? '', reason);
      });
    }

    it('names the subject when it is the subject that does not parse', async () => {
      const response = await create({ ...welcome, code: 'bad-subject', subject: 'Hi {{ name' });
      assert.equal(response.status, 422);
      assert.deepEqual(fieldsOf(response.body), ['subject']);
    });

    it('refuses members (templates:write) with 403 and anonymous callers with 401', async () => {
      assert.equal((await create({ ...welcome, code: 'm1' }, member.token)).status, 403);
      assert.equal((await h.call(undefined, 'POST', BASE, { ...welcome, code: 'm2' })).status, 401);
      assert.equal((await h.call('nonsense', 'GET', `${BASE}/welcome`)).status, 401);
    });
  });

  describe('language fallback', () => {
    before(async () => {
      for (const [language, greeting] of [
        ['en', 'Hello'],
        ['fr', 'Bonjour'],
      ] as const) {
        const response = await create({
          code: 'greeting',
          name: 'Greeting',
          type: 'sms',
          language,
          content: `${greeting} {{ name }}`,
        });
        assert.equal(response.status, 201);
      }
      assert.equal(
        (await create({ code: 'rechnung', name: 'Rechnung', type: 'sms', language: 'de', content: 'Hallo' }))
          .status,
        201,
      );
    });

    it('serves fr-CA from fr, and says so in Content-Language', async () => {
      const response = await get('greeting', 'fr-CA');
      assert.equal(response.status, 200);
      assert.equal(response.json<Template>().language, 'fr');
      assert.equal(response.headers['content-language'], 'fr');
    });

    it('serves a language it does not have from en', async () => {
      const response = await get('greeting', 'de-AT');
      assert.equal(response.json<Template>().language, 'en');
    });

    it('serves en when no language is asked for', async () => {
      assert.equal((await get('greeting')).json<Template>().language, 'en');
    });

    it('answers 404 naming the languages tried and those the code is live in, never another language', async () => {
      const response = await get('rechnung', 'fr-CA');
      assert.equal(response.status, 404);
      const problem = response.body as ProblemDetails;
      assert.deepEqual(problem.tried_languages, ['fr-CA', 'fr', 'en']);
      assert.deepEqual(problem.available_languages, ['de']);
      assert.match(problem.detail ?? '', /active in de/);
    });

    it('answers 404 for a code that does not exist at all', async () => {
      const response = await get('no-such-template');
      assert.equal(response.status, 404);
      assert.match((response.body as ProblemDetails).detail ?? '', /there is no template no-such-template/);
    });

    it('refuses a malformed code with 400 naming code, and a malformed language with 400 naming language', async () => {
      const code = await get('Not_Valid!');
      assert.equal(code.status, 400);
      assert.deepEqual(fieldsOf(code.body), ['code']);
      const language = await get('greeting', 'fr_CA');
      assert.equal(language.status, 400);
      assert.deepEqual(errorsOf(language.body)[0], {
        field: 'language',
        in: 'query',
        reason: 'must be a BCP 47 language tag such as en, fr-CA or pt-BR',
      });
      assert.equal((await get('greeting', 'x'.repeat(36))).status, 400);
    });

    it('refuses members (templates:read) with 403', async () => {
      assert.equal((await get('greeting', undefined, member.token)).status, 403);
    });
  });

  describe('versions', () => {
    const base = {
      name: 'Invoice',
      type: 'email',
      subject: 'Invoice {{ number }}',
      content: '<p>Invoice {{ number }} v1</p>',
    };
    before(async () => {
      assert.equal((await create({ code: 'invoice', ...base })).status, 201);
    });

    const v = (n: number) => ({ ...base, content: `<p>Invoice {{ number }} v${n}</p>` });
    const live = async () => (await get('invoice')).json<Template>();

    it('writes version 2 and makes it live; version 1 is taken down; template.updated names the one before', async () => {
      const response = await put('invoice', v(2));
      assert.equal(response.status, 201, JSON.stringify(response.body));
      const template = response.json<Template>();
      assert.equal(template.version, 2);
      assert.equal(template.is_active, true);
      assert.equal(response.headers.location, `${BASE}/invoice/versions/2?language=en`);
      assert.equal((await live()).version, 2);
      const one = await h.call(operator.token, 'GET', `${BASE}/invoice/versions/1`);
      assert.equal(one.json<Template>().is_active, false);

      const updated = await lastEvent('invoice');
      assert.ok(conformsToCatalog(updated));
      assert.equal(updated.type, 'template.updated');
      const data = updated.data as TemplateUpdatedData;
      assert.equal(data.template.version, 2);
      assert.equal(data.previous_active_version, 1);
    });

    it('writes nothing when the same version is PUT again: 200 with the live version, no event', async () => {
      const response = await writesNoEvent(() => put('invoice', v(2)));
      assert.equal(response.status, 200);
      assert.equal(response.json<Template>().version, 2);
    });

    it('writes a draft with activate false: the live version stays; the event says the draft is not live', async () => {
      const response = await put('invoice', { ...v(3), activate: false });
      assert.equal(response.status, 201);
      assert.equal(response.json<Template>().is_active, false);
      assert.equal((await live()).version, 2);
      const updated = await lastEvent('invoice');
      const data = updated.data as TemplateUpdatedData;
      assert.equal(data.template.is_active, false);
      assert.equal(data.previous_active_version, 2);
    });

    it('makes the draft live when it is PUT again with activate, without writing it twice', async () => {
      const response = await put('invoice', v(3));
      assert.equal(response.status, 200);
      assert.equal(response.json<Template>().version, 3);
      assert.equal((await live()).version, 3);
      const activated = await lastEvent('invoice');
      assert.equal(activated.type, 'template.activated');
      assert.equal((activated.data as TemplateUpdatedData).previous_active_version, 2);
    });

    it('rolls back to version 1, and the renderer serves it at once', async () => {
      const response = await h.call(operator.token, 'POST', `${BASE}/invoice/versions/1/activate`);
      assert.equal(response.status, 200);
      assert.equal(response.json<Template>().is_active, true);
      assert.equal((await live()).version, 1);
      const rendered = await h.renderer.render({ code: 'invoice', variables: { number: 7 } });
      assert.equal(rendered.version, 1);
      assert.equal(rendered.html, '<p>Invoice 7 v1</p>');
      const activated = await lastEvent('invoice');
      assert.equal((activated.data as TemplateUpdatedData).previous_active_version, 3);
    });

    it('answers activating the live version with 200 and no event', async () => {
      const response = await writesNoEvent(() =>
        h.call(operator.token, 'POST', `${BASE}/invoice/versions/1/activate`),
      );
      assert.equal(response.status, 200);
    });

    it('keeps exactly one live version per code and language', async () => {
      const result = await h.pool.query(
        "SELECT count(*)::int AS count FROM templates.templates WHERE code = 'invoice' AND is_active",
      );
      assert.equal(result.rows[0].count, 1);
    });

    it('refuses to activate a version that does not exist (404) or is not a number (400 naming version)', async () => {
      assert.equal(
        (await h.call(operator.token, 'POST', `${BASE}/invoice/versions/99/activate`)).status,
        404,
      );
      assert.equal(
        (await h.call(operator.token, 'POST', `${BASE}/invoice/versions/1/activate?language=fr`)).status,
        404,
      );
      for (const bad of ['0', 'abc', '-1', '1.5']) {
        const response = await h.call(operator.token, 'POST', `${BASE}/invoice/versions/${bad}/activate`);
        assert.equal(response.status, 400, bad);
        assert.deepEqual(fieldsOf(response.body), ['version'], bad);
      }
      assert.equal((await h.call(member.token, 'POST', `${BASE}/invoice/versions/1/activate`)).status, 403);
    });

    it('lists the versions newest first without their bodies, a page at a time', async () => {
      const all = await h.call(operator.token, 'GET', `${BASE}/invoice/versions`);
      assert.equal(all.status, 200);
      const versions = all.json<TemplateVersionSummary[]>();
      assert.deepEqual(
        versions.map((version) => [version.version, version.is_active]),
        [
          [3, false],
          [2, false],
          [1, true],
        ],
      );
      assert.equal('content' in (versions[0] ?? {}), false);

      const seen: number[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await h.call(
          operator.token,
          'GET',
          `${BASE}/invoice/versions?limit=1${cursor ? `&cursor=${cursor}` : ''}`,
        );
        seen.push(...page.json<TemplateVersionSummary[]>().map((version) => version.version));
        cursor = page.headers['x-next-cursor'] as string | undefined;
        if (cursor) assert.match(String(page.headers.link), /rel="next"/);
        pages += 1;
      } while (cursor && pages < 10);
      assert.deepEqual(seen, [3, 2, 1]);
    });

    it('answers the history of a language the code does not have with 404, and a bad cursor with 400', async () => {
      assert.equal((await h.call(operator.token, 'GET', `${BASE}/invoice/versions?language=fr`)).status, 404);
      const bad = await h.call(operator.token, 'GET', `${BASE}/invoice/versions?cursor=nope`);
      assert.equal(bad.status, 400);
      assert.deepEqual(fieldsOf(bad.body), ['cursor']);
    });

    it('returns one version with its bodies, and 404 for one that does not exist', async () => {
      const two = await h.call(operator.token, 'GET', `${BASE}/invoice/versions/2`);
      assert.equal(two.status, 200);
      assert.equal(two.json<Template>().content, '<p>Invoice {{ number }} v2</p>');
      assert.equal((await h.call(operator.token, 'GET', `${BASE}/invoice/versions/9`)).status, 404);
    });

    it('refuses to change the type of a code with 409 naming type, and writes nothing', async () => {
      const response = await writesNoEvent(() =>
        put('invoice', { name: 'x', type: 'sms', content: 'Invoice {{ number }}' }),
      );
      assert.equal(response.status, 409);
      assert.deepEqual(fieldsOf(response.body), ['type']);
    });

    it('creates a code with PUT when given a type, and asks for the type when not (400 naming type)', async () => {
      const missing = await writesNoEvent(() => put('reminder', { name: 'R', content: 'Hi' }));
      assert.equal(missing.status, 400);
      assert.deepEqual(fieldsOf(missing.body), ['type']);
      const created = await put('reminder', {
        name: 'R',
        type: 'push',
        subject: 'Hey',
        content: 'Hi {{ name }}',
      });
      assert.equal(created.status, 201);
      assert.equal(created.json<Template>().version, 1);
      assert.deepEqual(
        (await h.events('reminder')).map((event) => event.type),
        ['template.created'],
      );
    });

    it("adds a language with PUT, taking the code's type when none is given", async () => {
      const response = await put('reminder', { name: 'R', subject: 'Hé', content: 'Salut {{ name }}' }, 'fr');
      assert.equal(response.status, 201);
      assert.equal(response.json<Template>().type, 'push');
      assert.equal(response.json<Template>().language, 'fr');
    });

    it('records who wrote each version', async () => {
      const response = await put(
        'reminder',
        { name: 'R2', subject: 'Hey', content: 'Hi {{ name }}!' },
        undefined,
        admin.token,
      );
      assert.equal(response.json<Template>().created_by, admin.id);
    });

    it('numbers concurrent writes one after another, with one live version at the end', async () => {
      const responses = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          put('invoice', { ...base, content: `<p>{{ number }} race ${i}</p>` }),
        ),
      );
      assert.deepEqual(
        responses.map((response) => response.status),
        Array(6).fill(201),
      );
      const numbers = responses.map((response) => response.json<Template>().version).sort((a, b) => a - b);
      assert.deepEqual(numbers, [4, 5, 6, 7, 8, 9]);
      const result = await h.pool.query(
        "SELECT version FROM templates.templates WHERE code = 'invoice' AND language = 'en' AND is_active",
      );
      assert.equal(result.rows.length, 1);
    });

    const badPuts: [string, Record<string, unknown>, string][] = [
      ['without a name', { content: 'x', type: 'sms' }, 'name'],
      ['with activate as a string', { ...base, activate: 'yes' }, 'activate'],
      ['with a code in the body', { ...base, code: 'other' }, 'code'],
    ];
    for (const [what, body, field] of badPuts) {
      it(`refuses a PUT ${what} with 400 naming ${field}`, async () => {
        const response = await writesNoEvent(() => put('invoice', body));
        assert.equal(response.status, 400);
        assert.ok(fieldsOf(response.body).includes(field), JSON.stringify(response.body));
      });
    }

    it('refuses a PUT whose template does not compile with 422, and writes nothing', async () => {
      const response = await writesNoEvent(() => put('invoice', { ...base, content: '{{ number | nope }}' }));
      assert.equal(response.status, 422);
      assert.deepEqual(fieldsOf(response.body), ['content']);
    });
  });

  describe('deactivation', () => {
    before(async () => {
      for (const language of ['en', 'fr', 'fr-CA']) {
        const response = await create({
          code: 'digest',
          name: 'Digest',
          type: 'sms',
          language,
          content: `${language} {{ n }}`,
        });
        assert.equal(response.status, 201);
      }
    });

    it('takes fr-CA down: requests in fr-CA fall back to fr, the history stays, template.deactivated is written', async () => {
      const response = await h.call(operator.token, 'DELETE', `${BASE}/digest?language=fr-CA`);
      assert.equal(response.status, 204);
      assert.equal((await get('digest', 'fr-CA')).json<Template>().language, 'fr');
      const history = await h.call(operator.token, 'GET', `${BASE}/digest/versions?language=fr-CA`);
      assert.deepEqual(
        history.json<TemplateVersionSummary[]>().map((version) => version.is_active),
        [false],
      );
      const deactivated = await lastEvent('digest');
      assert.ok(conformsToCatalog(deactivated));
      assert.equal(deactivated.type, 'template.deactivated');
      assert.equal(deactivated.subject, 'digest:fr-CA');
    });

    it('answers taking it down again with 204 and no event', async () => {
      const response = await writesNoEvent(() =>
        h.call(operator.token, 'DELETE', `${BASE}/digest?language=fr-CA`),
      );
      assert.equal(response.status, 204);
    });

    it('refuses to create a code and language that only has deactivated versions (409); activation brings it back', async () => {
      assert.equal(
        (await create({ code: 'digest', name: 'D', type: 'sms', language: 'fr-CA', content: 'x' })).status,
        409,
      );
      const back = await h.call(operator.token, 'POST', `${BASE}/digest/versions/1/activate?language=fr-CA`);
      assert.equal(back.status, 200);
      assert.equal((await get('digest', 'fr-CA')).json<Template>().language, 'fr-CA');
    });

    it('takes every language down when none is named, one event each', async () => {
      const before = (await h.events('digest')).length;
      const response = await h.call(operator.token, 'DELETE', `${BASE}/digest`);
      assert.equal(response.status, 204);
      const events = (await h.events('digest')).slice(before);
      assert.deepEqual(
        events.map((event) => event.subject),
        ['digest:en', 'digest:fr', 'digest:fr-CA'],
      );
      for (const language of ['en', 'fr', 'fr-CA']) assert.equal((await get('digest', language)).status, 404);
    });

    it('answers 404 for a code or a language that does not exist, 400 for a malformed language, 403 for members', async () => {
      assert.equal((await h.call(operator.token, 'DELETE', `${BASE}/nothing-here`)).status, 404);
      assert.equal((await h.call(operator.token, 'DELETE', `${BASE}/digest?language=es`)).status, 404);
      const bad = await h.call(operator.token, 'DELETE', `${BASE}/digest?language=es_ES`);
      assert.equal(bad.status, 400);
      assert.deepEqual(fieldsOf(bad.body), ['language']);
      assert.equal((await h.call(member.token, 'DELETE', `${BASE}/greeting`)).status, 403);
    });
  });

  describe('preview', () => {
    before(async () => {
      assert.equal(
        (
          await create({
            ...welcome,
            code: 'order-shipped',
            content:
              '<p>{{ user.name }}, order {{ order.id }} shipped: {% for i in order.items %}{{ i.title }} {% endfor %}</p>',
          })
        ).status,
        201,
      );
      assert.equal(
        (
          await create({
            ...welcome,
            code: 'order-shipped',
            language: 'fr',
            subject: 'Bonjour {{ user.name }}',
            content: '<p>Commande {{ order.id }}</p>',
          })
        ).status,
        201,
      );
      assert.equal(
        (
          await create({
            code: 'hook',
            name: 'Hook',
            type: 'webhook',
            content: '{"event": "shipped", "order": {{ order }}}',
          })
        ).status,
        201,
      );
    });

    const variables = { user: { name: 'Ada <Lovelace>' }, order: { id: 7, items: [{ title: 'Tea' }] } };

    it('renders the live version with the variables: subject, escaped HTML and text', async () => {
      const response = await preview('order-shipped', { variables });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      const body = response.json<Record<string, unknown>>();
      assert.equal(body.subject, 'Welcome, Ada <Lovelace>');
      assert.equal(body.html, '<p>Ada &lt;Lovelace&gt;, order 7 shipped: Tea </p>');
      assert.equal(body.text, 'Ada <Lovelace>, order 7 shipped: Tea');
      assert.equal(body.version, 1);
      assert.equal(body.language, 'en');
      assert.equal(body.type, 'email');
      assert.equal(typeof body.template_id, 'string');
    });

    it('renders the version that serves the language (fr-CA → fr)', async () => {
      const response = await preview('order-shipped', { language: 'fr-CA', variables });
      assert.equal(response.json<Record<string, unknown>>().subject, 'Bonjour Ada <Lovelace>');
      assert.equal(response.headers['content-language'], 'fr');
    });

    it('answers 422 naming every missing variable as variables.<path>, and lists them', async () => {
      const response = await preview('order-shipped', { variables: { order: { items: [{}] } } });
      assert.equal(response.status, 422);
      const problem = response.body as ProblemDetails;
      assert.equal(problem.type, 'https://switchyard.dev/problems/missing-variables');
      assert.deepEqual(problem.missing_variables, ['user.name', 'order.id', 'order.items.0.title']);
      assert.deepEqual(fieldsOf(problem), [
        'variables.user.name',
        'variables.order.id',
        'variables.order.items.0.title',
      ]);
    });

    it('treats no variables as none given', async () => {
      const response = await preview('order-shipped', {});
      assert.equal(response.status, 422);
      assert.deepEqual((response.body as ProblemDetails).missing_variables, [
        'user.name',
        'order.id',
        'order.items',
      ]);
    });

    it('renders a draft by its version number', async () => {
      assert.equal(
        (
          await put('order-shipped', {
            name: welcome.name,
            subject: welcome.subject,
            content: '<p>Draft {{ order.id }}</p>',
            activate: false,
          })
        ).status,
        201,
      );
      const response = await preview('order-shipped', { version: 2, variables });
      assert.equal(response.json<Record<string, unknown>>().html, '<p>Draft 7</p>');
      assert.equal(
        (await preview('order-shipped', { variables })).json<Record<string, unknown>>().version,
        1,
      );
    });

    it('renders a webhook body as JSON with the values inserted as JSON', async () => {
      const response = await preview('hook', { variables: { order: { id: 7, note: 'say "hi"' } } });
      assert.equal(response.status, 200);
      assert.deepEqual(JSON.parse(response.json<{ text: string }>().text), {
        event: 'shipped',
        order: { id: 7, note: 'say "hi"' },
      });
    });

    it('answers 422 naming content when the variables make the render break a limit', async () => {
      const created = await create({
        code: 'repeater',
        name: 'Repeater',
        type: 'sms',
        content: '{% for i in items %}{{ line }}{% endfor %}',
      });
      assert.equal(created.status, 201);
      const response = await preview('repeater', {
        variables: { line: 'x'.repeat(2000), items: Array.from({ length: 1000 }, (_, i) => i) },
      });
      assert.equal(response.status, 422);
      assert.equal((response.body as ProblemDetails).type, 'https://switchyard.dev/problems/render-failed');
      assert.deepEqual(fieldsOf(response.body), ['content']);
      assert.match(errorsOf(response.body)[0]?.reason ?? '', /more than 1000000 characters/);
    });

    const badPreviews: [string, Record<string, unknown>, number, string | undefined][] = [
      ['variables as a list', { variables: [1, 2] }, 400, 'variables'],
      ['variables as a string', { variables: 'user' }, 400, 'variables'],
      ['a version of 0', { version: 0 }, 400, 'version'],
      ['a malformed language', { language: 'en_US' }, 400, 'language'],
      ['an unknown field', { vars: {} }, 400, 'vars'],
      ['a version that does not exist', { version: 42 }, 404, undefined],
    ];
    for (const [what, body, status, field] of badPreviews) {
      it(`answers a preview with ${what} with ${status}${field ? ` naming ${field}` : ''}`, async () => {
        const response = await preview('order-shipped', body);
        assert.equal(response.status, status, JSON.stringify(response.body));
        if (field) assert.ok(fieldsOf(response.body).includes(field), JSON.stringify(response.body));
      });
    }

    for (const [what, payload] of [
      ['__proto__', '{"variables": {"__proto__": {"polluted": true}}}'],
      ['constructor.prototype', '{"variables": {"constructor": {"prototype": {"polluted": true}}}}'],
    ] as const) {
      it(`refuses variables carrying ${what} with 400 before anything renders`, async () => {
        const response = await h.app.inject({
          method: 'POST',
          url: `${BASE}/order-shipped/preview`,
          headers: { authorization: `Bearer ${operator.token}`, 'content-type': 'application/json' },
          payload,
        });
        assert.equal(response.statusCode, 400, response.body);
        assert.equal(({} as Record<string, unknown>).polluted, undefined);
      });
    }

    it('answers a preview of an unknown code with 404, and refuses members with 403', async () => {
      assert.equal((await preview('unknown-code', {})).status, 404);
      assert.equal((await preview('order-shipped', { variables }, member.token)).status, 403);
    });

    it('previews unsaved source: rendered, with its variables; nothing is stored', async () => {
      const before = await h.eventCount();
      const response = await h.call(operator.token, 'POST', `${BASE}/preview`, {
        type: 'in_app',
        subject: 'New comment',
        content: '<p>{{ author }} wrote: {{ body }}</p>',
        variables: { author: 'Ada', body: '<i>hi</i>' },
      });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      assert.deepEqual(response.body, {
        type: 'in_app',
        subject: 'New comment',
        html: '<p>Ada wrote: &lt;i&gt;hi&lt;/i&gt;</p>',
        text: 'Ada wrote: <i>hi</i>',
        variables: ['author', 'body'],
      });
      assert.equal(await h.eventCount(), before);
    });

    it('answers unsaved source that does not compile with 422, missing variables with 422, bad fields with 400', async () => {
      const draft = (body: Record<string, unknown>) =>
        h.call(operator.token, 'POST', `${BASE}/preview`, body);
      const invalid = await draft({ type: 'sms', content: '{% include "x" %}' });
      assert.equal(invalid.status, 422);
      assert.deepEqual(fieldsOf(invalid.body), ['content']);
      const missing = await draft({ type: 'sms', content: 'Code {{ code }}' });
      assert.equal(missing.status, 422);
      assert.deepEqual(fieldsOf(missing.body), ['variables.code']);
      const subject = await draft({ type: 'sms', subject: 'x', content: 'y' });
      assert.equal(subject.status, 400);
      assert.deepEqual(fieldsOf(subject.body), ['subject']);
      assert.equal((await draft({ type: 'sms' })).status, 400);
    });
  });

  describe('list', () => {
    it('lists each code in each language once, in code and language order, with latest and live versions', async () => {
      const response = await h.call(operator.token, 'GET', `${BASE}?limit=200`);
      assert.equal(response.status, 200);
      const page = response.json<TemplateSummary[]>();
      const keys = page.map((item) => `${item.code}:${item.language}`);
      assert.equal(new Set(keys).size, keys.length);
      const invoice = page.find((item) => item.code === 'invoice');
      assert.equal(invoice?.latest_version, 9);
      assert.equal(typeof invoice?.active_version, 'number');
      const digest = page.filter((item) => item.code === 'digest');
      assert.deepEqual(
        digest.map((item) => [item.language, item.active_version]),
        [
          ['en', null],
          ['fr', null],
          ['fr-CA', null],
        ],
      );
    });

    it('filters by type, code, language and whether a version is live', async () => {
      const byType = (await h.call(operator.token, 'GET', `${BASE}?type=sms&limit=200`)).json<
        TemplateSummary[]
      >();
      assert.ok(byType.length > 0 && byType.every((item) => item.type === 'sms'));
      const byCode = (await h.call(operator.token, 'GET', `${BASE}?code=greeting`)).json<TemplateSummary[]>();
      assert.deepEqual(
        byCode.map((item) => item.language),
        ['en', 'fr'],
      );
      const byLanguage = (await h.call(operator.token, 'GET', `${BASE}?language=FR&limit=200`)).json<
        TemplateSummary[]
      >();
      assert.ok(byLanguage.length > 0 && byLanguage.every((item) => item.language === 'fr'));
      const down = (await h.call(operator.token, 'GET', `${BASE}?active=false&limit=200`)).json<
        TemplateSummary[]
      >();
      assert.ok(down.length >= 3 && down.every((item) => item.active_version === null));
      const up = (await h.call(operator.token, 'GET', `${BASE}?active=true&limit=200`)).json<
        TemplateSummary[]
      >();
      assert.ok(up.length > 0 && up.every((item) => item.active_version !== null));
    });

    it('pages with X-Next-Cursor until every entry has been seen once', async () => {
      const everything = (await h.call(operator.token, 'GET', `${BASE}?limit=200`)).json<TemplateSummary[]>();
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await h.call(
          operator.token,
          'GET',
          `${BASE}?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        );
        seen.push(...page.json<TemplateSummary[]>().map((item) => `${item.code}:${item.language}`));
        cursor = page.headers['x-next-cursor'] as string | undefined;
        pages += 1;
      } while (cursor && pages < 50);
      assert.deepEqual(
        seen,
        everything.map((item) => `${item.code}:${item.language}`),
      );
    });

    const bad: [string, string][] = [
      ['type', 'type=fax'],
      ['code', 'code=Not%20A%20Code'],
      ['language', 'language=fr_FR'],
      ['active', 'active=maybe'],
      ['limit', 'limit=0'],
      ['limit', 'limit=201'],
      ['cursor', 'cursor=garbage'],
      ['sort', 'sort=name'],
    ];
    for (const [field, query] of bad) {
      it(`refuses ?${query} with 400 naming ${field}`, async () => {
        const response = await h.call(operator.token, 'GET', `${BASE}?${query}`);
        assert.equal(response.status, 400);
        assert.deepEqual(fieldsOf(response.body), [field]);
      });
    }

    it('refuses members with 403', async () => {
      assert.equal((await h.call(member.token, 'GET', BASE)).status, 403);
    });
  });

  describe('cache', () => {
    it('reads the live version through template:{code}:{language}, and a write drops it at once', async () => {
      assert.equal((await create({ code: 'cached', name: 'C', type: 'sms', content: 'one' })).status, 201);
      assert.equal((await get('cached')).json<Template>().content, 'one');
      const entry = await h.cache.get<{ template: Template | null }>(cacheKeys.template('cached', 'en'));
      assert.equal(entry?.template?.content, 'one');
      assert.equal((await put('cached', { name: 'C', content: 'two' })).status, 201);
      assert.equal(await h.cache.get(cacheKeys.template('cached', 'en')), undefined);
      assert.equal((await get('cached')).json<Template>().content, 'two');
    });

    it('caches each language of the chain as itself (absence included), so a new fr-CA takes over from fr at once', async () => {
      assert.equal(
        (await create({ code: 'chain', name: 'C', type: 'sms', language: 'fr', content: 'fr' })).status,
        201,
      );
      assert.equal((await get('chain', 'fr-CA')).json<Template>().content, 'fr');
      assert.deepEqual(await h.cache.get(cacheKeys.template('chain', 'fr-CA')), { template: null });
      assert.equal(
        (await h.cache.get<{ template: Template }>(cacheKeys.template('chain', 'fr')))?.template.content,
        'fr',
      );
      assert.equal(
        (await create({ code: 'chain', name: 'C', type: 'sms', language: 'fr-CA', content: 'fr-CA' })).status,
        201,
      );
      assert.equal((await get('chain', 'fr-CA')).json<Template>().content, 'fr-CA');
      // fr itself is untouched, and still served from its key.
      assert.equal((await get('chain', 'fr')).json<Template>().content, 'fr');
    });

    it('drops the key when a language is taken down, so requests fall back at once', async () => {
      assert.equal((await get('chain', 'fr-CA')).json<Template>().content, 'fr-CA');
      assert.equal((await h.call(operator.token, 'DELETE', `${BASE}/chain?language=fr-CA`)).status, 204);
      assert.equal((await get('chain', 'fr-CA')).json<Template>().content, 'fr');
    });
  });

  describe('renderer (the notification pipeline’s client)', () => {
    it('renders in the recipient’s language with fallback, naming the version and language used', async () => {
      const rendered = await h.renderer.render({
        code: 'greeting',
        language: 'fr-BE',
        variables: { name: 'Ada' },
        channel: 'sms',
      });
      assert.deepEqual(
        { ...rendered, templateId: typeof rendered.templateId },
        {
          templateId: 'string',
          code: 'greeting',
          language: 'fr',
          version: 1,
          type: 'sms',
          subject: null,
          html: null,
          text: 'Bonjour Ada',
        },
      );
    });

    it('throws 422 naming every missing variable, 422 naming channel for another type, 404 for no template', async () => {
      await assert.rejects(h.renderer.render({ code: 'order-shipped', variables: {} }), (error: unknown) => {
        const problem = (error as { problem?: ProblemDetails }).problem;
        return (
          problem?.status === 422 &&
          JSON.stringify(problem.missing_variables) ===
            JSON.stringify(['user.name', 'order.id', 'order.items'])
        );
      });
      await assert.rejects(
        h.renderer.render({ code: 'greeting', variables: { name: 'x' }, channel: 'email' }),
        (error: unknown) => {
          const problem = (error as { problem?: ProblemDetails }).problem;
          return problem?.status === 422 && problem.errors?.[0]?.field === 'channel';
        },
      );
      for (const code of ['no-such-code', 'Bad Code!']) {
        await assert.rejects(
          h.renderer.render({ code, variables: {} }),
          (error: unknown) => (error as { status?: number }).status === 404,
        );
      }
      await assert.rejects(
        h.renderer.render({ code: 'greeting', language: 'fr_FR', variables: {} }),
        (error: unknown) => (error as { status?: number }).status === 400,
      );
    });
  });
});
