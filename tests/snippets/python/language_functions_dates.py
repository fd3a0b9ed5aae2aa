import datetime
t = datetime.datetime(2024, 2, 29, 13, 5, 9, 250)
print(t, repr(t), t.year, t + datetime.timedelta(hours=12), t - datetime.datetime(2024, 1, 1, 0, 0, 0, 250))
print(datetime.timedelta(days=1, seconds=30), repr(datetime.timedelta(minutes=90)), datetime.timedelta(seconds=-1))
print(t.isoformat(), datetime.timedelta(hours=2).total_seconds())
x = {"nested": {"list": [1, {"a": (1, 2)}]}}
print(x["nested"]["list"][1]["a"][0], str(x))
total = 0
for i in range(100000):
    total += i
print(total)
def outer():
    y = 10
    def inner(z):
        return y + z
    return inner(5)
print(outer())
print("done")
