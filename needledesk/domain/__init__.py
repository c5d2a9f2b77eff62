"""The clinic's records and rules, free of Qt and SQL."""
