export type { IoredisLike, LuaScript, NodeRedisLike, RedisClientLike } from './client/redis-client'
export { luaScript } from './client/redis-client'
