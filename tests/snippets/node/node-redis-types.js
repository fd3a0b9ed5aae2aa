import { createClient } from 'redis';
const client = createClient();
await client.connect();

console.log(await client.hSet('user:1', { name: 'Ada', age: 36, city: 'London' }));
console.log(await client.hSet('user:1', 'age', 37));
console.log(await client.hGetAll('user:1'));
console.log(await client.hGetAll('user:404'));
const user = await client.hGetAll('user:1');
console.log(`${user.name} is ${user.age}`);

console.log(await client.lPush('queue', ['a', 'b', 'c']));
console.log(await client.lPush('queue', 'd'));
console.log(await client.lRange('queue', 0, -1));

console.log(await client.sAdd('tags', ['nosql', 'redis', 'nosql']));
console.log((await client.sMembers('tags')).sort());
console.log(await client.sIsMember('tags', 'redis'));

console.log(await client.zAdd('board', [{ score: 10, value: 'ann' }, { score: 25.5, value: 'bob' }]));
console.log(await client.zAdd('board', { score: 7, value: 'cy' }));
console.log(await client.zIncrBy('board', 5, 'ann'));
console.log(await client.zRangeWithScores('board', 0, -1));
console.log(await client.zRange('board', 0, -1, { REV: true }));
console.log(await client.zScore('board', 'bob'), await client.zScore('board', 'nobody'));

console.log(await client.geoAdd('shops', [
  { longitude: 13.361389, latitude: 38.115556, member: 'Palermo' },
  { longitude: 15.087269, latitude: 37.502669, member: 'Catania' },
]));
console.log(await client.geoSearch('shops', { longitude: 15, latitude: 37 }, { radius: 200, unit: 'km' }));
console.log(await client.geoSearch('shops', 'Palermo', { radius: 100, unit: 'km' }));
console.log(await client.publish('news', 'hello'));
await client.quit();
