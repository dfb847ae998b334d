export type { IoredisLike, LuaScript, NodeRedisLike, RedisClientLike } from './client/redis-client'
export { luaScript } from './client/redis-client'
export type {
  RedisStoreOptions,
  StoreErrorContext,
  StoreLogger,
  StoreOperation,
} from './store/redis-store'
export { redisStore } from './store/redis-store'
