// Shared by the Redis tests. In CI a missing server fails the run (.ci/run starts one); tests never skip.
export const redisUrl = process.env.KEYGUARD_REDIS_URL ?? 'redis://127.0.0.1:6379'
