from pymongo import MongoClient
import pymongo
import datetime

client = MongoClient("mongodb://localhost:27017/")
db = client["blogdb"]
posts = db.posts
result = posts.insert_one({"_id": 1, "title": "Redis Caching", "tags": ["nosql", "backend"], "views": 150,
                           "author": {"name": "Alex", "verified": True},
                           "published": datetime.datetime(2026, 11, 26, 10, 0)})
print(result)
print(result.inserted_id)
posts.insert_many([
    {"_id": 2, "title": "Mongo Indexes", "tags": ["nosql"], "views": 90},
    {"_id": 3, "title": "SQL Joins", "tags": ["sql"], "views": 300},
])
for post in posts.find({"tags": "nosql"}, {"title": 1, "views": 1}).sort("views", -1):
    print(post)
print(posts.find_one({"_id": 1}))
print(posts.count_documents({"views": {"$gt": 100}}))
update = posts.update_one({"_id": 2}, {"$inc": {"views": 10}})
print(update, update.modified_count)
print(posts.update_many({}, {"$set": {"draft": False}}).modified_count)
print(posts.delete_one({"_id": 3}).deleted_count)
print(posts.create_index([("title", pymongo.ASCENDING)], unique=True))
try:
    posts.insert_one({"_id": 4, "title": "Redis Caching"})
except pymongo.errors.DuplicateKeyError as e:
    print("duplicate:", e.details["errmsg"])
pipeline = [{"$unwind": "$tags"}, {"$group": {"_id": "$tags", "views": {"$sum": "$views"}}}, {"$sort": {"_id": 1}}]
print(list(posts.aggregate(pipeline)))
print(sorted(db.list_collection_names()))
posts.find_one({"_id": 2}, {"_id": 0, "title": 1, "views": 1})
