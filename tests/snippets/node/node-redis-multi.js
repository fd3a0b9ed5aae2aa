const { createClient } = require('redis');
const client = createClient();
await client.connect();

const results = await client.multi()
  .set('counter', '1')
  .incr('counter')
  .hSet('h', { a: 1 })
  .hGetAll('h')
  .get('counter')
  .exec();
console.log(results);

console.log(await client.sendCommand(['SET', 'raw', 'value']));
console.log(await client.sendCommand(['HGETALL', 'h']));
console.log(await client.sendCommand(['ZADD', 'z', '1', 'a']));

console.log(await client.json.set('doc:1', '$', { title: 'Redis', tags: ['fast', 'nosql'], stock: { n: 3 } }));
console.log(await client.json.get('doc:1'));
console.log(await client.json.get('doc:1', { path: '$.tags' }));
console.log(await client.json.get('nope'));
console.log(await client.json.numIncrBy('doc:1', '$.stock.n', 2));
console.log(client.isOpen);
await client.disconnect();
console.log(client.isOpen);
