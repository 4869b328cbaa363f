"""FreeSWITCH configuration rendered from the project's models (see :mod:`fs_conf.render`)."""
