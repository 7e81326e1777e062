import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { appendToOutbox, createEvent } from '@switchyard/bus';
import { type Cache, cacheKeys, createMemoryCache } from '@switchyard/cache';
import { TEMPLATE_EVENTS_TOPIC, type Template, type TemplateUpdatedData } from '@switchyard/contracts';
import { systemClock, uuidV7 } from '@switchyard/kernel';
import { silentLogger } from '@switchyard/testing';
import { createTemplateCache } from '../src/cache.ts';
import { TEMPLATES_CACHE_GROUP } from '../src/consumers.ts';
import { refOf } from '../src/domain.ts';
import { SOURCE } from '../src/events.ts';
import { templatesService } from '../src/index.ts';
import { type Caller, startTemplates, type TemplatesHarness } from './helpers.ts';

describe('templates-cache subscription', () => {
  let h: TemplatesHarness;
  let operator: Caller;
  before(async () => {
    h = await startTemplates('templates_cache');
    operator = h.caller('operator');
    for (const subscription of templatesService.subscriptions?.(h.deps) ?? []) {
      h.bus.subscribe(subscription.group, subscription.topics, subscription.handler, subscription.options);
    }
    await h.bus.start();
  });
  after(() => h.close());

  it('is group templates-cache on template-events', () => {
    const [subscription] = templatesService.subscriptions?.(h.deps) ?? [];
    assert.equal(subscription?.group, TEMPLATES_CACHE_GROUP);
    assert.equal(TEMPLATES_CACHE_GROUP, 'templates-cache');
    assert.deepEqual(subscription?.topics, [TEMPLATE_EVENTS_TOPIC]);
  });

  it('given a stale live version a racing read stored after the delete, when the event arrives, then that key alone is gone', async () => {
    for (const language of ['en', 'de']) {
      const response = await h.call(operator.token, 'POST', '/api/v1/templates', {
        code: 'promo',
        name: 'Promo',
        type: 'sms',
        language,
        content: `${language} v1`,
      });
      assert.equal(response.status, 201);
    }
    // Their template.created events would drop what is cached next, which is this consumer doing its job.
    await h.bus.drain(TEMPLATES_CACHE_GROUP);
    const live = (await h.call(operator.token, 'GET', '/api/v1/templates/promo')).json<Template>();
    await h.call(operator.token, 'GET', '/api/v1/templates/promo?language=de');
    assert.ok(await h.cache.get(cacheKeys.template('promo', 'en')));
    assert.ok(await h.cache.get(cacheKeys.template('promo', 'de')));

    // The event alone, as another instance whose own delete was undone by a racing read would have written it.
    const data: TemplateUpdatedData = {
      template: refOf({ ...live, version: 2 }),
      previous_active_version: 1,
    };
    await appendToOutbox(h.pool, TEMPLATE_EVENTS_TOPIC, [
      createEvent(
        { type: 'template.updated', subject: 'promo:en', partitionKey: 'promo', data },
        {},
        { clock: systemClock, ids: uuidV7, source: SOURCE },
      ),
    ]);
    await h.bus.drain(TEMPLATES_CACHE_GROUP);

    assert.equal(await h.cache.get(cacheKeys.template('promo', 'en')), undefined);
    assert.ok(await h.cache.get(cacheKeys.template('promo', 'de')), "other languages' keys stay");
  });

  it('given writes through the API, when their events are consumed, then every one was handled and none dead-lettered', async () => {
    await h.call(operator.token, 'PUT', '/api/v1/templates/promo', { name: 'Promo', content: 'en v2' });
    await h.call(operator.token, 'POST', '/api/v1/templates/promo/versions/1/activate');
    await h.call(operator.token, 'DELETE', '/api/v1/templates/promo?language=de');
    await h.bus.drain(TEMPLATES_CACHE_GROUP);
    const processed = await h.pool.query(
      `SELECT count(*)::int AS count FROM bus.processed_events p JOIN bus.outbox o ON o.event_id = p.event_id
        WHERE p.consumer_group = $1 AND o.partition_key = 'promo'`,
      [TEMPLATES_CACHE_GROUP],
    );
    // Two created, the hand-written updated, updated, activated, deactivated.
    assert.equal(processed.rows[0].count, 6);
    const dead = await h.pool.query(
      'SELECT count(*)::int AS count FROM bus.dead_letters WHERE consumer_group = $1',
      [TEMPLATES_CACHE_GROUP],
    );
    assert.equal(dead.rows[0].count, 0);
  });
});

describe('template cache', () => {
  const template = { code: 'welcome', language: 'fr' } as Template;

  function broken(): Cache {
    const fail = async (): Promise<never> => {
      throw new Error('redis is down');
    };
    return { ...createMemoryCache(), get: fail, set: fail, delete: fail };
  }

  it('given a cache that fails, then lookups read the database and invalidation does not throw', async () => {
    const cache = createTemplateCache(broken(), silentLogger());
    const asked: string[][] = [];
    const found = await cache.active('welcome', ['fr-CA', 'fr', 'en'], async (languages) => {
      asked.push(languages);
      return [template];
    });
    assert.deepEqual(asked, [['fr-CA', 'fr', 'en']]);
    assert.deepEqual([...found.entries()].sort(), [
      ['en', null],
      ['fr', template],
      ['fr-CA', null],
    ]);
    await cache.invalidate('welcome', ['fr']);
  });

  it('given a chain partly cached, then the database is asked once, and only for the languages the cache lacks', async () => {
    const memory = createMemoryCache();
    const cache = createTemplateCache(memory, silentLogger());
    await cache.active('welcome', ['fr'], async () => [template]);
    const asked: string[][] = [];
    const found = await cache.active('welcome', ['fr-CA', 'fr', 'en'], async (languages) => {
      asked.push(languages);
      return [];
    });
    assert.deepEqual(
      asked.map((languages) => [...languages].sort()),
      [['en', 'fr-CA']],
    );
    assert.deepEqual(found.get('fr'), template);
    // Absence is cached too: a second lookup asks nothing.
    await cache.active('welcome', ['fr-CA', 'fr', 'en'], async (languages) => {
      asked.push(languages);
      return [];
    });
    assert.equal(asked.length, 1);
    await memory.close();
  });
});
