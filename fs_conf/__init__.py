"""FreeSWITCH configuration rendered from the project's models: trunks (`fs_conf.render`),
the campaign dialplan (`fs_conf.dialplan`) and the rest of a node's files (`fs_conf.switch`).
See docs/fsconf.md."""

__all__: list[str] = []
