"""The web server behind ``gradscope serve``: a run picker and one dashboard per browser tab.

Built on textual-serve: each tab's websocket starts ``gradscope tui STORE`` in a subprocess
under Textual's web driver and relays its screen. Routes take run keys from the server's own
listing (:mod:`gradscope.serve.runs`), so no request names a file.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import shlex
import sys
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from gradscope.serve.runs import RunEntry, describe, find_runs

TEMPLATES = Path(__file__).parent / "templates"
log = logging.getLogger("gradscope.serve")


class DashboardServer(Server):
    """Serves the dashboard of one store, or a picker over every store under a folder."""

    def __init__(
        self, target: Path, *, host: str = "127.0.0.1", port: int = 8765, interval: float = 1.0
    ) -> None:
        super().__init__(command="gradscope tui", host=host, port=port, title="gradscope")
        self.target = target
        self.picker = target.is_dir()
        self.interval = interval

    # -- what is served -------------------------------------------------------------------------

    def runs(self) -> list[RunEntry]:
        if self.picker:
            return find_runs(self.target)
        return [describe(self.target.resolve(), self.target.name)]

    def entry(self, key: str) -> RunEntry:
        for run in self.runs():
            if run.key == key and run.readable:
                return run
        raise web.HTTPNotFound(text="no such run here: reload the list of runs")

    def command_for(self, run: RunEntry) -> str:
        args = [sys.executable, "-m", "gradscope", "tui", str(run.path)]
        return shlex.join([*args, "--interval", str(self.interval)])

    # -- the aiohttp application ----------------------------------------------------------------

    async def _make_app(self) -> web.Application:
        app = web.Application()
        aiohttp_jinja2.setup(
            app, loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=jinja2.select_autoescape()
        )
        app.add_routes(
            [
                web.get("/", self.handle_index, name="index"),
                web.get("/run/{key}", self.handle_run, name="run"),
                web.get("/ws/{key}", self.handle_websocket, name="websocket"),
                web.get("/download/{key}", self.handle_download, name="download"),
                web.static("/static", self.statics_path, name="static"),
            ]
        )
        app.on_startup.append(self.on_startup)
        return app

    async def on_startup(self, app: web.Application) -> None:
        what = "runs under" if self.picker else "run"
        print(
            f"gradscope: serving {what} {str(self.target)!r} on {self.public_url} (Ctrl-C stops)",
            file=sys.stderr,
            flush=True,
        )

    async def handle_index(self, request: web.Request) -> web.StreamResponse:  # type: ignore[override]
        runs = await asyncio.to_thread(self.runs)
        if not self.picker:
            raise web.HTTPFound(f"run/{runs[0].key}")
        context = {
            "folder": str(self.target),
            "runs": [
                {
                    **run.__dict__,
                    "readable": run.readable,
                    "written": dt.datetime.fromtimestamp(run.mtime).strftime("%Y-%m-%d %H:%M:%S"),
                }
                for run in runs
            ],
        }
        return aiohttp_jinja2.render_template("index.html", request, context)

    async def handle_run(self, request: web.Request) -> web.StreamResponse:
        run = await asyncio.to_thread(self.entry, request.match_info["key"])
        base = f"{request.scheme}://{request.host}"
        ws_scheme = "wss" if request.scheme == "https" else "ws"
        context = {
            "label": run.label,
            "model": run.model,
            "picker": self.picker,
            "root_url": f"{base}/",
            "static_url": f"{base}/static/",
            "websocket_url": f"{ws_scheme}://{request.host}/ws/{run.key}",
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
        }
        return aiohttp_jinja2.render_template("run.html", request, context)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        run = await asyncio.to_thread(self.entry, request.match_info["key"])
        websocket = web.WebSocketResponse(heartbeat=15)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        service: AppService | None = None

        async def close() -> None:
            await websocket.close()

        try:
            await websocket.prepare(request)
            service = AppService(
                self.command_for(run),
                write_bytes=websocket.send_bytes,
                write_str=websocket.send_str,
                close=close,
                download_manager=self.download_manager,
                debug=False,
            )
            await service.start(width, height)
            await self._process_messages(websocket, service)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as exc:  # a tab that fails must not stop the server for other tabs
            log.warning("gradscope: the dashboard of %s stopped: %s", run.label, exc)
        finally:
            if service is not None:
                await service.stop()
        return websocket

    def initialize_logging(self) -> None:
        logging.basicConfig(level=logging.WARNING, format="%(message)s")


def serve(target: Path, *, host: str, port: int, interval: float = 1.0) -> None:
    """Serve until Ctrl-C (or SIGTERM); returns normally then."""
    DashboardServer(target, host=host, port=port, interval=interval).serve()


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server reachable from this machine only."""
    return host in ("localhost", "::1") or host.startswith("127.")
