const { createClient } = require('redis');
const client = createClient();
await client.connect();
await client.set('name', 'Ada');
try {
  await client.lPush('name', 'x');
} catch (err) {
  console.log('caught:', err.message);
}
console.log(await client.get('name'));
await client.incr('name');
console.log('not reached');
