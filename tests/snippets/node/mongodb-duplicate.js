import { MongoClient } from 'mongodb';
const client = new MongoClient('mongodb://localhost:27017');
const users = client.db('shop').collection('users');
await users.createIndex({ email: 1 }, { unique: true });
await users.insertOne({ _id: 1, email: 'ada@example.com' });
try {
  await users.insertOne({ _id: 2, email: 'ada@example.com' });
} catch (err) {
  console.log(err.name, err.code);
}
await users.insertOne({ _id: 1, email: 'other@example.com' });
