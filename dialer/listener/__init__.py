"""The event listener: one Event Socket connection per node -> call outcomes, agent state."""

__all__: list[str] = []
