"""The affiliation exchange with the mandatory schemes: the file format (:mod:`.format`), the
outbound file's steps (:mod:`.outbound`) and records (:mod:`.render`), and the acknowledgement
import (:mod:`.inbound`)."""
