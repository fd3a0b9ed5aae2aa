import asyncio
from motor.motor_asyncio import AsyncIOMotorClient
from bson import ObjectId

async def main():
    client = AsyncIOMotorClient("mongodb://localhost:27017")
    db = client.blog
    oid = ObjectId("656f1f77bcf86cd799439011")
    await db.posts.insert_one({"_id": oid, "n": 1})
    doc = await db.posts.find_one({"_id": oid})
    print(doc, str(oid), oid == ObjectId(str(oid)))
    docs = await db.posts.find().to_list(length=10)
    print(docs)
    async for d in db.posts.find({}, {"_id": 0}):
        print(d)
asyncio.run(main())
