"""Views of the member space, one module per use case."""
