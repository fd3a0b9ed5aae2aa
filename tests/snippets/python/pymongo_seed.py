from pymongo import MongoClient; client = MongoClient('mongodb://localhost:27017/'); db = client['blogdb']
db.posts.insert_one({"title": "Redis Caching", "tags": ["nosql", "backend"], "views": 150, "author": {"name": "Alex", "verified": True}})
db.posts.find({"tags": "nosql"}, {"title": 1, "views": 1}).sort("views", -1)
