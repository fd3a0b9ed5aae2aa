import redis

r = redis.Redis()
pipe = r.pipeline()
pipe.set("a", 1)
pipe.incr("a")
pipe.get("a")
pipe.hset("h", mapping={"f": "v"})
pipe.hgetall("h")
print(pipe.execute())
with r.pipeline(transaction=False) as p:
    p.set("b", 2).incr("b").zadd("z", {"m": 1}).zrange("z", 0, -1, withscores=True)
    print(p.execute())
print(r.pipeline().execute())
p = r.pipeline()
p.set("s", "x")
p.incr("s")
p.get("s")
try:
    p.execute()
except redis.exceptions.ResponseError as e:
    print(e)
with r.pipeline() as pipe:
    pipe.watch("a")
    current = int(pipe.get("a"))
    pipe.multi()
    pipe.set("a", current * 10)
    print(pipe.execute())
print(r.get("a"))
