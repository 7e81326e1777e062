import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Template } from '@switchyard/contracts';
import { HttpProblem } from '@switchyard/kernel';
import {
  canonicalLanguage,
  checkBodies,
  checkDraft,
  decodeListCursor,
  decodeVersionCursor,
  encodeListCursor,
  encodeVersionCursor,
  languageFallbacks,
  languageOf,
  planUpdate,
  refOf,
  type TemplateDraft,
  typeConflict,
} from '../src/domain.ts';

const draft: TemplateDraft = {
  name: 'Welcome',
  type: 'email',
  subject: 'Hi {{ user.name }}',
  content: '<p>Hello {{ user.name }}</p>',
  text_content: null,
};

function version(overrides: Partial<Template> = {}): Template {
  return {
    id: '01a204b0-8f10-727d-8a49-f7a461d9a4c6',
    code: 'welcome',
    language: 'en',
    version: 3,
    is_active: true,
    variables: ['user.name'],
    created_by: null,
    created_at: '2026-11-22T10:00:00.000Z',
    updated_at: '2026-11-22T10:00:00.000Z',
    ...draft,
    ...overrides,
  };
}

function fieldsOf(checked: { ok: boolean; errors?: { field: string }[] }): string[] {
  return checked.ok ? [] : (checked.errors ?? []).map((error) => error.field);
}

describe('templates domain', () => {
  describe('language fallback', () => {
    const cases: [string, string[]][] = [
      ['fr-CA', ['fr-CA', 'fr', 'en']],
      ['fr', ['fr', 'en']],
      ['en', ['en']],
      ['en-GB', ['en-GB', 'en']],
      ['zh-Hant-TW', ['zh-Hant-TW', 'zh-Hant', 'zh', 'en']],
      ['sr-Latn', ['sr-Latn', 'sr', 'en']],
      // A singleton (-u) goes with the subtag after it, as RFC 4647 lookup does.
      ['de-DE-u-co-phonebk', ['de-DE-u-co-phonebk', 'de-DE-u-co', 'de-DE', 'de', 'en']],
    ];
    for (const [requested, chain] of cases) {
      it(`given a request in ${requested}, then ${chain.join(' → ')} are tried in that order`, () => {
        assert.deepEqual(languageFallbacks(requested), chain);
      });
    }

    it('given any language, then the chain ends at the default en and never at another language', () => {
      for (const [requested] of cases) assert.equal(languageFallbacks(requested).at(-1), 'en');
    });
  });

  describe('language tags', () => {
    it('given tags in any case, then they are canonical (fr-ca → fr-CA, ZH-hant-tw → zh-Hant-TW)', () => {
      assert.equal(canonicalLanguage('fr-ca'), 'fr-CA');
      assert.equal(canonicalLanguage('ZH-hant-tw'), 'zh-Hant-TW');
      assert.equal(canonicalLanguage('EN'), 'en');
    });

    it('given underscores, words, unknown languages or overlong tags, then they are refused', () => {
      for (const tag of ['fr_CA', 'french', 'zz', '', 'en-', `en-${'a'.repeat(40)}`, '../etc']) {
        assert.equal(canonicalLanguage(tag), undefined, tag);
      }
    });

    it('given no language, then the default en; given a bad one, then a 400 naming the field', () => {
      assert.equal(languageOf(undefined), 'en');
      assert.equal(languageOf('pt-br'), 'pt-BR');
      assert.throws(
        () => languageOf('pt_BR', 'language', 'body'),
        (error: unknown) =>
          error instanceof HttpProblem &&
          error.status === 400 &&
          error.problem.errors?.[0]?.field === 'language' &&
          error.problem.errors[0].in === 'body',
      );
    });
  });

  describe('the rules of each type', () => {
    it('given an email without a subject, then subject is required', () => {
      assert.deepEqual(fieldsOf(checkDraft({ ...draft, subject: undefined })), ['subject']);
      assert.deepEqual(fieldsOf(checkDraft({ ...draft, subject: '   ' })), ['subject']);
    });

    it('given an sms or a webhook with a subject, then subject is refused; without one, they pass', () => {
      for (const type of ['sms', 'webhook'] as const) {
        assert.deepEqual(fieldsOf(checkDraft({ ...draft, type, content: '{}', subject: 'x' })), ['subject']);
        assert.ok(checkDraft({ ...draft, type, content: '{}', subject: null }).ok);
      }
    });

    it('given a push or in-app message, then a title is optional but not blank', () => {
      for (const type of ['push', 'in_app'] as const) {
        assert.ok(checkDraft({ ...draft, type, subject: undefined }).ok);
        assert.ok(checkDraft({ ...draft, type, subject: 'Title' }).ok);
        assert.deepEqual(fieldsOf(checkDraft({ ...draft, type, subject: ' ' })), ['subject']);
      }
    });

    it('given a text part on anything but an email, then text_content is refused', () => {
      for (const type of ['push', 'sms', 'in_app', 'webhook'] as const) {
        const checked = checkDraft({ ...draft, type, subject: null, text_content: 'x' });
        assert.ok(fieldsOf(checked).includes('text_content'), type);
      }
      assert.ok(checkDraft({ ...draft, text_content: 'Hello {{ user.name }}' }).ok);
    });

    it('given a blank name, blank content and a blank text part, then each is named', () => {
      assert.deepEqual(fieldsOf(checkDraft({ ...draft, name: ' ', content: ' \n', text_content: ' ' })), [
        'name',
        'content',
        'text_content',
      ]);
    });

    it('given a name with spaces around it, then it is trimmed; bodies are kept as written', () => {
      const checked = checkDraft({ ...draft, name: '  Welcome  ', content: '  <p>x</p>\n' });
      assert.ok(checked.ok);
      assert.equal(checked.value.name, 'Welcome');
      assert.equal(checked.value.content, '  <p>x</p>\n');
    });

    it('given bodies alone (a draft preview), then no name is needed', () => {
      assert.ok(checkBodies({ type: 'sms', content: 'Code {{ code }}' }).ok);
    });
  });

  describe('versioning', () => {
    it('given no version yet, when a draft is written, then it is version 1', () => {
      assert.deepEqual(planUpdate(null, draft, true), { kind: 'new-version', version: 1, active: true });
      assert.deepEqual(planUpdate(null, draft, false), { kind: 'new-version', version: 1, active: false });
    });

    it('given version 3, when a different draft is written, then it is version 4, live unless a draft', () => {
      const latest = version();
      const changed = { ...draft, content: '<p>Hi</p>' };
      assert.deepEqual(planUpdate(latest, changed, true), { kind: 'new-version', version: 4, active: true });
      assert.deepEqual(planUpdate(latest, changed, false), {
        kind: 'new-version',
        version: 4,
        active: false,
      });
    });

    it('given a live version 3, when the same draft is written again, then nothing is written', () => {
      const latest = version();
      assert.deepEqual(planUpdate(latest, draft, true), { kind: 'unchanged', latest, activate: false });
    });

    it('given a draft version 3, when the same draft is written with activate, then version 3 goes live', () => {
      const latest = version({ is_active: false });
      assert.deepEqual(planUpdate(latest, draft, true), { kind: 'unchanged', latest, activate: true });
      assert.deepEqual(planUpdate(latest, draft, false), { kind: 'unchanged', latest, activate: false });
    });

    it('given any one field changed (name, subject, text part), then it is a new version', () => {
      const latest = version();
      for (const change of [{ name: 'Hello' }, { subject: 'Hey' }, { text_content: 'Hi' }]) {
        assert.equal(planUpdate(latest, { ...draft, ...change }, true).kind, 'new-version');
      }
    });

    it('given a code that is email in other languages, when sms is asked for, then 409 naming type', () => {
      assert.equal(typeConflict('welcome', undefined, 'sms'), undefined);
      assert.equal(typeConflict('welcome', 'email', 'email'), undefined);
      const conflict = typeConflict('welcome', 'email', 'sms');
      assert.equal(conflict?.status, 409);
      assert.equal(conflict?.problem.errors?.[0]?.field, 'type');
    });

    it('given a version, then its event reference carries no bodies', () => {
      const ref = refOf(version());
      assert.equal('content' in ref, false);
      assert.equal('subject' in ref, false);
      assert.equal(ref.version, 3);
    });
  });

  describe('cursors', () => {
    it('given a listing cursor, then it reads back as written', () => {
      const cursor = { code: 'billing.invoice-paid', language: 'pt-BR' };
      assert.deepEqual(decodeListCursor(encodeListCursor(cursor)), cursor);
      assert.deepEqual(decodeVersionCursor(encodeVersionCursor({ version: 7 })), { version: 7 });
    });

    it('given cursors this API did not write, then 400 naming cursor', () => {
      const forged = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const bad = [
        'not-a-cursor',
        forged({ code: 'Welcome!', language: 'en' }),
        forged({ code: 'welcome', language: 'fr_CA' }),
        forged([1]),
        forged(null),
      ];
      for (const text of bad) {
        assert.throws(
          () => decodeListCursor(text),
          (error: unknown) => error instanceof HttpProblem && error.problem.errors?.[0]?.field === 'cursor',
          text,
        );
      }
      for (const text of [forged({ version: 0 }), forged({ version: 1.5 }), forged({ version: '2' })]) {
        assert.throws(() => decodeVersionCursor(text), HttpProblem, text);
      }
    });
  });
});
