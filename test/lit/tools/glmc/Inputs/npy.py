"""Writes a float32 .npy of the given shape filled with ones (no numpy):
npy.py OUT.npy D0,D1,..."""
import struct
import sys

shape = tuple(int(d) for d in sys.argv[2].split(","))
count = 1
for d in shape:
    count *= d
header = "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }" % (shape,)
header += " " * (63 - (10 + len(header)) % 64) + "\n"
with open(sys.argv[1], "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
    f.write(struct.pack("<%df" % count, *([1.0] * count)))
