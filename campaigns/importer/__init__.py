"""Lead-list imports: read a file (`sources`), classify its rows (`classify`, in worker
processes through `pipeline`), store leads and rejects (`store`, `rejects`), run it
resumably (`service`).
"""

__all__: list[str] = []
