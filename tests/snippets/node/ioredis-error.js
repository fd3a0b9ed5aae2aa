import Redis from 'ioredis';
const redis = new Redis();
await redis.set('name', 'Ada');
try {
  await redis.hgetall('name');
} catch (err) {
  console.log(err.name, err.message);
}
await redis.zadd('name', 1, 'a');
