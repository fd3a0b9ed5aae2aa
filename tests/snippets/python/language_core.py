x = [3, 1, 2]
x.sort(reverse=True)
print(x, x[::-1], x[1:], x[-1], "abc"[::-1], "Hello World".split(), "a,b".split(","))
d = {"b": 2, "a": 1}
for k, v in sorted(d.items()):
    print(k, v, end="; ")
print()
print(d.get("z", 0), d.keys(), list(d.values()), "a" in d, 3 not in x)
print(f"{'x':^5}|{3.14159:.3f}|{42:>5}|{-7:05d}|{1e6:,.0f}|{0.25:.0%}|{255:x}")
print(str(1.0), str(10**15 * 1.0), 1e16, 123456789.123, 0.000123, 1/7, 2.0 ** 0.5, -1.5e-10)
print(int("42"), float("3.5"), int(3.9), int(-3.9), round(-2.5), abs(-3), 7 / 2, 7 // 2, -7 // 2)
print([i for i in range(10, 0, -3)], list(range(5))[1:3], tuple("ab"), set([1, 1, 2]))
a, b = 1, 2
a, b = b, a
print(a, b, a if a > b else b, not a, a and b, 0 or "x", None is None)
try:
    [][1]
except IndexError as e:
    print("IndexError:", e)
try:
    int("x")
except ValueError as e:
    print(e)
def greet(name, greeting="Hello", *args, **kw):
    return f"{greeting}, {name}!" + str(args) + str(kw)
print(greet("A"), greet("B", "Hi", 1, z=2))
print("%-5s|%5.2f|%03d" % ("ab", 3.14159, 7), "{} {}".format(1, "x"), "{0}{1}{0}".format("a", "b"))
n = 0
while n < 5:
    n += 1
    if n == 2:
        continue
    if n == 4:
        break
else:
    print("no")
print(n, any([0, 1]), all([]), sum([0.1] * 10), max("abc"), min([3, 1], key=lambda v: -v))
s = {1, 2, 3}
print(s & {2, 3, 4}, s | {5}, s - {1}, len(s), sorted(s, reverse=True))
print(repr("tab\there"), repr('q"uote'), "multi\nline".splitlines(), "  pad ".strip())
print([(i, j) for i in range(2) for j in range(2) if i != j], {x: x * x for x in range(3)})
print(divmod(17, 5), 2 ** 10, 2 ** 0.5 == 2 ** 0.5, 10 % 3, -10 % 3, 10.5 % 3)
print(list(zip([1, 2], "ab")), list(enumerate("xy")), dict(a=1, b=2), dict([("c", 3)]))
import json
print(json.dumps([1, "a", {"k": None}], sort_keys=True), json.dumps({"b": 1, "a": 2}, sort_keys=True, indent=1))
print(json.dumps("ünï"), json.dumps("ünï", ensure_ascii=False), json.loads("[1.5, true, null]"))
print(type(1), type("s"), type([]) is list, isinstance(True, int), isinstance(1.0, (int, float)))
print(b"abc".decode(), "abc".encode(), b"a" + b"b", len(b"xyz"), b"x"[0], bytes("hi", "utf-8"))
print(3 == 3.0, 1 < 2 < 3, "a" < "b", [1, 2] < [1, 3], (1, 2) == (1, 2))
print(float("inf"), -float("inf"), round(3.14159, 2), round(1234.5678, -2), 5e-324, 1.7976931348623157e308)
