"""The processes: the Celery worker and its tasks, the event listener, the ``dialer``
command (`workers.cli`) and the demo.
"""

__all__: list[str] = []
