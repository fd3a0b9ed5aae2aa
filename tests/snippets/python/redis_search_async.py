import asyncio
import redis.asyncio as redis


async def main():
    r = redis.Redis(decode_responses=True)
    await r.hset("product:1", mapping={"name": "Laptop", "price": 999})
    await r.hset("product:2", mapping={"name": "Desk", "price": 150})
    await r.execute_command("FT.CREATE", "idx", "ON", "HASH", "PREFIX", "1", "product:",
                            "SCHEMA", "name", "TEXT", "price", "NUMERIC", "SORTABLE")
    res = await r.ft("idx").search("@price:[100 500]")
    print(res.total, [doc.id for doc in res.docs], res.docs[0].name)
    print(res)
    print(sorted(await r.keys("product:*")))
    await r.aclose()


asyncio.run(main())
