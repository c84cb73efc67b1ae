"""The real app in a process of its own, driven to stream one long reply (for the kill test).

    python tests/gui_driver.py MODEL QUESTION

Opens the window (offscreen in tests), loads MODEL, sends QUESTION once it is loaded, and
echoes each piece of the reply to stdout as the window receives it, so the test knows what
the person had seen when it kills this process.
"""

from __future__ import annotations

import sys


def main() -> int:
    from desktop.chats.chat_settings import ChatSettings
    from desktop.engine.protocol import LoadOptions
    from desktop.ui.shell.app import create_application, create_main_window

    model, question = sys.argv[1], sys.argv[2]
    app = create_application([])
    window = create_main_window()
    window.first_run.finish()  # past the first run: the window's pages
    window.show()
    window.chat.update_settings("", ChatSettings(sampling={"max_tokens": 100_000}))

    def echo(text: str) -> None:
        sys.stdout.buffer.write(text.encode("utf-8"))
        sys.stdout.flush()

    window.chat.reply_text.connect(echo)
    window.engine.loaded.connect(lambda _info: window.chat.send(question))
    window.engine.load(LoadOptions(model))
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
