import gzip, struct, sys, random, os
d = sys.argv[1]; os.makedirs(d, exist_ok=True); random.seed(0)
def write(name, magic, dims, payload):
    with gzip.open(f"{d}/{name}", "wb") as f:
        f.write(struct.pack(">I", magic) + b"".join(struct.pack(">I", x) for x in dims) + payload)
for prefix, n in (("train", 640), ("t10k", 128)):
    labels = bytes(random.randrange(10) for _ in range(n))
    # images that depend on the label, so that learning is possible
    images = bytearray()
    for y in labels:
        images += bytes((y * 25 + random.randrange(40)) % 256 for _ in range(28 * 28))
    write(f"{prefix}-images-idx3-ubyte.gz", 0x803, (n, 28, 28), bytes(images))
    write(f"{prefix}-labels-idx1-ubyte.gz", 0x801, (n,), labels)
