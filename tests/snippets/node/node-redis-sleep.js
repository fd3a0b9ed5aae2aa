// setTimeout sleeps advance the sandbox's clock, so keys expire as they would.
const { createClient } = require('redis');
const client = createClient();
await client.connect();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

await client.set('session', 'abc', { PX: 200 });
console.log(await client.get('session'));
await sleep(300);
console.log(await client.get('session'));

async function remember(key, compute) {
  const cached = await client.get(key);
  if (cached !== null) return `hit ${cached}`;
  const value = await compute();
  await client.set(key, String(value), { EX: 60 });
  return `miss ${value}`;
}
console.log(await remember('answer', async () => 6 * 7));
console.log(await remember('answer', async () => 0));
await client.quit()
