import { CACHE_TTL_SECONDS, type Cache, cacheKeys } from '@switchyard/cache';
import type { Template } from '@switchyard/contracts';
import type { Logger } from '@switchyard/kernel';

/**
 * What `template:{code}:{language}` holds: the live version of the code in exactly that language, or
 * null when there is none. Never a fallback's: the key of fr-CA does not hold the fr version that serves
 * fr-CA requests. That way a write to one language invalidates one key, and a new fr-CA version takes
 * over from fr at once, whereas caching what served each requested language would leave every
 * `fr-*` key holding fr, with no way to find them all. The price: a lookup reads its chain (fr-CA, fr,
 * en) in one round of reads instead of one key; the absence is cached too, so the chain costs no query.
 */
interface Entry {
  template: Template | null;
}

/**
 * PostgreSQL is the system of record, so a cache that fails is skipped (read the database, log it) rather
 * than failing the request.
 */
export function createTemplateCache(cache: Cache, log: Logger) {
  return {
    /**
     * The live version of `code` in each of `languages` (null where there is none), read through the
     * cache; `load` is asked, in one call, only for the languages the cache did not answer.
     */
    async active(
      code: string,
      languages: string[],
      load: (languages: string[]) => Promise<Template[]>,
    ): Promise<Map<string, Template | null>> {
      const found = new Map<string, Template | null>();
      const misses: string[] = [];
      await Promise.all(
        languages.map(async (language) => {
          const key = cacheKeys.template(code, language);
          try {
            const entry = await cache.get<Entry>(key);
            if (entry !== undefined) {
              found.set(language, entry.template);
              return;
            }
          } catch (error) {
            log.warn({ err: error, key }, 'cache read failed; reading the database');
          }
          misses.push(language);
        }),
      );
      if (misses.length > 0) {
        const loaded = await load(misses);
        await Promise.all(
          misses.map(async (language) => {
            const template = loaded.find((candidate) => candidate.language === language) ?? null;
            found.set(language, template);
            const key = cacheKeys.template(code, language);
            await cache
              .set(key, { template } satisfies Entry, CACHE_TTL_SECONDS.template)
              .catch((error: unknown) => {
                log.warn({ err: error, key }, 'cache write failed');
              });
          }),
        );
      }
      return found;
    },

    /**
     * Drops the keys of the languages a write touched, right after it commits. A failure is logged, not
     * thrown: the write has committed, and the templates-cache subscription deletes the same keys when its
     * event arrives.
     */
    async invalidate(code: string, languages: string[]): Promise<void> {
      if (languages.length === 0) return;
      await cache
        .delete(...languages.map((language) => cacheKeys.template(code, language)))
        .catch((error: unknown) => {
          log.warn(
            { err: error, code, languages },
            'cache invalidation failed; the templates-cache consumer will retry it',
          );
        });
    },
  };
}

export type TemplateCache = ReturnType<typeof createTemplateCache>;
