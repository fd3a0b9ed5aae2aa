// One pipeline is one round trip; the loop below it is one per command.
const Redis = require('ioredis');
const redis = new Redis();

const pipeline = redis.pipeline();
for (let i = 0; i < 5; i++) {
  pipeline.set(`item:${i}`, i * 10);
}
pipeline.get('item:3');
pipeline.incr('item:4');
console.log(await pipeline.exec());

for (let i = 0; i < 5; i++) {
  await redis.set(`loop:${i}`, i);
}
console.log(await redis.pipeline().get('loop:0').get('loop:4').exec());
console.log(await redis.quit());
