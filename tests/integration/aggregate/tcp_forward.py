"""tcp_forward.py LISTEN_PORT TARGET_PORT: accept TCP connections on 127.0.0.1:LISTEN_PORT and
pass their bytes both ways to 127.0.0.1:TARGET_PORT, until killed. A test points a client at
LISTEN_PORT while nothing listens there, then starts this to make its server appear (TLS goes
through untouched: the bytes are not looked at). Prints "listening" once it accepts."""
import asyncio
import sys


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def serve(listen, target):
    async def handle(r1, w1):
        try:
            r2, w2 = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            w1.close()
            return
        await asyncio.gather(pipe(r1, w2), pipe(r2, w1))

    server = await asyncio.start_server(handle, "127.0.0.1", listen)
    print("listening", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    asyncio.run(serve(int(sys.argv[1]), int(sys.argv[2])))
