import redis
from redis.exceptions import ResponseError, DataError

r = redis.Redis()
r.set("s", "text")
try:
    r.incr("s")
except ResponseError as e:
    print("ResponseError:", e)
try:
    r.set("x", True)
except DataError as e:
    print("DataError:", e)
try:
    r.execute_command("NOPE", "x")
except redis.exceptions.ResponseError as e:
    print(type(e).__name__, e)
print(r.execute_command("SET", "ec", "1"), r.execute_command("GET", "ec"), r.execute_command("INCR", "ec"))
print(r.ping(), r.echo("hi"), r.flushdb(), r.dbsize())
r.set("s", "text")
r.lpush("s", "x")
