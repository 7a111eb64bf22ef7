"""Geometries for the map tests (the Plesmanlaan closure between Sylviusweg and Einsteinweg, its
diversion, a works area) and a tile server on 127.0.0.1 that records what it is asked for."""

from __future__ import annotations

import contextlib
import struct
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import update

from notices.core.models import Notice

CLOSURE = {"type": "LineString", "coordinates": [[4.4612, 52.1689], [4.4592, 52.1698], [4.4573, 52.1708]]}
DIVERSION = {
    "type": "LineString",
    "coordinates": [[4.4612, 52.1689], [4.4641, 52.1719], [4.4601, 52.1744], [4.4573, 52.1708]],
}
WORKS_AREA = {
    "type": "Polygon",
    "coordinates": [[[4.4655, 52.1685], [4.4680, 52.1685], [4.4680, 52.1700], [4.4655, 52.1700], [4.4655, 52.1685]]],
}


def feature_collection(*pairs: tuple[dict, str]) -> dict:
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": geometry, "properties": {"role": role}} for geometry, role in pairs
        ],
    }


CLOSURE_WITH_DIVERSION = feature_collection((CLOSURE, "closure"), (DIVERSION, "diversion"))


def store_geometry(ctx, uid, geometry: dict) -> None:
    """Put a stored FeatureCollection on a notice's row (the shape the input paths store)."""
    with ctx.db.session() as session, session.begin():
        session.execute(update(Notice).where(Notice.uid == uid).values(geometry=geometry))


def _png(width: int = 256, height: int = 256) -> bytes:
    """A plain light-grey tile."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\xe8\xe8\xe8" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


class TileServer:
    """Answers every /{z}/{x}/{y}.png with a tile and remembers the paths."""

    def __init__(self) -> None:
        tile, requested = _png(), list[str]()
        self.requested: list[str] = requested

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                requested.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(tile)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the browser left the page
                    self.wfile.write(tile)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.tile_url = self.origin + "/{z}/{x}/{y}.png"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> TileServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
