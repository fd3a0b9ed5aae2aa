import redis

r = redis.Redis(decode_responses=True)
r.set("balance", 100)
pipe = r.pipeline()
pipe.decrby("balance", 30).incrby("spent", 30)
print(pipe.execute())
pipe = r.pipeline(transaction=True)
pipe.set("s", "text")
pipe.incr("s")
pipe.set("after", 1)
try:
    pipe.execute()
except redis.exceptions.ResponseError as e:
    print("error:", e)
print(r.get("after"))
pipe = r.pipeline()
pipe.watch("balance")
pipe.multi()
pipe.incr("balance")
r.set("balance", 0)
try:
    pipe.execute()
except redis.WatchError as e:
    print("watch:", e)
print(r.get("balance"))
p = r.pubsub(ignore_subscribe_messages=True)
p.psubscribe("news.*")
r.publish("news.tech", "rust")
print(p.get_message(timeout=1.0))
print(p.get_message(timeout=1.0, ignore_subscribe_messages=True))
r.publish("news.sport", "goal")
print(p.get_message(timeout=1.0))
p.close()
