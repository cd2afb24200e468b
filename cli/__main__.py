"""`python -m cli ...`: the `ledger` command."""
from cli import main

main()
