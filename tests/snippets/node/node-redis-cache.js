// The lesson's caching example, with node-redis.
const { createClient } = require('redis');
const client = createClient({ url: 'redis://localhost:6379' });
client.on('error', (err) => console.log('Redis Client Error', err));
await client.connect();

await client.setEx('product:123', 300, '{"name": "Laptop", "price": 999}'); // Expires in 5 min
const product = await client.get('product:123');
console.log(JSON.parse(product));
console.log(await client.ttl('product:123'));
console.log(await client.set('views', '10', { EX: 10, NX: true }));
console.log(await client.set('views', '11', { NX: true }));
console.log(await client.set('views', '12', { GET: true }));
console.log(await client.incr('views'), await client.ttl('views'));
console.log(await client.expire('views', 60), await client.expire('missing', 60));
console.log(await client.exists('views'), await client.exists(['views', 'product:123', 'nope']));
console.log(await client.del(['views', 'nope']));
await client.get('product:123')
