"""The bank's reports on our direct debits: rejects and returns (R-transactions), imported from
its pain.002 status reports, camt.054 debit notifications or a CSV file (docs/billing.md)."""
