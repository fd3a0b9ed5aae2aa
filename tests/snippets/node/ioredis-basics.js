import Redis from 'ioredis';
const redis = new Redis(6379, 'localhost');

console.log(await redis.set('product:123', '{"name": "Laptop"}', 'EX', 300));
console.log(await redis.get('product:123'), await redis.ttl('product:123'));
console.log(await redis.set('product:123', 'x', 'NX'));
console.log(await redis.get('nothing'));
console.log(await redis.incr('hits'), await redis.incrby('hits', 10));
console.log(await redis.expire('hits', 30), await redis.del('hits', 'nothing'));
console.log(await redis.hset('user:1', { name: 'Ada', age: 36 }));
console.log(await redis.hset('user:1', 'city', 'London'));
console.log(await redis.hgetall('user:1'));
console.log(await redis.hgetall('user:404'));
console.log(await redis.lpush('list', 'a', 'b'), await redis.lrange('list', 0, -1));
console.log(await redis.sadd('set', 'x', 'y', 'x'));
console.log(await redis.zadd('board', 10, 'ann', 25.5, 'bob', 7, 'cy'));
console.log(await redis.zrange('board', 0, -1, 'WITHSCORES'));
console.log(await redis.zincrby('board', 5, 'ann'));
console.log(await redis.call('SET', 'raw', '1'), await redis.call('HGETALL', 'user:1'));
console.log(await redis.multi().set('a', '1').incr('a').get('a').exec());
console.log(redis.status);
await redis.zrevrange('board', 0, 1)
