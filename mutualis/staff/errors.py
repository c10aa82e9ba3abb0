class StaffActionRefused(Exception):
    """A staff-administration act the rules forbid; its message is French, for the page."""
