"""Call state: one call's channel events -> its outcome (`machine`, `causes`), and what
becomes of its lead and its trunk (`retry`, `trunk`). Pure.
"""

__all__: list[str] = []
