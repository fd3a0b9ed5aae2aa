import redis
r = redis.Redis(host='localhost', port=6379, db=0)
r.setex('product:123', 300, '{"name": "Laptop", "price": 999}') # Expires in 5 min
product = r.get('product:123')
print(product)
print(r.ttl('product:123'))
product
