"""A minimal BIFF8 .xls writer for tests (no .xls writer is installed): one
sheet of text cells (LABEL records) in a compound-file container."""

import struct


def rec(rtype, data=b""):
    return struct.pack("<HH", rtype, len(data)) + data


def biff8_workbook(rows):
    def bof(dt):
        return rec(0x0809, struct.pack("<HHHHII", 0x0600, dt, 0x0DBB, 0x07CC, 0, 6))

    sheet = bof(0x0010) + rec(
        0x0200, struct.pack("<IIHHH", 0, len(rows), 0, max(len(r) for r in rows), 0)
    )
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            text = str(value).encode("utf-16-le")
            sheet += rec(
                0x0204, struct.pack("<HHHHB", r, c, 0, len(text) // 2, 1) + text
            )
    sheet += rec(0x000A)
    name = "Лист1".encode("utf-16-le")

    def globals_(offset):
        return (
            bof(0x0005)
            + rec(0x0042, struct.pack("<H", 0x04B0))
            + rec(0x0085, struct.pack("<IBBBB", offset, 0, 0, len(name) // 2, 1) + name)
            + rec(0x000A)
        )

    head = globals_(0)
    head = globals_(len(head))
    return head + sheet


def cfb(stream):
    stream = stream + b"\0" * max(0, 4096 - len(stream))
    nsect = (len(stream) + 511) // 512
    data = stream + b"\0" * (nsect * 512 - len(stream))
    FREE, END, FATS, NOS = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
    fat = [FATS, END] + [i + 3 for i in range(nsect - 1)] + [END]
    fat += [FREE] * (128 - len(fat))
    header = (
        bytes.fromhex("D0CF11E0A1B11AE1")
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x003E, 0x0003, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, END, 0, END, 0)
        + struct.pack("<I", 0)
        + struct.pack("<I", FREE) * 108
    )

    def entry(name, typ, child, start, size, left=NOS, right=NOS):
        n = (name + "\0").encode("utf-16-le") if name else b""
        return (
            n.ljust(64, b"\0")
            + struct.pack("<HBBIII", len(n), typ, 1, left, right, child)
            + b"\0" * 16
            + struct.pack("<IQQIQ", 0, 0, 0, start, size)
        )

    directory = (
        entry("Root Entry", 5, 1, END, 0)
        + entry("Workbook", 2, NOS, 2, len(stream))
        + entry("", 0, NOS, 0, 0)
        + entry("", 0, NOS, 0, 0)
    )
    return header + struct.pack("<128I", *fat) + directory + data


def xls_bytes(rows):
    return cfb(biff8_workbook(rows))
