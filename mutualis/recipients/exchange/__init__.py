"""The affiliation exchange with the mandatory schemes: the file format (:mod:`.format`), the
outbound file (:mod:`.outbound`) and the acknowledgement import (:mod:`.inbound`)."""
