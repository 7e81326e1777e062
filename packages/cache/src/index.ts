export { CACHE_TTL_SECONDS, cacheKeys } from './keys.ts';
export { createMemoryCache, type MemoryCacheOptions } from './memory.ts';
export type { Cache } from './port.ts';
export {
  createThreadCache,
  serveCache,
  type ThreadCacheOptions,
  type ThreadCacheReply,
  type ThreadCacheRequest,
} from './thread.ts';
