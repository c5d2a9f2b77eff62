"""Storage: the SQLite file through sqlite-utils. No Qt here; callers get dataclasses back."""
