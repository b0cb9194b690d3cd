#!/usr/bin/env python3
"""Refused uploads on keep-alive connections: CONNS clients each send ITERS
uploads (8 KiB, 100 KiB or 1 MiB, head and body at once) to missing images
of the mock on 127.0.0.1:PORT, reusing the connection unless told
`Connection: close`, and count answers, resets and closes
(RELIABILITY.md, "Connections").  Usage: refused-uploads.py PORT CONNS ITERS"""
import asyncio, sys, random
PORT=int(sys.argv[1]); CONNS=int(sys.argv[2]); ITERS=int(sys.argv[3])
ID="X-Identity-Status: Confirmed\r\nX-Roles: member,reader\r\nX-Project-Id: p\r\nX-User-Id: u\r\nX-Auth-Token: t\r\n"
SIZES=[8<<10, 100<<10, 1<<20]
stats={"ok":0,"reset":0,"closes":0,"reused":0}
async def read_answer(r):
    head=await r.readuntil(b"\r\n\r\n")
    t=head.decode().lower()
    n=0
    for l in t.split("\r\n"):
        if l.startswith("content-length:"): n=int(l.split(":")[1])
    await r.readexactly(n)
    return t
async def client(i):
    rnd=random.Random(i)
    r=w=None; used=0
    for k in range(ITERS):
        if w is None:
            r,w=await asyncio.open_connection("127.0.0.1",PORT); used=0
        size=rnd.choice(SIZES)
        try:
            w.write(("PUT /v2/images/00000000-0000-4000-8000-00000000000%d/file HTTP/1.1\r\nHost: x\r\n%sContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n"%(i%10,ID,size)).encode())
            w.write(b"x"*size)
            await w.drain()
            t=await read_answer(r)
            stats["ok"]+=1
            if used: stats["reused"]+=1
            used+=1
            if "connection: close" in t:
                stats["closes"]+=1; w.close(); w=None
        except (ConnectionError, asyncio.IncompleteReadError, BrokenPipeError) as e:
            stats["reset"]+=1
            w.close(); w=None
async def main():
    await asyncio.gather(*(client(i) for i in range(CONNS)))
    print(stats)
asyncio.run(main())
