import { type Cache, cacheKeys } from '@switchyard/cache';
import { defineSubscription, TEMPLATE_EVENTS_TOPIC, TemplateEventCatalog } from '@switchyard/contracts';

export const TEMPLATES_CACHE_GROUP = 'templates-cache';

/**
 * Drops the cached live version of a code in a language whenever one of its events arrives. The instance
 * that wrote already deleted the key right after its commit; this is the durable second path. The direct
 * delete can be missed (the process dies between commit and delete, Redis is unreachable for that one
 * call) or undone: a read that loaded the old live version before the commit stores it after the delete,
 * and a rollback would then stay invisible for the key's hour. The event is committed with the write and
 * the runner retries this handler until the delete succeeds. The Redis adapter broadcasts the delete to
 * every instance's in-process layer.
 */
export function templatesCacheSubscription(cache: Cache) {
  return defineSubscription({
    group: TEMPLATES_CACHE_GROUP,
    topics: [TEMPLATE_EVENTS_TOPIC],
    catalog: TemplateEventCatalog,
    handler: async (event) => {
      const { code, language } = event.data.template;
      await cache.delete(cacheKeys.template(code, language));
    },
  });
}
