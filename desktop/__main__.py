"""``hearth`` and ``python -m desktop``: the app with no command, the CLI with one."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from desktop.app.model_service import ModelService
    from desktop.app.request_log import RequestLog
    from desktop.app.server_config import RunningServer, ServerConfig


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if os.environ.pop("HEARTH_LOW_PRIORITY", None) and hasattr(os, "nice"):
        os.nice(10)  # a background helper of the app (the device probe): the window comes first
    # Helper processes the app starts itself; not part of the public command line.
    if args[:1] == ["_engine"]:
        from desktop.compare.tasks import TASKS
        from desktop.engine.worker import worker_main

        return worker_main(TASKS)
    if args[:1] == ["_scan"]:
        from desktop.library.catalog import scan_child_main

        return scan_child_main()
    if args[:1] == ["_speed"]:  # measures how fast llama.cpp reads weights here, into the cache
        from desktop.app.machine_speed import machine_speed
        from desktop.paths import hearth_paths

        return 0 if machine_speed(hearth_paths()).measured else 1
    if args[:1] == ["_download"] and len(args) == 3:
        from desktop.hub.download_process import child_main

        return child_main(args[1], args[2])

    if args and not args[0].startswith("-platform"):
        from desktop.cli.unix import run_as_unix_tool

        return run_as_unix_tool(lambda: _run_cli(args))

    from desktop.ui.shell.display import missing_display

    problem = missing_display(os.environ, args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    from desktop.logs import setup_logging

    setup_logging()
    import gc

    # No automatic collections while the GUI's modules load and its window is built (about
    # a hundred of them, which find little: what is made then lives as long as the app).
    # create_main_window() collects once and freezes what it built; run_gui() turns
    # collection back on.
    gc.disable()
    from desktop.ui.shell.app import run_gui

    return run_gui(args, server_launcher=_serve_in_background)


def _run_cli(args: list[str]) -> int:
    # Imported here, inside the Ctrl+C and broken-pipe handling: the imports take a while.
    from desktop.logs import setup_logging

    setup_logging()
    from desktop.cli.main import run_cli

    return run_cli(args, serve=_serve)


def _serve_in_background(
    service: ModelService, config: ServerConfig, write_log: Callable[[RequestLog], None]
) -> RunningServer:
    # Starlette and uvicorn load only when the Server page starts the server.
    from desktop.server.run import start_in_background

    return start_in_background(service, config, write_log)


def _serve(config: ServerConfig) -> int:
    # Starlette and uvicorn load only for `hearth serve`.
    from desktop.server.run import serve_headless

    return serve_headless(config)


if __name__ == "__main__":
    sys.exit(main())
