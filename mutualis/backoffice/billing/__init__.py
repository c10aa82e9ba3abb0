"""The cotisations service: members' accounts, the unpaid-premium queue, debit batches and
bank returns."""
