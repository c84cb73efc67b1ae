"""Qt-free: conversations kept in SQLite."""
