// The lesson's blog example with the Node MongoDB driver (mongodb 6).
const { MongoClient, ObjectId } = require('mongodb');
const client = new MongoClient('mongodb://localhost:27017/');
await client.connect();
const db = client.db('blogdb');
const posts = db.collection('posts');

console.log(await posts.insertOne({
  _id: new ObjectId('65a1b2c3d4e5f60718293a4b'),
  title: 'Redis Caching',
  tags: ['nosql', 'backend'],
  views: 150,
  author: { name: 'Alex', verified: true },
}));
console.log(await posts.insertMany([
  { _id: 2, title: 'Mongo Indexes', tags: ['nosql'], views: 90, published: new Date('2024-03-01T10:00:00Z') },
  { _id: 3, title: 'SQL Joins', tags: ['sql'], views: 300 },
]));

const popular = await posts.find({ tags: 'nosql' }, { projection: { title: 1, views: 1 } })
  .sort({ views: -1 })
  .toArray();
console.log(popular);
console.log(await posts.find({}).sort({ views: -1 }).limit(1).toArray());
console.log(await posts.findOne({ _id: 2 }));
console.log(await posts.findOne({}, { sort: { views: 1 }, projection: { _id: 0, title: 1 } }));
console.log(await posts.findOne({ _id: 404 }));
console.log(await posts.updateOne({ _id: 2 }, { $inc: { views: 10 }, $push: { tags: 'indexes' } }));
console.log(await posts.updateMany({ views: { $gt: 1000 } }, { $set: { hot: true } }));
console.log(await posts.countDocuments({ tags: 'nosql' }));
console.log(await posts.aggregate([
  { $unwind: '$tags' },
  { $group: { _id: '$tags', views: { $sum: '$views' } } },
  { $sort: { views: -1, _id: 1 } },
]).toArray());
console.log(await posts.createIndex({ views: -1 }));
console.log(await posts.deleteOne({ _id: 3 }));
console.log(await posts.deleteMany({}));
await client.close();
await posts.countDocuments()
