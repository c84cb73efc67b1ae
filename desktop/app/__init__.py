"""Application services: what happens when a person queues a download, sends a message or runs
a comparison, Qt-free, reported through plain callbacks. The window (desktop.ui), the command
line (desktop.cli) and the coming server drive these; the domain (hub, library, chats,
compare) and the engine sit below."""
