import redis
import json

r = redis.Redis(decode_responses=True)
print(r.json().set("product:1", "$", {"name": "Laptop", "price": 999, "tags": ["a", "b"]}))
print(r.json().get("product:1"))
print(r.json().get("product:1", "$.price"))
print(r.json().numincrby("product:1", "$.price", 1))
print(r.json().set("product:1", "$.name", "Desk", nx=True))
info = r.info()
print(type(info).__name__, "redis_version" in info, isinstance(info["connected_clients"], int))
print(json.dumps({"a": [1, 2.5, None, True], "b": "é"}), json.loads('{"x": [1, 2.0, "s"]}'))
