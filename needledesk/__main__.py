"""`python -m needledesk` runs the same entry point as the `needledesk` command."""

from needledesk.cli import main

raise SystemExit(main())
