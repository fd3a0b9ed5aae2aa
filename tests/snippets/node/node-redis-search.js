import { createClient } from 'redis';
const client = createClient();
await client.connect();
await client.sendCommand(['FT.CREATE', 'idx:books', 'ON', 'HASH', 'PREFIX', '1', 'book:',
  'SCHEMA', 'title', 'TEXT', 'year', 'NUMERIC', 'SORTABLE']);
await client.hSet('book:1', { title: 'Redis in Action', year: 2013 });
await client.hSet('book:2', { title: 'MongoDB in Action', year: 2011 });
await client.hSet('book:3', { title: 'Designing Data', year: 2017 });
const found = await client.ft.search('idx:books', 'Action', { SORTBY: { BY: 'year', DIRECTION: 'ASC' } });
console.log(found.total);
for (const doc of found.documents) {
  console.log(doc.id, doc.value);
}
const recent = await client.ft.search('idx:books', '@year:[2012 +inf]', { LIMIT: { from: 0, size: 1 }, SORTBY: 'year' });
console.log(recent.total, recent.documents.length, recent.documents[0].id);
