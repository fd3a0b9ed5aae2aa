import redis
import json
import time

r = redis.Redis(host="localhost", port=6379, db=0, decode_responses=True)
scores = {"alice": 3, "bob": 7, "carol": 5}
r.zadd("game", scores)
top = r.zrevrange("game", 0, 1, withscores=True)
for rank, (name, score) in enumerate(top, start=1):
    print(f"{rank}. {name:<6}|{score:6.1f}|{int(score):03d}")
cache = {}
def get_user(uid):
    key = f"user:{uid}"
    cached = r.get(key)
    if cached is None:
        user = {"id": uid, "name": f"User {uid}", "tags": ["a", "b"]}
        r.set(key, json.dumps(user), ex=60)
        return user, "miss"
    return json.loads(cached), "hit"
print(get_user(7))
print(get_user(7))
r.set("session", "x", px=200)
time.sleep(0.3)
print(r.get("session"), r.exists("session"))
values = [1.5, 2, -3.25, 10 ** 3, 7 // -2, -7 % 3, 2 ** -1]
print(values, sum(values), round(2.675, 2), round(0.5), round(1.5), max(values), min(values))
print(sorted(["b", "A", "c"], key=str.lower) if False else sorted(["b", "A", "c"]), len({"a": 1}))
print("%s has %d points (%.1f%%)" % ("bob", 7, 58.3333))
print(", ".join(str(x) for x in range(3)), list(map(lambda x: x * 2, [1, 2])))
print(isinstance(r.get("user:7"), str), type(r.ttl("user:7")).__name__, r.ttl("user:7"))
print({**scores, "dave": 0}, list(scores.items())[:1], [k for k in scores if scores[k] > 4])
r.incr("user:7")
